"""The dashboard ("Tổng hợp"): where a commune's campaign stands, from the server.

    from field_app.views import dashboard
    dashboard.register(shell)          # store=shell.store, api=the device's server_api by default

| route | what |
| --- | --- |
| `/totals` (tab; officers' and admins' first) | figures, target and pace, charts, follow-up lists, tables, sync |
| `/totals/followup/:list` | one follow-up list, page by page as the server pages it, with its CSV |
| `/totals/team`, `/totals/team/:device_id` | the leader's team screens, for this commune |

Everything here is the server's: `GET /progress`, `/totals` (by hamlet, and by
team for officers and admins), `/team/devices`, `/communes` (the admin's
picker), `/followup` and the exports. Nothing is counted on the device, so
the figures are the ones the workbook and the police's copy show. The calls
run in a worker thread, never on the session's loop; offline, the screen says
so and offers Retry, and keeps the last figures it had with their time.

The commune: an officer's or leader's comes from the device's enrolment scope
(`store.scope["commune"]`), so an officer can never be shown another
commune; an admin picks one (kept in `shell.ui["dashboard.commune"]`) from
`GET /communes`, which also serves anyone whose scope names none.
What is shown (the snapshot, the figures and sentences) is `models/dashboard.py`;
this module draws it. See docs/dashboard.md.
"""
from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from typing import Any

import flet as ft

from campaign.areas import commune as official_commune
from campaign.roles import Capability, can
from field_app import theme
from field_app.app_state import server_api
from field_app.i18n import t
from field_app.net.errors import SyncError
from field_app.net.server_api import Download, ServerApi
from field_app.screen import Screen
from field_app.store import Store

from . import dashboard_panels as panels
from .common import on_screen
from .downloads import Downloads
from .duplicates import duplicates_view
from .followup import followup_view
from .leader import TeamScreens
from .models import dashboard as m
from .models import resolving
from .models.come_back import come_back_line
from .models.leader import LeaderModel
from .models.words import failure_text
from .sessions import LIST as SESSIONS
from .sessions import register as register_sessions
from .shell import Shell

__all__ = ["DashboardScreens", "register"]

log = logging.getLogger(__name__)

ROUTE = "/totals"
FOLLOWUP = ROUTE + "/followup"
TEAM = ROUTE + "/team"
DUPLICATES = ROUTE + "/duplicates"  # views/duplicates.py: people likely recorded twice
IMPORT_ROUTE = ROUTE + "/import"  # views/imports.py: the target list
CAMPAIGN_ROUTE = ROUTE + "/campaign"  # views/campaign_settings.py: target, dates, retention
COMMUNE_KEY = "dashboard.commune"  # shell.ui: the admin's chosen commune
SNAPSHOT_KEY = "dashboard.snapshot"  # shell.ui: the last answers, so a re-render does not refetch

LIST_ICONS = {"card_capture": ft.Icons.BADGE_OUTLINED, "level2": ft.Icons.LOCAL_POLICE_OUTLINED,
              "activation": ft.Icons.PHONELINK_LOCK, "home_capture": ft.Icons.HOME_WORK_OUTLINED,
              "revisit": ft.Icons.EVENT_REPEAT}


def register(shell: Shell, *, store: Store | None = None, api: ServerApi | None = None) -> DashboardScreens:
    """Plug the dashboard into the shell (routes in the module docstring); the target
    list's import and the campaign's settings build on it (views/__init__.py plugs them in).

    store: the device's Store (default `shell.store`): its server, token and scope.
    api: the online calls (default: the device's `server_api`, or `ServerApi(store)`)."""
    store = store if store is not None else shell.store
    screens = DashboardScreens(shell, store, api if api is not None else server_api(shell.device, store))
    shell.screens[ROUTE] = screens.screen
    shell.register_detail(FOLLOWUP + "/:list", screens.followup)
    shell.register_detail(TEAM, screens.team)
    shell.register_detail(DUPLICATES, lambda sh, params: duplicates_view(sh, DUPLICATES, screens.commune, screens.api))
    shell.register_detail(TEAM + "/:device_id", screens.quarantined)
    register_sessions(shell)
    return screens


class _CommuneTeam:
    """The leader's team screens, asked about the dashboard's commune (an admin's choice;
    an officer's own; a leader's team, as the leader's screens always do)."""

    def __init__(self, api: ServerApi, commune: Callable[[], str | None]) -> None:
        self.api, self.commune = api, commune

    def team_devices(self, commune: str | None = None) -> list[dict[str, Any]]:
        return self.api.team_devices(self.commune())

    def quarantined(self, device_id: str) -> list[dict[str, Any]]:
        return self.api.quarantined(device_id)


# ---- the screens --------------------------------------------------------------------------


class DashboardScreens:
    """The dashboard of one shell (session). Builders are bound methods."""

    def __init__(self, shell: Shell, store: Store, api: ServerApi) -> None:
        self.shell, self.store, self.api = shell, store, api
        self.downloads = Downloads(shell)  # the save dialog, made on the first download and kept
        self.loading = False
        self.status = ft.Column(spacing=8)
        self.body = ft.Column(spacing=20)
        self.updated: ft.Text | None = None  # "Cập nhật 5 phút trước", redrawn at each sync tick
        team = TeamScreens(shell, LeaderModel(store), _CommuneTeam(api, self.team_commune))
        self.team_screens = team

    @property
    def page(self) -> ft.Page:
        return self.shell.page

    @property
    def role(self) -> str:
        return self.shell.role

    @property
    def ui(self) -> dict[str, Any]:
        return self.shell.ui

    @property
    def commune(self) -> str | None:
        """The commune shown: the scope's, else the one picked (or first offered) last time."""
        return m.scope_commune(self.store.scope, self.role) or self.ui.get(COMMUNE_KEY)

    def team_commune(self) -> str | None:
        """/team/devices?commune=: a leader's answer is the team's whatever it asks."""
        return None if self.role == "leader" else self.commune

    def _snapshot(self) -> m.Snapshot | None:
        snapshot = self.ui.get(SNAPSHOT_KEY)
        return snapshot if isinstance(snapshot, m.Snapshot) else None

    def _current(self) -> m.Snapshot | None:
        """The last answers, if they are about the commune to show."""
        snapshot = self._snapshot()
        return snapshot if snapshot is not None and snapshot.shows(self.commune) else None

    # -- the tab ----------------------------------------------------------------------------

    def screen(self, shell: Shell) -> Screen:
        self.status = ft.Column(spacing=8, key="dashboard:status")
        self.body = ft.Column(spacing=20, key="dashboard:body")
        current = self._current()
        if current is not None:
            self._draw(current)
        if self.loading:  # an answer is on its way: it will be drawn here
            self._draw_status(self._snapshot(), loading=True)
        elif current is None:
            self.refresh()
        shell.live(self._tick)
        action = ft.IconButton(ft.Icons.REFRESH, tooltip=t("dashboard.refresh"), key="dashboard:refresh_action",
                               width=theme.TOUCH_TARGET, height=theme.TOUCH_TARGET, on_click=lambda e: self.refresh())
        return Screen([self.status, self.body], actions=[action])

    def refresh(self) -> None:
        """Ask the server again (the figures shown stay until the answer is in)."""
        if self.loading:
            return
        self.loading = True
        self._draw_status(self._snapshot(), loading=True)
        self.page.run_task(self._reload)

    async def _reload(self) -> None:
        role, commune = self.role, self.commune
        try:
            snapshot = await asyncio.to_thread(m.load_snapshot, self.api, role, commune)
        except Exception as exc:  # SyncError: offline or refused; anything else must not hang on "loading"
            if not isinstance(exc, SyncError):
                log.exception("dashboard: loading %s failed", commune)
            self.loading = False
            self._show_failure(exc)
            return
        self.loading = False
        picked = self.ui.get(COMMUNE_KEY)
        if can(role, Capability.ANY_COMMUNE) and picked and picked != commune:  # another one was picked meanwhile
            self.refresh()
            return
        self.ui[SNAPSHOT_KEY] = snapshot
        if snapshot.commune and can(role, Capability.ANY_COMMUNE):
            self.ui[COMMUNE_KEY] = snapshot.commune
        if on_screen(self.status, self.page):
            self._draw(snapshot)
            self.page.update()

    def _show_failure(self, exc: Exception) -> None:
        if not on_screen(self.status, self.page):
            return
        current = self._current()
        self._draw_status(current, failure=exc)
        if current is None:
            self.body.controls = []
        self.page.update()

    def _tick(self, status: Any, data_changed: bool) -> None:
        """Each background sync: say again how old the figures are (that line only, so an
        admin's open commune menu is left alone)."""
        snapshot = self._snapshot()
        if self.updated is not None and snapshot is not None and on_screen(self.updated, self.page):
            self.updated.value = m.updated_words(snapshot)
            self.updated.update()

    # -- the top: which commune, how fresh, refresh --------------------------------------------

    def _draw_status(self, snapshot: m.Snapshot | None, *, loading: bool = False,
                     failure: Exception | None = None) -> None:
        lines: list[ft.Control] = [self._title(snapshot)]
        self.updated = None
        if loading:
            lines.append(ft.Row([ft.ProgressRing(width=22, height=22, stroke_width=3),
                                 panels.text(t("dashboard.loading"), expand=True)], spacing=12, key="dashboard:loading"))
        elif snapshot is not None:
            self.updated = panels.text(m.updated_words(snapshot), expand=True, key="dashboard:updated")
            lines.append(ft.Row([
                ft.Icon(ft.Icons.UPDATE, size=20, color=theme.COLORS.on_surface_variant),
                self.updated,
                ft.OutlinedButton(t("dashboard.refresh"), icon=ft.Icons.REFRESH, height=theme.TOUCH_TARGET,
                                  key="dashboard:refresh", on_click=lambda e: self.refresh()),
            ], spacing=8))
        if failure is not None:
            words = failure_text(failure)
            if snapshot is not None:
                words = t("dashboard.showing_old", reason=words)
            icon = ft.Icons.CLOUD_OFF if getattr(failure, "retryable", False) else ft.Icons.ERROR_OUTLINE
            lines += [panels.panel([panels.note(icon, words, key="dashboard:failure")]),
                      theme.big_button(t("common.retry"), icon=ft.Icons.REFRESH, filled=False, key="dashboard:retry",
                                       on_click=lambda e: self.refresh())]
        self.status.controls = lines

    def _title(self, snapshot: m.Snapshot | None) -> ft.Control:
        code = snapshot.commune if snapshot is not None else self.commune
        if can(self.role, Capability.ANY_COMMUNE) and snapshot is not None and snapshot.communes:
            return self._picker(snapshot)
        if not code:
            return panels.text(t("dashboard.title"), ft.TextThemeStyle.TITLE_LARGE)
        return ft.Column([
            panels.text(official_commune(code).full_name, ft.TextThemeStyle.TITLE_LARGE, key="dashboard:commune"),
            panels.muted(m.commune_line(code)),
        ], spacing=2)

    def _picker(self, snapshot: m.Snapshot) -> ft.Control:
        """The admin's commune: every commune in scope with data or a campaign."""
        def chosen(e: ft.Event[ft.Dropdown]) -> None:
            code = e.control.value
            if code and code != self.ui.get(COMMUNE_KEY):
                self.ui[COMMUNE_KEY] = code
                self.refresh()

        options = [ft.DropdownOption(key=code, text=text) for code, text in m.commune_options(snapshot.communes)]
        lines: list[ft.Control] = [ft.Container(  # room above for the field's floating label
            ft.Row([ft.Dropdown(key="dashboard:commune_picker", label=t("dashboard.pick_commune"),
                                value=snapshot.commune, options=options, on_select=chosen, expand=True)]),
            padding=ft.Padding.only(top=8))]
        if snapshot.commune:
            lines.append(panels.muted(m.commune_line(snapshot.commune)))
        return ft.Column(lines, spacing=4)

    # -- the body ------------------------------------------------------------------------------

    def _draw(self, snapshot: m.Snapshot) -> None:
        self._draw_status(snapshot)
        recorded = panels.note(ft.Icons.INFO_OUTLINE, t("totals.recorded_by_team"), key="dashboard:recorded")
        if snapshot.commune is None or snapshot.progress is None:
            self.body.controls = [recorded, panels.note(ft.Icons.TRAVEL_EXPLORE, t("dashboard.no_commune"))]
            return
        progress, total = snapshot.progress, snapshot.total
        sections: list[ft.Control] = [recorded]
        if not progress.get("whole_commune", True):
            sections.append(panels.note(ft.Icons.GROUPS, t("dashboard.team_only")))
        # on a laptop the target and the daily chart sit side by side, above the hamlets' bars
        wide = self.shell.wide
        commune_role = can(self.role, Capability.COMMUNE_DASHBOARD)
        edit: list[ft.Control] = [ft.OutlinedButton(
            t("campaign.edit"), icon=ft.Icons.EDIT_CALENDAR, height=theme.TOUCH_TARGET, key="dashboard:campaign",
            on_click=lambda e: self.shell.go(CAMPAIGN_ROUTE))] if commune_role else []
        windows = come_back_line(total)  # the evening and weekend shifts are planned from it
        sections += [panels.headline(total, wide=wide),
                     *([panels.note(ft.Icons.SCHEDULE, windows, key="dashboard:come_back")] if windows else []),
                     ft.ResponsiveRow([panels.target(progress, edit), panels.daily(progress)], spacing=12,
                                      run_spacing=12),
                     panels.hamlet_bars(snapshot, wide=wide)]
        if commune_role:
            sections += [self._followups(snapshot), panels.blockers(snapshot)]
        if can(self.role, Capability.MERGE_PEOPLE):
            sections.append(theme.big_button(t("duplicates.open"), icon=ft.Icons.PEOPLE_OUTLINE, filled=False,
                                              key="dashboard:duplicates", on_click=lambda e: self.shell.go(DUPLICATES)))
        if can(self.role, Capability.RECORD_ATTENDANCE):
            sections.append(theme.big_button(t("sessions.open"), icon=ft.Icons.EVENT_OUTLINED, filled=False,
                                              key="dashboard:sessions", on_click=lambda e: self.shell.go(SESSIONS)))
        windows_by_hamlet = panels.come_back_table(snapshot.hamlets or {}, wide=wide)
        sections += [panels.statuses(total),
                     panels.table(snapshot.hamlets or {}, t("dashboard.by_hamlet"), t("dashboard.col.hamlet"),
                                  "dashboard:hamlets", wide=wide),
                     *([windows_by_hamlet] if windows_by_hamlet is not None else [])]
        if snapshot.teams is not None:
            sections.append(panels.table(snapshot.teams, t("dashboard.by_team"), t("dashboard.col.team"),
                                         "dashboard:teams", wide=wide))
        sections += [panels.by_day(progress, wide=wide), self._sync(snapshot)]
        self.body.controls = sections


    # follow-up lists and downloads ---------------------------------------------------------------

    def _followups(self, snapshot: m.Snapshot) -> ft.Control:
        commune = snapshot.commune or ""
        tiles: list[ft.Control] = [panels.muted(t("dashboard.followup.explain"))]
        kids = resolving.children_line(snapshot.children)
        if kids:
            tiles.append(panels.note(ft.Icons.CHILD_CARE, kids, key="dashboard:children"))
        for tile in m.followup_tiles(snapshot.followup_counts):
            tiles.append(ft.ListTile(
                leading=ft.Icon(LIST_ICONS[tile.name], color=theme.COLORS.primary),
                title=panels.text(tile.label, ft.TextThemeStyle.TITLE_SMALL, font_family=theme.FONT_SEMIBOLD),
                subtitle=panels.text(tile.subtitle),
                trailing=ft.IconButton(ft.Icons.DOWNLOAD, tooltip=tile.download, key=f"dashboard:download:{tile.name}",
                                       width=theme.TOUCH_TARGET, height=theme.TOUCH_TARGET,
                                       on_click=self._download_handler(
                                           functools.partial(self.api.followup_csv, commune, tile.name))),
                key=f"dashboard:followup:{tile.name}",
                content_padding=ft.Padding.symmetric(horizontal=4),
                on_click=lambda e, n=tile.name: self.shell.go(f"{FOLLOWUP}/{n}"),
            ))
        tiles += [ft.Divider(height=1),
                  theme.big_button(t("dashboard.download.xlsx"), icon=ft.Icons.TABLE_VIEW, key="dashboard:xlsx",
                                   on_click=self._download_handler(lambda: self.api.totals_xlsx(commune))),
                  theme.big_button(t("dashboard.download.totals_csv"), icon=ft.Icons.DOWNLOAD, filled=False,
                                   key="dashboard:totals_csv",
                                   on_click=self._download_handler(lambda: self.api.totals_csv(commune))),
                  panels.muted(t("dashboard.download.audited")),
                  ft.Divider(height=1),
                  theme.big_button(t("imports.open"), icon=ft.Icons.UPLOAD_FILE, filled=False, key="dashboard:import",
                                   on_click=lambda e: self.shell.go(IMPORT_ROUTE))]
        return panels.panel(tiles, key="dashboard:followups", title=t("dashboard.followup.title"))

    def _download_handler(self, fetch: Callable[[], Download]) -> Callable[[ft.Event[Any]], Any]:
        async def handler(e: ft.Event[Any]) -> None:
            await self.download(fetch, e.control)
        return handler

    async def download(self, fetch: Callable[[], Download], button: ft.BaseControl | None = None) -> None:
        """Fetch a file and hand it to the save dialog (views/downloads.py)."""
        await self.downloads.download(fetch, button)

    # team sync ---------------------------------------------------------------------------------

    def _sync(self, snapshot: m.Snapshot) -> ft.Control:
        lines: list[ft.Control] = [panels.muted(t("dashboard.sync.explain"))]
        if snapshot.devices is None:
            lines.append(panels.note(ft.Icons.CLOUD_OFF, snapshot.devices_error or t("dashboard.offline")))
        else:
            summary = m.sync_summary(snapshot.devices)
            lines += [
                panels.text(summary.devices_line(), key="dashboard:sync_devices"),
                ft.Row([theme.status_chip(*chip) for chip in summary.chips()], wrap=True, spacing=8, run_spacing=8),
                panels.text(summary.held_line(), key="dashboard:sync_held"),
            ]
        lines.append(ft.OutlinedButton(t("dashboard.sync.open"), icon=ft.Icons.GROUPS, height=theme.TOUCH_TARGET,
                                       key="dashboard:team", on_click=lambda e: self.shell.go(TEAM)))
        return panels.panel(lines, key="dashboard:sync", title=t("dashboard.sync.title"))

    def team(self, shell: Shell, params: dict[str, str]) -> ft.View:
        return self.team_screens.team(shell, params, route=TEAM)

    def quarantined(self, shell: Shell, params: dict[str, str]) -> ft.View:
        return self.team_screens.quarantined(shell, params, route=TEAM + "/:device_id")

    # -- one follow-up list -----------------------------------------------------------------------

    def followup(self, shell: Shell, params: dict[str, str]) -> ft.View:
        name = params["list"]
        snapshot = self._current()
        counts = snapshot.followup_counts if snapshot is not None else None
        return followup_view(shell, f"{FOLLOWUP}/{name}", name, self.commune, self.api,
                             lambda commune: self._download_handler(lambda: self.api.followup_csv(commune, name)),
                             total=(counts or {}).get(name))
