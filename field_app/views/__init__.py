"""The app's screens. `register(shell)` plugs every screen into the shell (each
typed against `views/shell.py`'s `Shell`; a view never imports the shell).

| route | screen | module |
| --- | --- | --- |
| (not enrolled) | enrol | `enrol.py` |
| `/` | home | `home.py` |
| `/households` | household list | `households.py` |
| `/households/new` | add a household | `add.py` |
| `/households/:id` | one household, the visit | `household.py` |
| `/households/:hid/people/new` | add a person | `add.py` |
| `/households/:hid/people/:pid` | one person | `person.py` |
| `/sync` | sync status, quarantine, receipt; the sealed relay's cards ("Gửi nhờ", a receipt back, a carried file) | `sync.py`, `relay.py` |
| `/settings` | language, VNeID QR, scam warning, sign-out, app lock | `settings.py` |
| `/settings/pin/:mode`, `/lock` | set / change / remove the PIN; the lock screen (`install`, from build_app) | `lock.py` |
| `/settings/audit`, `/audit` | the audit log (admins, officers; online) | `audit.py` |
| `/review`, `/review/conflicts`, `/review/team` | the leader's review queue, conflicts, team | `leader.py` |
| `/review/walk` | the leader's walk lists: who holds what, a street given, the hamlet split | `walk_lists.py` |
| `/review/members` | the leader's new member: a named enrolment code (QR, code, link) | `members.py` |
| `/review/settings` | the team's settings: the review's sample rate, the walk lists' lapse days | `team_settings.py` |
| `/totals`, `/totals/followup/:list`, `/totals/team` | the dashboard (leaders, officers, admins) | `dashboard.py` |

Their Flet-free logic (what the dashboard, the leader's screens and the lock
show and decide) is in `views/models/`, tested without the UI.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # importing the views package (and views/models/) costs no Flet
    from .shell import Shell


def register(shell: Shell) -> None:
    from .add import add_household_view, add_person_view
    from .enrol import enrol_view
    from .home import home_screen
    from .household import household_view
    from .households import households_screen
    from .person import person_view
    from .settings import settings_screen
    from .sync import sync_screen

    shell.enrol_screen = enrol_view
    shell.screens.update({
        "/": home_screen,
        "/households": households_screen,
        "/sync": sync_screen,
        "/settings": settings_screen,
    })
    # later registrations win: the specific "new" routes after the ":id" ones
    shell.register_detail("/households/:id", household_view)
    shell.register_detail("/households/:hid/people/:pid", person_view)
    shell.register_detail("/households/new", add_household_view)
    shell.register_detail("/households/:hid/people/new", add_person_view)
    from .audit import register as register_audit  # /audit, /settings/audit: admins and officers, online
    register_audit(shell)
    from .leader import register as register_leader  # /review and its screens
    from .members import register as register_members  # /review/members: a new member's code
    from .walk_lists import register as register_walk_lists  # /review/walk: builds on leader's screens
    screens = register_leader(shell)
    register_walk_lists(shell, screens)
    register_members(shell, screens)
    from .team_settings import register as register_team_settings  # /review/settings: sample, lapse days
    register_team_settings(shell, screens)
    from .campaign_settings import register as register_campaign
    from .dashboard import register as register_dashboard  # /totals and its lists (docs/dashboard.md)
    from .imports import register as register_imports
    dashboard = register_dashboard(shell)
    register_imports(shell, dashboard)  # /totals/import: the target list, on the dashboard's commune
    register_campaign(shell, dashboard)  # /totals/campaign: target, dates, retention
