"""Roles and capabilities: who reads what, who manages what, which kinds a role may write.

One table for the server's authorisation and the app's menus. A capability
answers "may this role do this at all"; where it applies (which commune, which
hamlets) is the caller's scope and stays with the caller: a device's scope
(sync_server's services/enrolment.py `scope_of`, services/access.py
`check_commune`) narrows what a capability opens.

The roles (labels in vocabulary.ROLES): a volunteer records visits in their
hamlets; a leader also leads a team (reviews, assigns, settles conflicts) and
reads its reports; an officer (commune police) watches and manages a commune; an
admin does everything, in every commune.

Capabilities (a StrEnum: each is also its wire-friendly name), where enforced:

- READ_TOTALS: totals by hamlet, team or day (GET /api/v1/totals: any enrolled
  device, within its scope).
- READ_REPORTS: progress and the campaign, communes, conflicts, follow-up counts
  and lists (GET /api/v1/progress, /campaigns/{commune}, /communes, /conflicts,
  /followup*: sync_server/api/deps.py `require`, REPORT_READERS).
- EXPORT: the commune's xlsx/csv exports (GET /api/v1/exports/*: EXPORTERS).
- COMMUNE_DASHBOARD: the app's whole-commune dashboard: the teams' table, the
  follow-up lists and their downloads, the campaign's edit button
  (field_app/views/models/dashboard.py, views/dashboard.py), and the dashboard as the
  first tab (field_app/navigation.py). The server lets leaders read the
  same answers over their team's hamlets (READ_REPORTS); the app shows them to
  commune roles only.
- READ_AUDIT: the audit log (GET /api/v1/audit: AUDIT_READERS; the app's Settings tile,
  field_app/views/audit.py).
- EDIT_CAMPAIGN: a commune's campaign settings (PUT /api/v1/campaigns/{commune}: CAMPAIGN_EDITORS;
  field_app/views/campaign_settings.py).
- IMPORT: target-list imports (POST /api/v1/imports, GET /api/v1/imports/*: IMPORTERS;
  field_app/views/imports.py).
- TEAM_STATUS: the team's devices and their quarantined events
  (GET /api/v1/team/*: TEAM_REVIEWERS).
- ENROL_MEMBERS: a new member of a team: an enrolment code for a named volunteer
  (POST /api/v1/team/enrolments: MEMBER_ENROLLERS; sync_server/services/members.py
  narrows it: a leader, their own team; an officer, a team of their commune; the app's
  "new member" screen, field_app/views/members.py).
- TEAM_SETTINGS: read and change a team's settings, the review's sample rate and the walk
  lists' lapse days (GET/PUT /api/v1/team/settings: TEAM_SETTINGS_EDITORS; the app's leader
  screen): a leader their own team's, an officer the teams
  of their commune (they run them), an admin any team's (sync_server/services/team_settings.py).
  Every phone gets its team's settings on its last pull page, whatever its role.
- PIN_REQUIRED: the app demands a PIN lock (field_app/lock.py REQUIRED_ROLES).
- ANY_COMMUNE: any commune, and no commune at all (every commune): the server's
  `check_commune`, /communes listing every commune, the audit log without a
  commune; the app's commune picker (dashboard, audit), and no household list
  (field_app/navigation.py: such a device holds no hamlets).
- CREATE_HAMLET: the role part of hamlet.created (see `may_write`).
- WRITE_LEADER_KINDS: the kinds in LEADER_KINDS (see `may_write`).
- VOID_ANY_VISIT: take back a visit another device recorded (see `may_void`;
  the server's ingest `authorise`, the app's household screen).
- MERGE_PEOPLE: fold a person recorded twice into one (person.merged): leaders,
  officers and admins, within their scope.
- MANAGE_SESSIONS: create and change capture sessions (session.created,
  session.updated): officers and admins, in their commune (scope: the caller's).
  The app's sessions screen offers "new session" to them.
- RECORD_ATTENDANCE: set a booking `attended` or `no_show` (booking.updated; see
  `may_set_booking`), and read a session's roster (GET /api/v1/exports/roster.xlsx,
  the app's roster screen): leaders, officers and admins.

`may_set_booking(role, status)` answers who sets a booking's status: attendance
(`attended`, `no_show`) is RECORD_ATTENDANCE's; `booked` and `cancelled` are for
anyone who may change the person (every role, within its hamlets).

`may_void(role, own)` answers who takes back a visit (visit.voided): the device
that recorded it (`own`), or a leader or admin, within their hamlets (scope, the
caller's).

`may_write(role, kind)` answers the role part of the server's authorisation of
a pushed event (sync_server/services/ingest.py `authorise`): hamlet.created for an
admin, or a leader *in their own commune* (that part is scope: the caller checks
it); LEADER_KINDS for leaders and admins; every other kind for every role,
within the device's hamlets (scope again, the caller's).

A role outside ROLES can do nothing.
"""
from __future__ import annotations

from enum import StrEnum

from . import vocabulary as v
from .events import KINDS
from .sessions import ATTENDANCE

ROLES: tuple[str, ...] = ("volunteer", "leader", "officer", "admin")
assert v.ROLES.codes == ROLES, "the roles and their labels (vocabulary.ROLES) must agree"

# Kinds that lead a team: reviewing visits, assigning households, settling conflicts, renaming
# or closing hamlets.
LEADER_KINDS = frozenset({"review.decided", "assignment.set", "conflict.resolved", "hamlet.updated"})
assert set(KINDS) >= LEADER_KINDS
MERGE_KIND = "person.merged"  # leaders, officers and admins (MERGE_PEOPLE)
assert MERGE_KIND in KINDS
SESSION_KINDS = frozenset({"session.created", "session.updated"})  # officers and admins (MANAGE_SESSIONS)
assert set(KINDS) >= SESSION_KINDS


class Capability(StrEnum):
    READ_TOTALS = "read_totals"
    READ_REPORTS = "read_reports"
    EXPORT = "export"
    COMMUNE_DASHBOARD = "commune_dashboard"
    READ_AUDIT = "read_audit"
    EDIT_CAMPAIGN = "edit_campaign"
    IMPORT = "import"
    TEAM_STATUS = "team_status"
    ENROL_MEMBERS = "enrol_members"
    PIN_REQUIRED = "pin_required"
    ANY_COMMUNE = "any_commune"
    CREATE_HAMLET = "create_hamlet"
    WRITE_LEADER_KINDS = "write_leader_kinds"
    VOID_ANY_VISIT = "void_any_visit"
    MERGE_PEOPLE = "merge_people"
    MANAGE_SESSIONS = "manage_sessions"
    RECORD_ATTENDANCE = "record_attendance"
    TEAM_SETTINGS = "team_settings"


_EVERYONE = frozenset(ROLES)
_TEAM_AND_COMMUNE = frozenset({"leader", "officer", "admin"})  # who reads a team's reports and devices
_COMMUNE = frozenset({"officer", "admin"})  # who manages a commune
_LEADERS = frozenset({"leader", "admin"})

_GRANTS: dict[Capability, frozenset[str]] = {
    Capability.READ_TOTALS: _EVERYONE,
    Capability.READ_REPORTS: _TEAM_AND_COMMUNE,
    Capability.EXPORT: _TEAM_AND_COMMUNE,
    Capability.COMMUNE_DASHBOARD: _COMMUNE,
    Capability.READ_AUDIT: _COMMUNE,
    Capability.EDIT_CAMPAIGN: _COMMUNE,
    Capability.IMPORT: _COMMUNE,
    Capability.TEAM_STATUS: _TEAM_AND_COMMUNE,
    Capability.ENROL_MEMBERS: _TEAM_AND_COMMUNE,
    Capability.PIN_REQUIRED: _TEAM_AND_COMMUNE,
    Capability.ANY_COMMUNE: frozenset({"admin"}),
    Capability.CREATE_HAMLET: _LEADERS,
    Capability.WRITE_LEADER_KINDS: _LEADERS,
    Capability.VOID_ANY_VISIT: _LEADERS,
    Capability.MERGE_PEOPLE: _TEAM_AND_COMMUNE,
    Capability.MANAGE_SESSIONS: _COMMUNE,
    Capability.RECORD_ATTENDANCE: _TEAM_AND_COMMUNE,
    Capability.TEAM_SETTINGS: _TEAM_AND_COMMUNE,
}
assert set(_GRANTS) == set(Capability)


def can(role: str | None, capability: Capability) -> bool:
    """Whether this role has the capability (anywhere its scope reaches)."""
    return role in _GRANTS[capability]


def roles_with(capability: Capability) -> frozenset[str]:
    """Every role with the capability: for `require_role`-style checks and for menus
    (in ROLES order: `tuple(r for r in ROLES if r in roles_with(c))`)."""
    return _GRANTS[capability]


def may_write(role: str | None, kind: str) -> bool:
    """Whether this role may write events of this kind: the role part only. A leader's
    hamlet.created must also be in their own commune, and every event within the
    device's scope; the caller checks both."""
    if role not in _EVERYONE or kind not in KINDS:
        return False
    if kind == "hamlet.created":
        return can(role, Capability.CREATE_HAMLET)
    if kind in LEADER_KINDS:
        return can(role, Capability.WRITE_LEADER_KINDS)
    if kind == MERGE_KIND:
        return can(role, Capability.MERGE_PEOPLE)
    if kind in SESSION_KINDS:
        return can(role, Capability.MANAGE_SESSIONS)
    return True


def may_set_booking(role: str | None, status: str) -> bool:
    """Whether this role may set a booking to this status (booking.updated): attendance for
    leaders, officers and admins; booked or cancelled for anyone who may change the person."""
    if role not in _EVERYONE:
        return False
    return status not in ATTENDANCE or can(role, Capability.RECORD_ATTENDANCE)


def may_void(role: str | None, own: bool) -> bool:
    """Whether this role may take back a visit: its own (`own`: this device recorded it), or
    any visit for a leader or admin. The visit must also be within the device's hamlets."""
    if role not in _EVERYONE:
        return False
    return own or can(role, Capability.VOID_ANY_VISIT)
