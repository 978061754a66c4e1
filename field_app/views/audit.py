"""The audit log ("Nhật ký truy cập"): who exported, viewed, imported or changed what, newest first.

    from field_app.views import audit
    audit.register(shell)        # routes /audit and /settings/audit

| route | what |
| --- | --- |
| `/settings/audit` | the log, opened from Settings (Back returns there) |
| `/audit` | the same screen for links from elsewhere |

Who: admins (every commune, or one) and commune police officers (their commune,
which the server enforces). Settings offers it to those two roles only
(`can_open`); anyone else who opens the route gets the server's 403 in words.

Online only: `GET /api/v1/audit?order=newest` through `ServerApi.audit`, 50 rows a
page, "Tải thêm" for the older ones (`before=`). Filters: the commune (admins; an
officer's is fixed) and the kind of action (a family: exports, follow-up lists,
imports, campaign settings, retention purges), both applied by the server. Calls
run in a worker thread, never on the session's loop; offline (or any failure) the
screen says why and offers Retry, and a failed "load more" keeps the rows already
shown. Rows hold no personal data (SECURITY.md, "Audit"), so nothing here is
stored on the device.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime
from typing import Any

import flet as ft

from campaign import areas
from campaign import vocabulary as v
from campaign.ids import device_short
from campaign.roles import Capability, can
from campaign.time import VIETNAM
from field_app import i18n, theme
from field_app.app_state import server_api
from field_app.i18n import format_number, t, vocab_label
from field_app.net.errors import SyncError
from field_app.net.server_api import ServerApi

from .common import C, card, note, on_screen, relative_time
from .models.words import refusal_of
from .shell import Shell

__all__ = ["ACTION_FAMILIES", "PAGE", "ROUTE", "SETTINGS_ROUTE", "AuditScreen", "can_open", "register"]

log = logging.getLogger(__name__)

ROUTE = "/audit"
SETTINGS_ROUTE = "/settings/audit"
PAGE = 50  # rows a page: a screenful or two on a phone, one request on a slow network
ALL = "all"  # the filters' "everything" (a Dropdown option needs a key)
#: the server's `action` filter takes a family: "export" is every "export.*"
ACTION_FAMILIES = ("export", "followup", "conflicts", "import", "campaign", "device", "retention")
FAMILY_ICONS = {"export": ft.Icons.DOWNLOAD, "followup": ft.Icons.LIST_ALT, "conflicts": ft.Icons.CALL_SPLIT,
                "import": ft.Icons.UPLOAD_FILE,
                "campaign": ft.Icons.TUNE, "device": ft.Icons.LOGOUT, "retention": ft.Icons.DELETE_SWEEP_OUTLINED}
ApiFactory = Callable[[], ServerApi]


def can_open(role: str | None) -> bool:
    """Whether Settings offers the log to this role (the server decides in the end)."""
    return can(role, Capability.READ_AUDIT)


def register(shell: Shell, api: ApiFactory | None = None) -> None:
    """Route /audit and /settings/audit to the screen. `api` makes a ServerApi per request
    (default: the device's store, through the device's HTTP client if it has one)."""
    def builder(shell: Shell, params: dict[str, str], route: str) -> ft.View:
        return AuditScreen(shell, api).view(route)

    shell.register_detail(ROUTE, lambda s, p: builder(s, p, ROUTE))
    shell.register_detail(SETTINGS_ROUTE, lambda s, p: builder(s, p, SETTINGS_ROUTE))


# ---- words -------------------------------------------------------------------------------

def _label(key: str, fallback: str) -> str:
    return t(key) if i18n.has(key) else fallback


def action_label(action: str) -> str:
    """"Xuất bảng tổng hợp (Excel)" for export.totals.xlsx; the code itself for one this app does not know."""
    return _label("audit.action." + action.replace(".", "_"), action)


def family_of(action: str) -> str:
    return action.split(".", 1)[0]


def when_text(iso: Any) -> str:
    """"14:05 02/03/2026 · 5 phút trước", in Vietnam's time."""
    try:
        moment = datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    except ValueError:
        return str(iso or "—")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(VIETNAM)
    return t("audit.when", time=local.strftime("%H:%M"), date=local.strftime("%d/%m/%Y"),
             ago=relative_time(moment.isoformat()))


def commune_name(code: str | None) -> str:
    if not code:
        return t("audit.scope.no_commune")
    return areas.commune(code).full_name if areas.is_commune_code(code) else code


def _bytes(n: int) -> str:
    if n < 1024:
        return t("audit.detail.bytes", size=format_number(n))
    return t("audit.detail.kilobytes", size=format_number(max(1, round(n / 1024))))


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def detail_text(action: str, detail: Any) -> str:
    """The facts a row's detail holds, in words ("Danh sách: Cần làm thẻ · 25 dòng"). Unknown keys
    are left out rather than shown raw: the detail is for people, the API has the rest."""
    if not isinstance(detail, dict):
        return ""
    parts: list[str] = []
    if isinstance(detail.get("list"), str):
        parts.append(t("audit.detail.list", name=_label("audit.list." + detail["list"], detail["list"])))
    if detail.get("dry_run") is True:
        parts.append(t("audit.detail.dry_run"))
    if isinstance(detail.get("format"), str) and detail["format"] != "json":  # a file's type; a page is no news
        parts.append(detail["format"].upper())
    if isinstance(detail.get("name"), str) and action == "campaign.update":
        parts.append(detail["name"])
    if isinstance(detail.get("ends"), str):
        parts.append(t("audit.detail.ends", date=_date(detail["ends"])))
    for key in ("rows", "hamlets", "households", "people", "entities", "events", "quarantined", "conflicts",
                "errors", "skipped", "retention_days"):
        n = _count(detail.get(key))
        if n is not None and (n or key in ("rows", "retention_days")):
            parts.append(t(f"audit.detail.{key}", n=format_number(n)))
    if isinstance(detail.get("devices"), list):
        parts.append(t("audit.detail.devices", n=format_number(len(detail["devices"]))))
    size = _count(detail.get("bytes"))
    if size is not None:
        parts.append(_bytes(size))
    return " · ".join(parts)


def _date(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).strftime("%d/%m/%Y")
    except ValueError:
        return iso


def failure_text(exc: Exception) -> str:
    """Why the log could not be read, in one sentence a person can act on."""
    status, code = getattr(exc, "status", None), getattr(exc, "code", None)
    if status == 403 and code == "forbidden":
        return t("audit.error.forbidden")
    if code == "old_server":
        return t("audit.error.old_server")
    if getattr(exc, "retryable", False):  # no network, server down or busy, a captive portal
        return t("audit.error.offline")
    kind = type(exc).__name__
    if kind in ("NotEnrolled", "Revoked", "Purged"):
        return t(f"sync.error.{kind}")
    return t("audit.error.failed", reason=refusal_of(exc))


# ---- the screen ----------------------------------------------------------------------------

class AuditScreen:
    """One showing of the log: its filters, the rows loaded so far, the page being fetched."""

    def __init__(self, shell: Shell, api: ApiFactory | None = None) -> None:
        self.shell = shell
        self.store = shell.store
        device = shell.device
        self.api = api or (lambda: server_api(device, self.store, client=getattr(device, "http", None)))
        scope = self.store.scope if self.store is not None and isinstance(self.store.scope, dict) else {}
        # an officer's commune is the enrolment's: the server would refuse any other
        self.fixed_commune: str | None = None if can(shell.role, Capability.ANY_COMMUNE) else scope.get("commune")
        self.commune: str = self.fixed_commune or shell.ui.get("audit.commune", ALL)
        self.action: str = shell.ui.get("audit.action", ALL)
        self.entries: list[dict[str, Any]] = []
        self.next: int | None = None
        self.more = False
        self.generation = 0  # a filter change makes answers to earlier requests stale
        self.busy = False
        self.list = ft.Column(spacing=10, key="audit.list")
        self.status = ft.Column(spacing=10, key="audit.status")
        self.more_button = theme.big_button(t("audit.more"), icon=ft.Icons.EXPAND_MORE, filled=False,
                                            key="audit.more", on_click=lambda e: self.load(first=False))
        self.more_button.visible = False
        self.commune_picker: ft.Dropdown | None = None

    @property
    def page(self) -> ft.Page:
        return self.shell.page

    # -- building ------------------------------------------------------------------------

    def view(self, route: str) -> ft.View:
        controls: list[ft.Control] = [
            ft.Text(t("audit.intro"), theme_style=ft.TextThemeStyle.BODY_MEDIUM, color=C.on_surface_variant),
            self._filters(),
            self.list,
            self.status,
            self.more_button,
        ]
        self.load(first=True)
        return self.shell.pushed_view(route, t("audit.title"), controls)

    def _communes(self) -> list[str]:
        """For an admin's picker: the communes this device knows (its hamlets'), those seen in the
        log, and the one chosen."""
        known: set[str] = set()
        if self.store is not None:
            known.update(h.commune for h in self.store.hamlets() if h.commune)
        known.update(e["commune"] for e in self.entries if isinstance(e.get("commune"), str))
        if self.commune != ALL:
            known.add(self.commune)
        return sorted(known, key=lambda code: (commune_name(code), code))

    def _commune_options(self) -> list[ft.DropdownOption]:
        return [ft.DropdownOption(key=ALL, text=t("audit.filter.all_communes")),
                *(ft.DropdownOption(key=code, text=commune_name(code)) for code in self._communes())]

    def _filters(self) -> ft.Control:
        action = ft.Dropdown(
            label=t("audit.filter.action"), value=self.action, key="audit.filter.action", expand=True,
            options=[ft.DropdownOption(key=ALL, text=t("audit.filter.all_actions")),
                     *(ft.DropdownOption(key=f, text=t(f"audit.family.{f}")) for f in ACTION_FAMILIES)],
            on_select=lambda e: self._filter(action=e.control.value or ALL),
        )
        if self.fixed_commune is not None or not can(self.shell.role, Capability.ANY_COMMUNE):
            where: ft.Control = note(ft.Icons.LOCATION_CITY, t("audit.filter.commune_fixed",
                                                                  commune=commune_name(self.fixed_commune)),
                                     key="audit.filter.commune_fixed")
        else:
            self.commune_picker = ft.Dropdown(
                label=t("audit.filter.commune"), value=self.commune, key="audit.filter.commune", expand=True,
                options=self._commune_options(),
                on_select=lambda e: self._filter(commune=e.control.value or ALL),
            )
            where = ft.Row([self.commune_picker])
        return ft.Column([where, ft.Row([action])], spacing=12)

    def _filter(self, *, commune: str | None = None, action: str | None = None) -> None:
        if commune is not None and self.fixed_commune is None:
            self.commune = commune
            self.shell.ui["audit.commune"] = commune
        if action is not None:
            self.action = action
            self.shell.ui["audit.action"] = action
        self.load(first=True)
        self.page.update()

    # -- loading -------------------------------------------------------------------------

    def load(self, *, first: bool) -> None:
        """Fetch the first page (again) or the next older one, off the session's loop."""
        if first:
            self.generation += 1
            self.entries, self.next, self.more = [], None, False
            self.list.controls = []
        elif self.busy:
            return  # a second tap while the page is on its way
        self.busy = True
        self.more_button.visible = False
        self.status.controls = [ft.Row([ft.ProgressRing(width=24, height=24, stroke_width=3),
                                        ft.Text(t("common.loading"), theme_style=ft.TextThemeStyle.BODY_MEDIUM)],
                                       spacing=12, key="audit.loading")]
        self.page.run_task(self._fetch, self.generation, None if first else self.next)

    def _page(self, before: int | None) -> dict[str, Any]:
        with closing(self.api()) as api:
            return api.audit(None if self.commune == ALL else self.commune,
                             action=None if self.action == ALL else self.action, before=before, limit=PAGE)

    async def _fetch(self, generation: int, before: int | None) -> None:
        try:
            answer: dict[str, Any] | None = await asyncio.to_thread(self._page, before)
            failure: Exception | None = None
        except SyncError as exc:
            answer, failure = None, exc
        except Exception as exc:  # a bug must not leave the screen on "loading" for ever
            log.exception("audit screen: loading a page failed")
            answer, failure = None, exc
        if generation != self.generation:
            return  # the filters changed meanwhile: a newer request owns the screen
        self.busy = False
        if answer is not None:
            self._show(answer)
        else:
            assert failure is not None
            self._failed(failure)
        if on_screen(self.list, self.page):
            self.page.update()

    def _show(self, answer: dict[str, Any]) -> None:
        self.entries += answer["entries"]
        self.next, self.more = answer["next"], answer["more"]
        self.list.controls += [self._row(entry) for entry in answer["entries"]]
        self.status.controls = []
        if not self.entries:
            self.status.controls = [note(ft.Icons.INFO_OUTLINE, t("audit.empty"), key="audit.empty")]
        elif not self.more:
            self.status.controls = [ft.Text(t("audit.end", count=format_number(len(self.entries))),
                                            theme_style=ft.TextThemeStyle.BODY_SMALL, color=C.on_surface_variant,
                                            key="audit.end")]
        self.more_button.visible = self.more
        if self.commune_picker is not None:  # communes seen in the log join the picker
            self.commune_picker.options = self._commune_options()

    def _failed(self, exc: Exception) -> None:
        s = theme.STATUSES["problem"]
        offline = getattr(exc, "retryable", False)
        self.status.controls = [
            card([ft.Row([ft.Icon(ft.Icons.CLOUD_OFF if offline else ft.Icons.ERROR_OUTLINE, color=s.strong),
                          ft.Text(failure_text(exc), theme_style=ft.TextThemeStyle.BODY_LARGE, expand=True,
                                  color=s.on_container, key="audit.error")],
                         spacing=10, vertical_alignment=ft.CrossAxisAlignment.START)],
                 bgcolor=s.container, border=s.strong),
            theme.big_button(t("common.retry"), icon=ft.Icons.REFRESH, filled=False, key="audit.retry",
                             on_click=lambda e: self.load(first=not self.entries)),
        ]
        self.more_button.visible = False

    # -- one row ---------------------------------------------------------------------------

    def who_text(self, entry: dict[str, Any]) -> str:
        role, device_id = entry.get("role"), entry.get("device_id")
        if role == "cli":
            return t("audit.who.cli")
        role_text = vocab_label(v.ROLES, role) if isinstance(role, str) and role in v.ROLES else str(role or "—")
        if not device_id:
            return role_text
        if self.store is not None and device_id == self.store.device_id:
            return t("audit.who.this_device", role=role_text)
        name = entry.get("name")
        if isinstance(name, str) and name:
            return t("audit.who.named", role=role_text, name=name)
        return t("audit.who.device", role=role_text, id=device_short(str(device_id)))

    def scope_text(self, entry: dict[str, Any]) -> str:
        given = entry.get("scope")
        scope: dict[str, Any] = given if isinstance(given, dict) else {}
        where = commune_name(scope.get("commune") or entry.get("commune"))
        hamlets = scope.get("hamlets")
        if not isinstance(hamlets, list):
            return t("audit.scope.commune", commune=where)
        names = {h.id: h.name for h in self.store.hamlets()} if self.store is not None else {}
        known = [names[h] for h in hamlets if h in names]
        if known and len(known) == len(hamlets) and len(known) <= 3:
            return t("audit.scope.hamlets_named", commune=where, names=", ".join(known))
        return t("audit.scope.hamlets", commune=where, n=format_number(len(hamlets)))

    def _row(self, entry: dict[str, Any]) -> ft.Control:
        action = str(entry.get("action") or "")
        lines: list[ft.Control] = [
            ft.Row([ft.Icon(FAMILY_ICONS.get(family_of(action), ft.Icons.HISTORY), color=C.primary),
                    ft.Text(action_label(action), theme_style=ft.TextThemeStyle.TITLE_MEDIUM,
                            font_family=theme.FONT_SEMIBOLD, expand=True)],
                   spacing=10, vertical_alignment=ft.CrossAxisAlignment.START),
            note(ft.Icons.SCHEDULE, when_text(entry.get("at"))),
            note(ft.Icons.PERSON_OUTLINE, self.who_text(entry)),
            note(ft.Icons.PLACE_OUTLINED, self.scope_text(entry)),
        ]
        details = detail_text(action, entry.get("detail"))
        if details:
            lines.append(note(ft.Icons.INFO_OUTLINE, details))
        return card(lines, padding=14, spacing=6, key=f"audit.entry.{entry.get('id')}")


def settings_tile(shell: Shell) -> list[ft.Control]:
    """Settings' way in: a tile for admins and officers of an enrolled device, nothing for anyone else
    (the route still answers them, with the server's refusal in words)."""
    if not can_open(shell.role) or not shell.signed_in:
        return []
    tile = ft.ListTile(
        leading=ft.Icon(ft.Icons.MANAGE_SEARCH, color=C.primary),
        title=ft.Text(t("audit.settings_title"), theme_style=ft.TextThemeStyle.TITLE_MEDIUM,
                      font_family=theme.FONT_SEMIBOLD),
        subtitle=ft.Text(t("audit.settings_hint"), theme_style=ft.TextThemeStyle.BODY_MEDIUM),
        trailing=ft.Icon(ft.Icons.CHEVRON_RIGHT),
        min_height=theme.TOUCH_TARGET + 16,
        key="settings.audit",
        on_click=lambda e: shell.go(SETTINGS_ROUTE),
    )
    return [ft.Container(tile, bgcolor=C.surface_container_low, border=ft.Border.all(1, C.outline_variant),
                         border_radius=ft.BorderRadius.all(theme.RADIUS))]
