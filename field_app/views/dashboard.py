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
See docs/dashboard.md.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Callable, Optional

import flet as ft

from campaign import followup as followup_rules
from campaign import vocabulary as v
from campaign.areas import commune as official_commune
from campaign.areas import is_commune_code
from campaign.totals import VIETNAM
from field_app import theme
from field_app.app_state import server_api
from field_app.i18n import format_number, get_language, t, vocab_label
from field_app.net.errors import SyncError
from field_app.net.server_api import Download, ServerApi
from field_app.screen import Screen
from field_app.store import Store

from .common import card_pill, on_screen, vneid_pill
from .dashboard_charts import active_by_day, hamlet_chart, progress_chart
from .leader import STALE_AFTER_HOURS, LeaderScreens, relative_time
from .shell import Shell

__all__ = ["DashboardScreens", "LISTS", "Snapshot", "register"]

log = logging.getLogger(__name__)

ROUTE = "/totals"
FOLLOWUP = ROUTE + "/followup"
TEAM = ROUTE + "/team"
IMPORT_ROUTE = ROUTE + "/import"  # views/imports.py: the target list
CAMPAIGN_ROUTE = ROUTE + "/campaign"  # views/campaign_settings.py: target, dates, retention
COMMUNE_KEY = "dashboard.commune"  # shell.ui: the admin's chosen commune
SNAPSHOT_KEY = "dashboard.snapshot"  # shell.ui: the last answers, so a re-render does not refetch

#: The server's follow-up lists, in the order an officer works through them.
LISTS = ("card_capture", "level2", "activation", "home_capture", "revisit")
#: A list -> its need in campaign.followup (the same labels as the workbook's sheet).
NEED = {"level2": "l2"}
LIST_ICONS = {"card_capture": ft.Icons.BADGE_OUTLINED, "level2": ft.Icons.LOCAL_POLICE_OUTLINED,
              "activation": ft.Icons.PHONELINK_LOCK, "home_capture": ft.Icons.HOME_WORK_OUTLINED,
              "revisit": ft.Icons.EVENT_REPEAT}
#: Roles that see the teams' table and the follow-up lists with their downloads: the
#: issue gives leaders reading and reviewing, officers exports and follow-up.
COMMUNE_ROLES = frozenset({"officer", "admin"})
HALF = {"xs": 12, "lg": 6}  # a ResponsiveRow column: the whole width on a phone, half on a laptop
DAYS_SHOWN = 14  # the by-day table: the last two weeks (the chart shows the whole campaign)
PAGE_SIZE = 100  # follow-up rows a page (the server's default; it allows up to 1000)
VNEID_GRID = (("l1", ("l1_pending", "l1_approved", "l1_active")), ("l2", ("l2_pending", "l2_approved", "l2_active")))


def register(shell: Shell, *, store: Optional[Store] = None, api: Optional[ServerApi] = None
             ) -> "DashboardScreens":
    """Plug the dashboard into the shell (routes in the module docstring).

    store: the device's Store (default `shell.store`): its server, token and scope.
    api: the online calls (default: the device's `server_api`, or `ServerApi(store)`)."""
    store = store if store is not None else shell.store
    if store is None:
        raise ValueError("the dashboard needs the device's Store: pass store= or give the shell one")
    screens = DashboardScreens(shell, store, api if api is not None else server_api(shell.device, store))
    shell.screens[ROUTE] = screens.screen
    shell.register_detail(FOLLOWUP + "/:list", screens.followup)
    shell.register_detail(TEAM, screens.team)
    shell.register_detail(TEAM + "/:device_id", screens.quarantined)
    from .campaign_settings import register as register_campaign  # they build on these screens
    from .imports import register as register_imports
    register_imports(shell, screens)
    register_campaign(shell, screens)
    return screens


# ---- words for numbers, dates and failures -------------------------------------------


def percent(share: Optional[float]) -> str:
    """0.8345 -> "83,5 %" (vi) or "83.5 %" (en)."""
    return f"{format_number((share or 0.0) * 100, decimals=1)} %"


def share_of(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def day_text(iso: Optional[str]) -> str:
    """A date as people write it: "28/01/2027"; "28 Jan 2027" in English."""
    if not iso:
        return ""
    day = date.fromisoformat(iso[:10])
    if get_language() == "en":
        return f"{day.day} {day.strftime('%b')} {day.year}"
    return day.strftime("%d/%m/%Y")


def why(exc: Exception) -> str:
    """A failed call in words: no network first of all, else the server's refusal as sent."""
    if getattr(exc, "retryable", False):  # no network, server down or busy, a captive portal
        return t("dashboard.offline")
    return t("dashboard.refused", reason=str(exc))


def _text(value: str, style: Any = ft.TextThemeStyle.BODY_MEDIUM, **kw: Any) -> ft.Text:
    return ft.Text(value, theme_style=style, **kw)


def _muted(value: str, **kw: Any) -> ft.Text:
    return ft.Text(value, theme_style=ft.TextThemeStyle.BODY_SMALL, color=theme.COLORS.on_surface_variant, **kw)


def _note(icon: Any, value: str, key: Optional[str] = None) -> ft.Row:
    return ft.Row([ft.Icon(icon, color=theme.COLORS.on_surface_variant, size=22),
                   _text(value, expand=True, key=key)],
                  spacing=10, vertical_alignment=ft.CrossAxisAlignment.START)


def _panel(controls: list[ft.Control], key: Optional[str] = None, title: Optional[str] = None,
           col: Optional[dict[str, int]] = None) -> ft.Container:
    head: list[ft.Control] = [_text(title, ft.TextThemeStyle.TITLE_MEDIUM, font_family=theme.FONT_SEMIBOLD)] \
        if title else []
    return ft.Container(
        content=ft.Column(head + controls, spacing=10),
        bgcolor=theme.COLORS.surface_container_low,
        border=ft.Border.all(1, theme.COLORS.outline_variant),
        border_radius=ft.BorderRadius.all(theme.RADIUS),
        padding=ft.Padding.all(16),
        key=key,
        col=col,
    )


def list_label(name: str) -> str:
    return followup_rules.label(NEED.get(name, name), get_language())


# ---- what one refresh brings ------------------------------------------------------------


@dataclass
class Snapshot:
    """The server's answers for one commune, fetched together."""
    commune: Optional[str]
    communes: list[dict[str, Any]] = field(default_factory=list)  # the admin's choices
    progress: Optional[dict[str, Any]] = None
    hamlets: Optional[dict[str, Any]] = None  # /totals by hamlet: rows and total
    teams: Optional[dict[str, Any]] = None  # /totals by team (officers, admins)
    devices: Optional[list[dict[str, Any]]] = None
    devices_error: Optional[str] = None
    followup_counts: Optional[dict[str, int]] = None  # officers, admins: each list's length
    at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def total(self) -> dict[str, Any]:
        return (self.hamlets or {}).get("total") or {}


class _CommuneTeam:
    """The leader's team screens, asked about the dashboard's commune (an admin's choice;
    an officer's own; a leader's team, as the leader's screens always do)."""

    def __init__(self, api: ServerApi, commune: Callable[[], Optional[str]]) -> None:
        self.api, self.commune = api, commune

    def team_devices(self, commune: Optional[str] = None) -> list[dict[str, Any]]:
        return self.api.team_devices(self.commune())

    def quarantined(self, device_id: str) -> list[dict[str, Any]]:
        return self.api.quarantined(device_id)


# ---- the screens --------------------------------------------------------------------------


class DashboardScreens:
    """The dashboard of one shell (session). Builders are bound methods."""

    def __init__(self, shell: Shell, store: Store, api: ServerApi) -> None:
        self.shell, self.store, self.api = shell, store, api
        self.picker: Optional[ft.FilePicker] = None  # made on the first download, kept (a service)
        self.loading = False
        self.status = ft.Column(spacing=8)
        self.body = ft.Column(spacing=20)
        self.updated: Optional[ft.Text] = None  # "Cập nhật 5 phút trước", redrawn at each sync tick
        self.team_screens = LeaderScreens(shell, store, _CommuneTeam(api, self.team_commune))  # type: ignore[arg-type]

    @property
    def page(self) -> ft.Page:
        return self.shell.page

    @property
    def role(self) -> str:
        return self.shell.role

    @property
    def ui(self) -> dict[str, Any]:
        return self.shell.ui

    # -- which commune ---------------------------------------------------------------------

    def scope_commune(self) -> Optional[str]:
        """The commune the device was enrolled for (officers, leaders); None for an admin."""
        scope = self.store.scope
        code = scope.get("commune") if isinstance(scope, dict) else None
        return code if self.role != "admin" and is_commune_code(code) else None

    @property
    def commune(self) -> Optional[str]:
        """The commune shown: the scope's, else the one picked (or first offered) last time."""
        return self.scope_commune() or self.ui.get(COMMUNE_KEY)

    def team_commune(self) -> Optional[str]:
        """/team/devices?commune=: a leader's answer is the team's whatever it asks."""
        return None if self.role == "leader" else self.commune

    # -- the tab ----------------------------------------------------------------------------

    def screen(self, shell: Shell) -> Screen:
        self.status = ft.Column(spacing=8, key="dashboard:status")
        self.body = ft.Column(spacing=20, key="dashboard:body")
        snapshot = self.ui.get(SNAPSHOT_KEY)
        if isinstance(snapshot, Snapshot) and self._current(snapshot):
            self._draw(snapshot)
        if self.loading:  # an answer is on its way: it will be drawn here
            self._draw_status(snapshot if isinstance(snapshot, Snapshot) else None, loading=True)
        elif not (isinstance(snapshot, Snapshot) and self._current(snapshot)):
            self.refresh()
        shell.live(self._tick)
        action = ft.IconButton(ft.Icons.REFRESH, tooltip=t("dashboard.refresh"), key="dashboard:refresh_action",
                               width=theme.TOUCH_TARGET, height=theme.TOUCH_TARGET, on_click=lambda e: self.refresh())
        return Screen([self.status, self.body], actions=[action])

    def _current(self, snapshot: Snapshot) -> bool:
        wanted = self.commune
        return wanted is None or snapshot.commune == wanted

    def refresh(self) -> None:
        """Ask the server again (the figures shown stay until the answer is in)."""
        if self.loading:
            return
        self.loading = True
        self._draw_status(self.ui.get(SNAPSHOT_KEY), loading=True)
        self.page.run_task(self._reload)

    async def _reload(self) -> None:
        role, commune = self.role, self.commune
        try:
            snapshot = await asyncio.to_thread(self._fetch, role, commune)
        except Exception as exc:  # SyncError: offline or refused; anything else must not hang on "loading"
            if not isinstance(exc, SyncError):
                log.exception("dashboard: loading %s failed", commune)
            self.loading = False
            self._show_failure(exc)
            return
        self.loading = False
        picked = self.ui.get(COMMUNE_KEY)
        if role == "admin" and picked and picked != commune:  # another commune was picked meanwhile
            self.refresh()
            return
        self.ui[SNAPSHOT_KEY] = snapshot
        if snapshot.commune and role == "admin":
            self.ui[COMMUNE_KEY] = snapshot.commune
        if on_screen(self.status, self.page):
            self._draw(snapshot)
            self.page.update()

    def _fetch(self, role: str, commune: Optional[str]) -> Snapshot:
        """Every answer the dashboard draws (blocking: runs in a worker thread)."""
        communes: list[dict[str, Any]] = []
        if role == "admin" or commune is None:
            communes = self.api.communes()
            codes = [c.get("code") for c in communes]
            if commune not in codes:
                commune = codes[0] if codes else None
        if commune is None:
            return Snapshot(None, communes)
        snapshot = Snapshot(commune, communes, progress=self.api.progress(commune),
                            hamlets=self.api.totals(commune, "hamlet"))
        if role in COMMUNE_ROLES:
            snapshot.teams = self.api.totals(commune, "team")
            snapshot.followup_counts = self.api.followup_counts(commune)
        try:  # the figures stand without it
            snapshot.devices = self.api.team_devices(None if role == "leader" else commune)
        except SyncError as exc:
            snapshot.devices_error = why(exc)
        return snapshot

    def _show_failure(self, exc: Exception) -> None:
        if not on_screen(self.status, self.page):
            return
        old = self.ui.get(SNAPSHOT_KEY)
        self._draw_status(old if isinstance(old, Snapshot) and self._current(old) else None, failure=exc)
        if not (isinstance(old, Snapshot) and self._current(old)):
            self.body.controls = []
        self.page.update()

    def _tick(self, status: Any, data_changed: bool) -> None:
        """Each background sync: say again how old the figures are (that line only, so an
        admin's open commune menu is left alone)."""
        snapshot = self.ui.get(SNAPSHOT_KEY)
        if self.updated is not None and isinstance(snapshot, Snapshot) and on_screen(self.updated, self.page):
            self.updated.value = self._updated_words(snapshot)
            self.updated.update()

    @staticmethod
    def _updated_words(snapshot: Snapshot) -> str:
        return t("dashboard.updated", ago=relative_time(snapshot.at.isoformat()),
                 time=snapshot.at.astimezone(VIETNAM).strftime("%H:%M"))

    # -- the top: which commune, how fresh, refresh --------------------------------------------

    def _draw_status(self, snapshot: Optional[Snapshot], *, loading: bool = False,
                     failure: Optional[Exception] = None) -> None:
        lines: list[ft.Control] = [self._title(snapshot)]
        self.updated = None
        if loading:
            lines.append(ft.Row([ft.ProgressRing(width=22, height=22, stroke_width=3),
                                 _text(t("dashboard.loading"), expand=True)], spacing=12, key="dashboard:loading"))
        elif snapshot is not None:
            self.updated = _text(self._updated_words(snapshot), expand=True, key="dashboard:updated")
            lines.append(ft.Row([
                ft.Icon(ft.Icons.UPDATE, size=20, color=theme.COLORS.on_surface_variant),
                self.updated,
                ft.OutlinedButton(t("dashboard.refresh"), icon=ft.Icons.REFRESH, height=theme.TOUCH_TARGET,
                                  key="dashboard:refresh", on_click=lambda e: self.refresh()),
            ], spacing=8))
        if failure is not None:
            words = why(failure)
            if snapshot is not None:
                words = t("dashboard.showing_old", reason=words)
            icon = ft.Icons.CLOUD_OFF if getattr(failure, "retryable", False) else ft.Icons.ERROR_OUTLINE
            lines += [_panel([_note(icon, words, key="dashboard:failure")]),
                      theme.big_button(t("common.retry"), icon=ft.Icons.REFRESH, filled=False, key="dashboard:retry",
                                       on_click=lambda e: self.refresh())]
        self.status.controls = lines

    def _title(self, snapshot: Optional[Snapshot]) -> ft.Control:
        code = snapshot.commune if snapshot is not None else self.commune
        if self.role == "admin" and snapshot is not None and snapshot.communes:
            return self._picker(snapshot)
        if not code:
            return _text(t("dashboard.title"), ft.TextThemeStyle.TITLE_LARGE)
        place = official_commune(code)
        return ft.Column([
            _text(place.full_name, ft.TextThemeStyle.TITLE_LARGE, key="dashboard:commune"),
            _muted(t("dashboard.commune_line", province=place.province, code=code)),
        ], spacing=2)

    def _picker(self, snapshot: Snapshot) -> ft.Control:
        """The admin's commune: every commune in scope with data or a campaign."""
        def chosen(e: ft.ControlEvent) -> None:
            code = e.control.value
            if code and code != self.ui.get(COMMUNE_KEY):
                self.ui[COMMUNE_KEY] = code
                self.refresh()

        # the name only: a phone shows the chosen one in 300 px and clips, not ellipsizes, what is
        # longer; the province is on the line below, the figures in the tiles
        options = [ft.DropdownOption(key=c["code"], text=c.get("name") or c["code"])
                   for c in snapshot.communes if c.get("code")]
        lines: list[ft.Control] = [ft.Container(  # room above for the field's floating label
            ft.Row([ft.Dropdown(key="dashboard:commune_picker", label=t("dashboard.pick_commune"),
                                value=snapshot.commune, options=options, on_select=chosen, expand=True)]),
            padding=ft.Padding.only(top=8))]
        if snapshot.commune:
            place = official_commune(snapshot.commune)
            lines.append(_muted(t("dashboard.commune_line", province=place.province, code=place.code)))
        return ft.Column(lines, spacing=4)

    # -- the body ------------------------------------------------------------------------------

    def _draw(self, snapshot: Snapshot) -> None:
        self._draw_status(snapshot)
        recorded = _note(ft.Icons.INFO_OUTLINE, t("totals.recorded_by_team"), key="dashboard:recorded")
        if snapshot.commune is None or snapshot.progress is None:
            self.body.controls = [recorded, _note(ft.Icons.TRAVEL_EXPLORE, t("dashboard.no_commune"))]
            return
        progress, total = snapshot.progress, snapshot.total
        sections: list[ft.Control] = [recorded]
        if not progress.get("whole_commune", True):
            sections.append(_note(ft.Icons.GROUPS, t("dashboard.team_only")))
        # on a laptop the target and the daily chart sit side by side, above the hamlets' bars
        sections += [self._headline(progress, total),
                     ft.ResponsiveRow([self._target(progress), self._daily(progress)], spacing=12, run_spacing=12),
                     self._hamlet_bars(snapshot)]
        if self.role in COMMUNE_ROLES:
            sections.append(self._followups(snapshot))
        sections += [self._statuses(total),
                     self._table(snapshot.hamlets or {}, t("dashboard.by_hamlet"), t("dashboard.col.hamlet"),
                                 "dashboard:hamlets")]
        if snapshot.teams is not None:
            sections.append(self._table(snapshot.teams, t("dashboard.by_team"), t("dashboard.col.team"),
                                        "dashboard:teams"))
        sections += [self._by_day(progress), self._sync(snapshot)]
        self.body.controls = sections

    # headline ------------------------------------------------------------------------------

    def _tile(self, label: str, value: str, detail: str, key: str, share: Optional[float] = None) -> ft.Container:
        """A headline figure. On a laptop four tiles side by side; on a phone each is one
        compact line (the words left, the figure right), so the four fit on one screen."""
        big = _text(value, ft.TextThemeStyle.HEADLINE_SMALL, font_family=theme.FONT_SEMIBOLD, key=key)
        words = _text(label, ft.TextThemeStyle.LABEL_LARGE, color=theme.COLORS.on_surface_variant)
        if self.shell.wide:
            lines: list[ft.Control] = [words, big]
        else:
            lines = [ft.Row([ft.Column([words, _muted(detail)], spacing=2, expand=True), big], spacing=12,
                            vertical_alignment=ft.CrossAxisAlignment.CENTER)]
        if share is not None:
            lines.append(ft.ProgressBar(value=min(1.0, share), height=8, color=theme.STATUSES["done"].hue,
                                        bgcolor=theme.COLORS.surface_container_high,
                                        border_radius=ft.BorderRadius.all(4)))
        if self.shell.wide:
            lines.append(_muted(detail))
        tile = _panel(lines, col={"xs": 12, "sm": 6, "lg": 3})
        tile.content.spacing = 6
        if not self.shell.wide:
            tile.padding = ft.Padding.symmetric(horizontal=16, vertical=12)
        return tile

    def _headline(self, progress: dict[str, Any], total: dict[str, Any]) -> ft.Control:
        households, visited = int(total.get("households") or 0), int(total.get("visited") or 0)
        people = int(total.get("people") or 0)
        eid, chip = int(total.get("eid_active") or 0), int(total.get("chip_card") or 0)
        return ft.ResponsiveRow([
            self._tile(t("dashboard.tile.visited"), format_number(visited),
                       t("dashboard.tile.visited_detail", households=format_number(households),
                         share=percent(share_of(visited, households)),
                         revisit=format_number(int(total.get("revisit") or 0))),
                       "dashboard:visited", share_of(visited, households)),
            self._tile(t("dashboard.tile.eid"), format_number(eid),
                       t("dashboard.tile.of_people", share=percent(share_of(eid, people)),
                         people=format_number(people)),
                       "dashboard:eid", share_of(eid, people)),
            self._tile(t("dashboard.tile.chip"), format_number(chip),
                       t("dashboard.tile.of_people", share=percent(share_of(chip, people)),
                         people=format_number(people)),
                       "dashboard:chip", share_of(chip, people)),
            self._tile(t("dashboard.tile.helped"), format_number(int(total.get("helped") or 0)),
                       t("dashboard.tile.visits", visits=format_number(int(total.get("visits") or 0))),
                       "dashboard:helped"),
        ], spacing=12, run_spacing=12, key="dashboard:headline")

    # target and pace ---------------------------------------------------------------------------

    def _target(self, progress: dict[str, Any]) -> ft.Control:
        target, forecast, campaign = progress.get("target"), progress.get("forecast"), progress.get("campaign")
        edit = [ft.OutlinedButton(t("campaign.edit"), icon=ft.Icons.EDIT_CALENDAR, height=theme.TOUCH_TARGET,
                                  key="dashboard:campaign", on_click=lambda e: self.shell.go(CAMPAIGN_ROUTE))] \
            if self.role in COMMUNE_ROLES else []
        if not target or not forecast or not campaign:
            return _panel([_note(ft.Icons.FLAG_OUTLINED, t("dashboard.no_campaign")), *edit], key="dashboard:target",
                          title=t("dashboard.target.title"), col=HALF)
        goal, eid = int(target.get("people") or 0), int(progress.get("eid_active") or 0)
        if target.get("kind") == "percent":
            aim = t("dashboard.target.percent", n=format_number(goal), value=target.get("value"),
                    deadline=day_text(target.get("deadline")))
        else:
            aim = t("dashboard.target.people", n=format_number(goal), deadline=day_text(target.get("deadline")))
        lines: list[ft.Control] = [
            _text(campaign.get("name") or "", ft.TextThemeStyle.BODY_LARGE, font_family=theme.FONT_MEDIUM),
            _text(aim),
            ft.ProgressBar(value=min(1.0, share_of(eid, goal)), height=10, color=theme.STATUSES["done"].hue,
                           bgcolor=theme.COLORS.surface_container_high, border_radius=ft.BorderRadius.all(5)),
            _text(t("dashboard.target.reached", eid=format_number(eid), goal=format_number(goal),
                    share=percent(share_of(eid, goal))), key="dashboard:target_reached"),
            ft.Row([self._pace_chip(forecast)], wrap=True),
            _text(self.forecast_sentence(forecast, target), ft.TextThemeStyle.BODY_LARGE, key="dashboard:forecast"),
        ]
        lines += [_muted(line) for line in self._pace_lines(progress, forecast)]
        return _panel(lines + edit, key="dashboard:target", title=t("dashboard.target.title"), col=HALF)

    @staticmethod
    def _pace_chip(forecast: dict[str, Any]) -> ft.Control:
        if not forecast.get("short_of_target"):
            return theme.status_chip("done", t("dashboard.pace.reached"))
        if forecast.get("needed_a_day") is None:
            return theme.status_chip("problem", t("dashboard.pace.late"))
        if forecast.get("on_track"):
            return theme.status_chip("done", t("dashboard.pace.on_track"))
        return theme.status_chip("revisit", t("dashboard.pace.behind"))

    @staticmethod
    def forecast_sentence(forecast: dict[str, Any], target: dict[str, Any]) -> str:
        """The server's forecast, said from its numbers in the UI's language (the server's
        own `text_vi` / `text_en` would not follow a language switch, nor our number format)."""
        deadline = day_text(target.get("deadline"))
        short = int(forecast.get("short_of_target") or 0)
        at_deadline = percent(forecast.get("share_at_deadline"))
        if short == 0:
            return t("dashboard.forecast.reached", percent=at_deadline, date=deadline)
        if forecast.get("needed_a_day") is None:
            return t("dashboard.forecast.late", date=deadline, short=format_number(short))
        return t("dashboard.forecast.pace", percent=at_deadline, date=deadline,
                 needed=format_number(int(forecast["needed_a_day"])))

    @staticmethod
    def _pace_lines(progress: dict[str, Any], forecast: dict[str, Any]) -> list[str]:
        lines = []
        if forecast.get("days_left"):
            lines.append(t("dashboard.forecast.days_left", n=format_number(int(forecast["days_left"]))))
        pace = {name: format_number(float(forecast.get(f"{name}_a_day") or 0), decimals=1)
                for name in ("activated", "helped", "visited")}
        # a server that counts activations by day projects them; an older one projects people helped
        exact = "activated_a_day" in forecast
        lines.append(t("dashboard.forecast.basis_active" if exact else "dashboard.forecast.basis",
                       days=forecast.get("window_days") or 0, **pace))
        households = int(progress.get("households") or 0)
        if households and forecast.get("days_left"):
            lines.append(t("dashboard.forecast.visits", percent=percent(forecast.get("visited_share_at_deadline")),
                           n=format_number(int(forecast.get("visited_at_deadline") or 0)),
                           households=format_number(households)))
        days_to_all = forecast.get("days_to_visit_all")
        if days_to_all == 0:
            lines.append(t("dashboard.forecast.all_visited"))
        elif days_to_all:
            lines.append(t("dashboard.forecast.visit_all", n=format_number(int(days_to_all))))
        if not exact:
            lines.append(t("dashboard.forecast.upper_bound"))
        return lines

    # charts ----------------------------------------------------------------------------------

    def _room(self) -> float:
        """About how wide a full-width panel's inside is (the hamlet chart scrolls past it)."""
        width = float(self.page.width or 390)
        around = (88 + 1 + 48) if self.shell.wide else 32  # the rail and padding, or the phone's padding
        return max(240.0, width - around - 34)

    def _daily(self, progress: dict[str, Any]) -> ft.Control:
        daily = progress_chart(progress)
        explain = "dashboard.chart.progress_explain_active" if active_by_day(progress) is not None \
            else "dashboard.chart.progress_explain"
        return _panel([_muted(t(explain)), daily] if daily
                      else [_note(ft.Icons.SHOW_CHART, t("dashboard.chart.no_days"))],
                      key="dashboard:progress_chart", title=t("dashboard.chart.progress_title"), col=HALF)

    def _hamlet_bars(self, snapshot: Snapshot) -> ft.Control:
        bars = hamlet_chart((snapshot.hamlets or {}).get("rows") or [], width=self._room())
        return _panel([bars] if bars else [_note(ft.Icons.BAR_CHART, t("dashboard.chart.no_hamlets"))],
                      key="dashboard:hamlet_chart", title=t("dashboard.chart.hamlets_title"))

    # people by status, help, blockers ----------------------------------------------------------

    def _count_line(self, label: str, n: int, whole: int, key: str) -> ft.Control:
        return ft.Column([
            ft.Row([_text(label, expand=True), _text(format_number(n), font_family=theme.FONT_MEDIUM, key=key),
                    _muted(percent(share_of(n, whole)), width=58, text_align=ft.TextAlign.RIGHT)], spacing=8),
            ft.ProgressBar(value=share_of(n, whole), height=4, color=theme.COLORS.primary,
                           bgcolor=theme.COLORS.surface_container_high),
        ], spacing=2)

    def _breakdown(self, title: str, vocab: Any, counts: dict[str, int], whole: int, key: str,
                   codes: Optional[tuple[str, ...]] = None, note: Optional[str] = None) -> ft.Container:
        lines: list[ft.Control] = [_muted(note)] if note else []
        lines += [self._count_line(vocab_label(vocab, code), int(counts.get(code) or 0), whole, f"{key}:{code}")
                  for code in (codes or vocab.codes)]
        return _panel(lines, key=key, title=title, col=HALF)

    def _vneid(self, counts: dict[str, int], people: int) -> ft.Container:
        """Level 1 and level 2, each pending / approved / active: a small grid, then the rest."""
        def cell(value: str, key: Optional[str] = None, strong: bool = False) -> ft.Control:
            return ft.Container(_text(value, key=key, font_family=theme.FONT_SEMIBOLD if strong else None,
                                      text_align=ft.TextAlign.RIGHT), expand=1, alignment=ft.Alignment.CENTER_RIGHT)

        head = ft.Row([ft.Container(expand=1)] + [cell(t(f"dashboard.vneid.{s}"), strong=True)
                                                    for s in ("pending", "approved", "active")], spacing=8)
        rows = [ft.Row([ft.Container(_text(t(f"dashboard.vneid.{level}"), font_family=theme.FONT_MEDIUM), expand=1)]
                       + [cell(format_number(int(counts.get(code) or 0)), key=f"dashboard:vneid:{code}")
                          for code in codes], spacing=8)
                for level, codes in VNEID_GRID]
        others = [self._count_line(vocab_label(v.VNEID, code), int(counts.get(code) or 0), people,
                                   f"dashboard:vneid:{code}") for code in ("no_app", "unknown", "not_eligible")]
        return _panel([head, *rows, ft.Divider(height=1), *others], key="dashboard:vneid",
                      title=t("dashboard.vneid.title"), col=HALF)

    def _statuses(self, total: dict[str, Any]) -> ft.Control:
        people = int(total.get("people") or 0)
        return ft.ResponsiveRow([
            self._breakdown(t("dashboard.card.title"), v.CARD, total.get("card") or {}, people, "dashboard:card",
                            note=t("dashboard.of_people", n=format_number(people))),
            self._vneid(total.get("vneid") or {}, people),
            self._breakdown(t("dashboard.actions.title"), v.ACTIONS, total.get("actions") or {},
                            int(total.get("visits") or 0), "dashboard:actions",
                            note=t("dashboard.actions.note", n=format_number(int(total.get("visits") or 0)))),
            self._breakdown(t("dashboard.blockers.title"), v.BLOCKERS, total.get("blockers") or {}, people,
                            "dashboard:blockers", note=t("dashboard.of_people", n=format_number(people))),
        ], spacing=12, run_spacing=12)

    # tables -------------------------------------------------------------------------------------

    def _table(self, answer: dict[str, Any], title: str, name_header: str, key: str) -> ft.Control:
        rows = answer.get("rows") or []
        if not rows:
            return _panel([_note(ft.Icons.TABLE_ROWS, t("dashboard.table.empty"))], key=key, title=title)
        # a team's hamlets may overlap another's: only the by-hamlet total is a sum of its rows
        totals = answer.get("total") if answer.get("by") == "hamlet" else None
        body = self._data_table(rows, totals, name_header, key) if self.shell.wide else self._row_cards(rows, key)
        return _panel([_muted(t("dashboard.table.count", n=format_number(len(rows)))), body], key=key, title=title)

    def _by_day(self, progress: dict[str, Any]) -> ft.Control:
        """The work of each day, newest first (the last DAYS_SHOWN): what the by-day counters
        hold (first visits, visits, people helped, e-IDs activated). State counters (cards,
        statuses) have no day, so they are by hamlet and team only."""
        days = [d for d in reversed(progress.get("days") or []) if isinstance(d, dict)][:DAYS_SHOWN]
        title = t("dashboard.by_day")
        if not days:
            return _panel([_note(ft.Icons.TABLE_ROWS, t("dashboard.table.empty"))], key="dashboard:days", title=title)
        names = ("visited", "visits", "helped", "activated")
        if self.shell.wide:
            table = ft.DataTable(
                columns=[ft.DataColumn(ft.Text(t("dashboard.col.day"), font_family=theme.FONT_SEMIBOLD))]
                + [ft.DataColumn(ft.Text(t(f"dashboard.day.{n}"), font_family=theme.FONT_SEMIBOLD), numeric=True)
                   for n in names],
                rows=[ft.DataRow(cells=[ft.DataCell(ft.Text(day_text(d.get("day"))))]
                                 + [ft.DataCell(ft.Text(format_number(int(d.get(n) or 0)))) for n in names])
                      for d in days],
                column_spacing=28, heading_row_height=48, data_row_min_height=40, key="dashboard:days:table")
            body: ft.Control = ft.Row([table], scroll=ft.ScrollMode.AUTO)
        else:
            body = ft.Column([_text(t("dashboard.day.line", day=day_text(d.get("day")),
                                      **{n: format_number(int(d.get(n) or 0)) for n in names}),
                                    key=f"dashboard:day:{d.get('day')}") for d in days], spacing=6)
        return _panel([_muted(t("dashboard.day.explain", n=len(days))), body], key="dashboard:days", title=title)

    @staticmethod
    def _figures(row: dict[str, Any]) -> dict[str, int]:
        return {name: int(row.get(name) or 0)
                for name in ("households", "visited", "revisit", "people", "eid_active", "chip_card", "helped")}

    def _data_table(self, rows: list[dict[str, Any]], totals: Optional[dict[str, Any]], name_header: str,
                    key: str) -> ft.Control:
        headers = [name_header] + [t(f"dashboard.col.{c}") for c in
                                   ("households", "visited", "revisit", "people", "eid_active", "chip_card", "helped")]
        numeric = [False] + [True] * (len(headers) - 1)

        def line(row: dict[str, Any], name: Optional[str] = None) -> ft.DataRow:
            f = self._figures(row)
            cells = [name or row.get("name") or row.get("key") or "",
                     format_number(f["households"]),
                     f"{format_number(f['visited'])} ({percent(share_of(f['visited'], f['households']))})",
                     format_number(f["revisit"]), format_number(f["people"]),
                     f"{format_number(f['eid_active'])} ({percent(share_of(f['eid_active'], f['people']))})",
                     format_number(f["chip_card"]), format_number(f["helped"])]
            font = theme.FONT_SEMIBOLD if name else None
            return ft.DataRow(cells=[ft.DataCell(ft.Text(c, font_family=font)) for c in cells])

        total = [line(totals, t("dashboard.table.total"))] if totals else []
        table = ft.DataTable(
            columns=[ft.DataColumn(ft.Text(h, font_family=theme.FONT_SEMIBOLD), numeric=n)
                     for h, n in zip(headers, numeric)],
            rows=[line(r) for r in rows] + total, column_spacing=28, heading_row_height=48, data_row_min_height=44,
            key=f"{key}:table",
        )
        return ft.Row([table], scroll=ft.ScrollMode.AUTO)

    def _row_cards(self, rows: list[dict[str, Any]], key: str) -> ft.Control:
        """Phones: a card per row instead of a table wider than the screen."""
        cards = []
        for row in rows:
            f = self._figures(row)
            cards.append(ft.Container(ft.Column([
                _text(row.get("name") or row.get("key") or "", ft.TextThemeStyle.TITLE_SMALL,
                      font_family=theme.FONT_SEMIBOLD),
                _text(t("dashboard.card_row.visited", visited=format_number(f["visited"]),
                        households=format_number(f["households"]),
                        share=percent(share_of(f["visited"], f["households"])), revisit=format_number(f["revisit"]))),
                _text(t("dashboard.card_row.eid", eid=format_number(f["eid_active"]), people=format_number(f["people"]),
                        share=percent(share_of(f["eid_active"], f["people"])))),
                _muted(t("dashboard.card_row.more", chip=format_number(f["chip_card"]),
                         helped=format_number(f["helped"]))),
            ], spacing=4), padding=ft.Padding.symmetric(vertical=10),
                border=ft.Border.only(top=ft.BorderSide(1, theme.COLORS.outline_variant)),
                key=f"{key}:{row.get('key')}"))
        return ft.Column(cards, spacing=0)

    # follow-up lists and downloads ---------------------------------------------------------------

    def _followups(self, snapshot: Snapshot) -> ft.Control:
        commune = snapshot.commune or ""
        tiles: list[ft.Control] = [_muted(t("dashboard.followup.explain"))]
        for name in LISTS:
            count = (snapshot.followup_counts or {}).get(name)
            unit = "households" if name == "revisit" else "people"
            detail = (t(f"dashboard.followup.count_{unit}", n=format_number(count)) if count is not None
                      else t("dashboard.followup.count_open"))
            tiles.append(ft.ListTile(
                leading=ft.Icon(LIST_ICONS[name], color=theme.COLORS.primary),
                title=_text(list_label(name), ft.TextThemeStyle.TITLE_SMALL, font_family=theme.FONT_SEMIBOLD),
                subtitle=_text(f"{t(f'dashboard.followup.who.{name}')} · {detail}"),
                trailing=ft.IconButton(ft.Icons.DOWNLOAD, tooltip=t("dashboard.download.csv_of", name=list_label(name)),
                                       key=f"dashboard:download:{name}", width=theme.TOUCH_TARGET,
                                       height=theme.TOUCH_TARGET,
                                       on_click=self._download_handler(
                                           lambda n=name: self.api.followup_csv(commune, n))),
                key=f"dashboard:followup:{name}",
                content_padding=ft.Padding.symmetric(horizontal=4),
                on_click=lambda e, n=name: self.shell.go(f"{FOLLOWUP}/{n}"),
            ))
        tiles += [ft.Divider(height=1),
                  theme.big_button(t("dashboard.download.xlsx"), icon=ft.Icons.TABLE_VIEW, key="dashboard:xlsx",
                                   on_click=self._download_handler(lambda: self.api.totals_xlsx(commune))),
                  theme.big_button(t("dashboard.download.totals_csv"), icon=ft.Icons.DOWNLOAD, filled=False,
                                   key="dashboard:totals_csv",
                                   on_click=self._download_handler(lambda: self.api.totals_csv(commune))),
                  _muted(t("dashboard.download.audited")),
                  ft.Divider(height=1),
                  theme.big_button(t("imports.open"), icon=ft.Icons.UPLOAD_FILE, filled=False, key="dashboard:import",
                                   on_click=lambda e: self.shell.go(IMPORT_ROUTE))]
        return _panel(tiles, key="dashboard:followups", title=t("dashboard.followup.title"))

    def _download_handler(self, fetch: Callable[[], Download]) -> Callable[[Any], Any]:
        async def handler(e: Any) -> None:
            await self.download(fetch, e.control)
        return handler

    async def download(self, fetch: Callable[[], Download], button: Optional[ft.Control] = None) -> None:
        """Fetch a file through the app's own HTTP path (the server wants the device's token,
        which a browser link would not carry), then hand the bytes to the save dialog: in a
        browser that is a download, on a desktop a "Save as", on a phone the share sheet."""
        if button is not None:
            button.disabled = True
            button.update()
        self.shell.snack(t("dashboard.download.working"))
        try:
            try:
                file = await asyncio.to_thread(fetch)
            except SyncError as exc:
                self.shell.snack(t("dashboard.download.failed", reason=why(exc)), error=True)
                return
            try:
                saved = await self.file_picker().save_file(file_name=file.filename, src_bytes=file.data)
            except Exception as exc:  # no save dialog on this platform, or it failed
                log.warning("dashboard: saving %s failed: %s", file.filename, exc)
                self.shell.snack(t("dashboard.download.failed", reason=str(exc)), error=True)
                return
            if saved or self.page.web:  # a browser's download answers nothing
                self.shell.snack(t("dashboard.download.done", name=file.filename))
            else:
                self.shell.snack(t("dashboard.download.cancelled"))
        finally:
            if button is not None:
                button.disabled = False
                if on_screen(button, self.page):
                    button.update()

    def file_picker(self) -> ft.FilePicker:
        """The page's save dialog. A Flet 1.0 service registers itself with the page whose
        handler is running, once; it is kept here, or Flet would drop it as unused."""
        if self.picker is None:
            self.picker = ft.FilePicker()
        return self.picker

    # team sync ---------------------------------------------------------------------------------

    def _sync(self, snapshot: Snapshot) -> ft.Control:
        lines: list[ft.Control] = [_muted(t("dashboard.sync.explain"))]
        if snapshot.devices is None:
            lines.append(_note(ft.Icons.CLOUD_OFF, snapshot.devices_error or t("dashboard.offline")))
        else:
            lines += self._sync_summary(snapshot.devices)
        lines.append(ft.OutlinedButton(t("dashboard.sync.open"), icon=ft.Icons.GROUPS, height=theme.TOUCH_TARGET,
                                       key="dashboard:team", on_click=lambda e: self.shell.go(TEAM)))
        return _panel(lines, key="dashboard:sync", title=t("dashboard.sync.title"))

    @staticmethod
    def _sync_summary(devices: list[dict[str, Any]]) -> list[ft.Control]:
        now = datetime.now(timezone.utc)
        fresh = stale = never = held = held_devices = 0
        for device in devices:
            if device.get("revoked"):
                continue
            times = [x for x in (device.get("last_push_at"), device.get("last_pull_at")) if x]
            if not times:
                never += 1
            elif (now - max(datetime.fromisoformat(x.replace("Z", "+00:00")) for x in times)).total_seconds() \
                    > STALE_AFTER_HOURS * 3600:
                stale += 1
            else:
                fresh += 1
            count = int(device.get("quarantined") or 0)
            held += count
            held_devices += 1 if count else 0
        chips: list[ft.Control] = [theme.status_chip("done", t("dashboard.sync.fresh", n=fresh))]
        if stale:
            chips.append(theme.status_chip("revisit", t("dashboard.sync.stale", n=stale)))
        if never:
            chips.append(theme.status_chip("problem", t("dashboard.sync.never", n=never)))
        active = fresh + stale + never
        return [
            _text(t("dashboard.sync.devices", n=format_number(active)), key="dashboard:sync_devices"),
            ft.Row(chips, wrap=True, spacing=8, run_spacing=8),
            _text(t("dashboard.sync.held", n=format_number(held), devices=format_number(held_devices)) if held
                  else t("dashboard.sync.none_held"), key="dashboard:sync_held"),
        ]

    def team(self, shell: Shell, params: dict[str, str]) -> ft.View:
        return self.team_screens.team(shell, params, route=TEAM)

    def quarantined(self, shell: Shell, params: dict[str, str]) -> ft.View:
        return self.team_screens.quarantined(shell, params, route=TEAM + "/:device_id")

    # -- one follow-up list -----------------------------------------------------------------------

    def followup(self, shell: Shell, params: dict[str, str]) -> ft.View:
        name = params["list"]
        route = f"{FOLLOWUP}/{name}"
        commune = self.commune
        if name not in LISTS:
            return shell.pushed_view(route, t("dashboard.followup.title"),
                                     [_note(ft.Icons.ERROR_OUTLINE, t("dashboard.followup.unknown", name=name))])
        if commune is None:
            return shell.pushed_view(route, list_label(name),
                                     [_note(ft.Icons.TRAVEL_EXPLORE, t("dashboard.no_commune"))])
        pager = _ListPager(self, commune, name)
        return shell.pushed_view(route, list_label(name), [
            _text(t(f"dashboard.followup.who.{name}")),
            _note(ft.Icons.PRIVACY_TIP_OUTLINED, t("dashboard.followup.personal")),
            theme.big_button(t("dashboard.download.csv"), icon=ft.Icons.DOWNLOAD, filled=False, key="followup:csv",
                             on_click=self._download_handler(lambda: self.api.followup_csv(commune, name))),
            pager.start(),
        ])


class _ListPager:
    """A follow-up list as the server pages it: the first page, then "Xem thêm" for the next."""

    def __init__(self, screens: DashboardScreens, commune: str, name: str) -> None:
        self.screens, self.commune, self.name = screens, commune, name
        self.rows: list[dict[str, Any]] = []
        self.after: Optional[str] = None
        self.more = False
        self.column = ft.Column(spacing=12, key="followup:list")

    @property
    def page(self) -> ft.Page:
        return self.screens.page

    def start(self) -> ft.Column:
        self.column.controls = [self._loading()]
        self.page.run_task(self._next_page)
        return self.column

    @staticmethod
    def _loading() -> ft.Control:
        return ft.Row([ft.ProgressRing(width=22, height=22, stroke_width=3), _text(t("dashboard.loading"))],
                      spacing=12, key="followup:loading")

    async def _next_page(self) -> None:
        try:
            answer = await asyncio.to_thread(self.screens.api.followup, self.commune, self.name, self.after,
                                             PAGE_SIZE)
        except Exception as exc:
            if not isinstance(exc, SyncError):
                log.exception("dashboard: the %s list failed", self.name)
            self._failed(exc)
            return
        self.rows += answer.get("rows") or []
        self.after, self.more = answer.get("next"), bool(answer.get("more"))
        if on_screen(self.column, self.page):
            self._draw()
            self.page.update()

    def _failed(self, exc: Exception) -> None:
        if not on_screen(self.column, self.page):
            return
        cards = [self._card(row) for row in self.rows]
        self.column.controls = [*cards, _panel([_note(ft.Icons.CLOUD_OFF, why(exc), key="followup:failure")]),
                                theme.big_button(t("common.retry"), icon=ft.Icons.REFRESH, filled=False,
                                                 key="followup:retry", on_click=lambda e: self._again())]
        self.page.update()

    def _again(self) -> None:
        self.column.controls = [*(self._card(row) for row in self.rows), self._loading()]
        self.page.run_task(self._next_page)

    def _draw(self) -> None:
        people = self.name != "revisit"
        n = format_number(len(self.rows))
        if not self.rows:
            head = t("dashboard.followup.empty")
        elif self.more:
            head = t("dashboard.followup.shown_more", n=n)
        else:
            head = t("dashboard.followup.shown_people" if people else "dashboard.followup.shown_households", n=n)
        controls: list[ft.Control] = [_text(head, ft.TextThemeStyle.TITLE_MEDIUM, key="followup:count")]
        controls += [self._card(row) for row in self.rows]
        if self.more:
            controls.append(theme.big_button(t("dashboard.followup.more"), icon=ft.Icons.EXPAND_MORE, filled=False,
                                             key="followup:more", on_click=lambda e: self._again()))
        self.column.controls = controls

    def _card(self, row: dict[str, Any]) -> ft.Control:
        where = " · ".join(x for x in (row.get("hamlet"), row.get("address")) if x)
        if self.name == "revisit":
            lines: list[ft.Control] = [
                _text(row.get("address") or "", ft.TextThemeStyle.TITLE_SMALL, font_family=theme.FONT_SEMIBOLD),
                _muted(row.get("hamlet") or ""),
                _text(t("dashboard.followup.visits", n=int(row.get("visits") or 0),
                        when=relative_time(row.get("last_visit_at")))),
            ]
            return _panel(lines, key=f"followup:row:{row.get('household_id')}")
        year = row.get("birth_year")
        lines = [
            _text(row.get("label") or "", ft.TextThemeStyle.TITLE_SMALL, font_family=theme.FONT_SEMIBOLD),
            _muted(" · ".join(x for x in (t("dashboard.followup.born", year=year) if year else
                                           t("dashboard.followup.born_unknown"), where) if x)),
            ft.Row([card_pill(row.get("card") or "unknown"), vneid_pill(row.get("vneid") or "unknown")],
                   wrap=True, spacing=6, run_spacing=6),
        ]
        blockers = [vocab_label(v.BLOCKERS, b) for b in row.get("blockers") or [] if b in v.BLOCKERS]
        if blockers:
            lines.append(_text(t("dashboard.followup.blockers", list=", ".join(blockers))))
        needs = [followup_rules.label(n, get_language()) for n in row.get("needs") or []
                 if n in followup_rules.LABELS]
        if needs:
            lines.append(_text(t("dashboard.followup.needs", list=", ".join(needs)), color=theme.COLORS.primary))
        return _panel(lines, key=f"followup:row:{row.get('person_id')}")
