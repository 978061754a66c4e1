"""Import of the target list (officers, admins): `/totals/import`.

    from field_app.views import imports
    imports.register(shell, dashboard)   # the dashboard's commune, API and save dialog

The officer picks an .xlsx or .csv file; the app sends it to the server as a
DRY RUN at once and shows the report: how many households and people are new,
how many are already known, and every bad row with its reason. Only a file
without a bad row can be imported, after a confirmation; the server then
writes it all in one transaction (all or nothing) and the screen follows its
progress (`GET /api/v1/imports/{id}`) with a progress bar. The rows become
events like any other: the volunteers of those hamlets get them at their next
sync. Nothing is parsed on the device: the server's check is the one rule.
See docs/reports.md ("Import of the target list") and docs/dashboard.md.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import flet as ft

from campaign.areas import commune as official_commune
from campaign.roles import Capability, can
from field_app import theme
from field_app.i18n import format_number, t
from field_app.net.errors import SyncError

from .common import on_screen
from .dashboard import IMPORT_ROUTE
from .dashboard import ROUTE as DASHBOARD
from .models.words import failure_text as why
from .models.words import refusal_of
from .shell import Shell

if TYPE_CHECKING:
    from .dashboard import DashboardScreens

__all__ = ["IMPORT", "ImportScreen", "register"]

log = logging.getLogger(__name__)

IMPORT = IMPORT_ROUTE
MAX_BYTES = 10 * 2**20  # the server's limit: refuse at once rather than upload for nothing
ERRORS_SHOWN = 200  # bad rows drawn; the rest are counted (the file must be corrected anyway)
POLL_SECONDS = 0.5
#: problem codes with their own sentence (docs/reports.md); others show the server's words
CODES = ("missing_hamlet", "unknown_hamlet", "ambiguous_hamlet", "hamlet_closed", "missing_address", "too_long",
         "bad_text", "bad_birth_year", "unknown_status", "too_young", "duplicate_row", "consent_declined",
         "date_as_year", "encoding", "changed", "refused", "interrupted", "unknown_commune", "other_commune",
         "ambiguous_commune")


def register(shell: Shell, dashboard: DashboardScreens) -> ImportScreen:
    screen = ImportScreen(dashboard)
    shell.register_detail(IMPORT, screen.view)
    return screen


@dataclass
class Picked:
    name: str
    data: bytes


def problem_text(problem: dict[str, Any]) -> str:
    """"Dòng 12 · Năm sinh: …": where, then why in the UI's language."""
    code = str(problem.get("code") or "")
    reason = t(f"imports.code.{code}") if code in CODES else str(problem.get("detail") or code)
    where = [t("imports.row", n=problem["row"])] if isinstance(problem.get("row"), int) else []
    if problem.get("column"):
        where.append(str(problem["column"]))
    return f"{' · '.join(where)}: {reason}" if where else reason


class ImportScreen:
    """The import screen of one session: the file picked, its report, the running import."""

    def __init__(self, dashboard: DashboardScreens) -> None:
        self.dashboard = dashboard
        self.picked: Picked | None = None
        self.report: dict[str, Any] | None = None
        self.state: dict[str, Any] | None = None  # the running or finished import
        self.busy = False
        self.body = ft.Column(spacing=14)

    @property
    def page(self) -> ft.Page:
        return self.dashboard.page

    @property
    def api(self) -> Any:
        return self.dashboard.api

    # -- the view ---------------------------------------------------------------------------

    def view(self, shell: Shell, params: dict[str, str]) -> ft.View:
        self.body = ft.Column(spacing=14, key="import:body")
        commune = self.dashboard.commune
        if not can(shell.role, Capability.IMPORT):
            self.body.controls = [_note(ft.Icons.LOCK_OUTLINE, t("imports.not_allowed"))]
        elif commune is None:
            self.body.controls = [_note(ft.Icons.TRAVEL_EXPLORE, t("dashboard.no_commune"))]
        else:
            self._draw(commune)
        return shell.pushed_view(IMPORT, t("imports.title"), [self.body])

    def _draw(self, commune: str) -> None:
        controls: list[ft.Control] = [
            ft.Text(t("imports.intro", commune=official_commune(commune).full_name),
                    theme_style=ft.TextThemeStyle.BODY_LARGE),
            _note(ft.Icons.INFO_OUTLINE, t("imports.all_or_nothing")),
            ft.Row([
                ft.OutlinedButton(t("imports.template"), icon=ft.Icons.TABLE_VIEW, height=theme.TOUCH_TARGET,
                                  key="import:template", on_click=self._template(commune)),
                ft.FilledButton(t("imports.choose"), icon=ft.Icons.UPLOAD_FILE, height=theme.TOUCH_TARGET,
                                key="import:choose", disabled=self.busy, on_click=self._choose(commune)),
            ], wrap=True, spacing=8, run_spacing=8),
        ]
        if self.picked is not None:
            controls.append(_note(ft.Icons.DESCRIPTION_OUTLINED, t("imports.file", name=self.picked.name,
                                                                    size=_size(len(self.picked.data)))))
        if self.busy and self.state is None:
            controls.append(ft.Row([ft.ProgressRing(width=22, height=22, stroke_width=3),
                                    ft.Text(t("imports.checking"))], spacing=12, key="import:checking"))
        if self.state is not None:
            controls.append(self._progress(self.state))
        elif self.report is not None:
            controls += self._report(commune, self.report)
        self.body.controls = controls

    def _redraw(self) -> None:
        commune = self.dashboard.commune
        if commune is not None and on_screen(self.body, self.page):
            self._draw(commune)
            self.body.update()

    # -- the template -------------------------------------------------------------------------

    def _template(self, commune: str) -> Any:
        async def handler(e: Any) -> None:
            await self.dashboard.download(lambda: self.api.import_template(commune), e.control)
        return handler

    # -- choosing and checking a file ---------------------------------------------------------------

    def _choose(self, commune: str) -> Any:
        async def handler(e: Any) -> None:
            try:
                files = await self.dashboard.downloads.file_picker().pick_files(
                    dialog_title=t("imports.choose"), file_type=ft.FilePickerFileType.CUSTOM,
                    allowed_extensions=["xlsx", "csv"], with_data=True)
            except Exception as exc:  # no file dialog on this platform
                log.warning("import: the file dialog failed: %s", exc)
                self.dashboard.shell.snack(t("imports.failed", reason=t("error.file_dialog")), error=True)
                return
            if not files:
                return
            picked = await asyncio.to_thread(_read_picked, files[0])
            if picked is None:
                self.dashboard.shell.snack(t("imports.unreadable"), error=True)
                return
            await self.check(commune, picked)
        return handler

    async def check(self, commune: str, picked: Picked) -> None:
        """A dry run of `picked`: the report replaces the last one."""
        self.picked, self.report, self.state = picked, None, None
        if len(picked.data) > MAX_BYTES:
            self.report = {"status": "too_large"}
            self._redraw()
            return
        self.busy = True
        self._redraw()
        try:
            self.report = await asyncio.to_thread(self.api.import_file, commune, picked.data, dry_run=True)
        except Exception as exc:
            self.report = {"status": "failed", "reason": self._reason(exc)}
        finally:
            self.busy = False
        self._redraw()

    def _reason(self, exc: Exception) -> str:
        if not isinstance(exc, SyncError):
            log.exception("import: the server call failed")
            return t("imports.failed", reason=refusal_of(exc))
        return why(exc)

    def _report(self, commune: str, report: dict[str, Any]) -> list[ft.Control]:
        status = report.get("status")
        if status == "too_large":
            return [_note(ft.Icons.ERROR_OUTLINE, t("imports.too_large", mb=MAX_BYTES // 2**20), key="import:error")]
        if status == "failed":
            return [_note(ft.Icons.ERROR_OUTLINE, str(report.get("reason")), key="import:error")]
        errors, warnings = report.get("errors") or [], report.get("warnings") or []
        figures = ft.Column([
            ft.Text(t("imports.report.title"), theme_style=ft.TextThemeStyle.TITLE_MEDIUM,
                    font_family=theme.FONT_SEMIBOLD),
            _figure(t("imports.report.rows"), report.get("rows", 0), "import:rows"),
            _figure(t("imports.report.households"), report.get("households", 0), "import:households"),
            _figure(t("imports.report.people"), report.get("people", 0), "import:people"),
            _figure(t("imports.report.existing"), report.get("existing_households", 0), "import:existing"),
            _figure(t("imports.report.skipped"), report.get("skipped", 0), "import:skipped"),
        ], spacing=6)
        out: list[ft.Control] = [_panel([figures])]
        resolutions = report.get("resolutions") or []
        if resolutions:  # rows naming their commune, old or new: how each was read (issue #14)
            out.append(_panel([
                _note(ft.Icons.MAP_OUTLINED, t("imports.resolutions", n=format_number(len(resolutions)))),
                *[ft.Text(t("imports.resolution", n=r.get("row"), given=r.get("given"), name=r.get("name")),
                          key=f"import:resolution:{i}") for i, r in enumerate(resolutions[:ERRORS_SHOWN])],
            ], key="import:resolutions"))
        if report.get("ignored_columns"):
            out.append(_note(ft.Icons.VIEW_COLUMN_OUTLINED,
                             t("imports.ignored_columns", columns=", ".join(map(str, report["ignored_columns"])))))
        if errors:
            rows = len({e.get("row") for e in errors})
            out.append(_panel([
                _note(ft.Icons.ERROR_OUTLINE, t("imports.bad_rows", rows=format_number(rows),
                                                n=format_number(len(errors))),
                      key="import:bad_rows", color=theme.STATUSES["problem"].strong),
                *[ft.Text(problem_text(p), selectable=True, key=f"import:error:{i}")
                  for i, p in enumerate(errors[:ERRORS_SHOWN])],
                *([ft.Text(t("imports.more_errors", n=format_number(len(errors) - ERRORS_SHOWN)))]
                  if len(errors) > ERRORS_SHOWN else []),
                ft.Text(t("imports.fix_and_retry")),
            ], key="import:errors"))
        if warnings:
            out.append(_panel([_note(ft.Icons.WARNING_AMBER, t("imports.warnings", n=format_number(len(warnings))),
                                     color=theme.STATUSES["revisit"].strong),
                               *[ft.Text(problem_text(w)) for w in warnings[:ERRORS_SHOWN]]], key="import:warnings"))
        if not errors and status == "checked":
            nothing_new = not report.get("households") and not report.get("people")
            out.append(_note(ft.Icons.CHECK_CIRCLE_OUTLINE, t("imports.nothing_new" if nothing_new else "imports.ready"),
                             key="import:nothing_new" if nothing_new else "import:ready",
                             color=theme.STATUSES["done"].strong))
            if not nothing_new:
                out.append(theme.big_button(
                    t("imports.start", households=format_number(report.get("households", 0)),
                      people=format_number(report.get("people", 0))),
                    icon=ft.Icons.PLAYLIST_ADD_CHECK, key="import:start", disabled=self.busy,
                    on_click=lambda e: self._confirm(commune)))
        return out

    # -- importing ----------------------------------------------------------------------------------

    def _confirm(self, commune: str) -> None:
        report = self.report or {}

        def go(e: Any) -> None:
            self.page.pop_dialog()
            self.page.run_task(self.run, commune)

        self.page.show_dialog(ft.AlertDialog(
            modal=True,
            title=ft.Text(t("imports.confirm.title")),
            content=ft.Text(t("imports.confirm.body", households=format_number(report.get("households", 0)),
                              people=format_number(report.get("people", 0)))),
            actions=[ft.TextButton(t("common.cancel"), key="import:cancel", on_click=lambda e: self.page.pop_dialog()),
                     ft.FilledButton(t("imports.confirm.go"), key="import:confirm", on_click=go)],
        ))

    async def run(self, commune: str) -> None:
        """Send the file for real, then follow the server's progress to done or failed."""
        picked = self.picked
        if picked is None or self.busy:
            return
        self.busy = True
        self._redraw()
        try:
            report = await asyncio.to_thread(self.api.import_file, commune, picked.data, dry_run=False)
            if report.get("status") != "running":  # refused: the server found a bad row meanwhile
                self.report = report
                return
            self.state = {"import_id": report["import_id"], "status": "running", "rows_done": 0,
                          "rows_total": report.get("rows", 0)}
            self._redraw()
            await self._follow(report["import_id"])
        except Exception as exc:
            self.state = None
            self.report = {"status": "failed", "reason": self._reason(exc)}
        finally:
            self.busy = False
            self._redraw()

    async def _follow(self, import_id: str) -> None:
        misses = 0
        while True:
            await asyncio.sleep(POLL_SECONDS)
            try:
                state = await asyncio.to_thread(self.api.import_state, import_id)
            except SyncError as exc:
                # the import runs on the server whatever happens here: keep asking a while
                misses += 1
                if not exc.retryable or misses > 20:
                    raise
                continue
            misses = 0
            self.state = state
            if state.get("status") != "running":
                return
            self._redraw()

    def _progress(self, state: dict[str, Any]) -> ft.Control:
        status = state.get("status")
        done, total = int(state.get("rows_done") or 0), int(state.get("rows_total") or 0)
        if status == "done":
            return _panel([
                _note(ft.Icons.CHECK_CIRCLE, t("imports.done", households=format_number(state.get("households", 0)),
                                               people=format_number(state.get("people", 0))),
                      key="import:done", color=theme.STATUSES["done"].strong),
                ft.Text(t("imports.done_next")),
                ft.OutlinedButton(t("imports.back"), icon=ft.Icons.ARROW_BACK, height=theme.TOUCH_TARGET,
                                  key="import:back", on_click=lambda e: self.dashboard.shell.go(DASHBOARD)),
            ])
        if status == "failed":
            reasons = [problem_text(p) for p in state.get("errors") or []] or [t("imports.failed_unknown")]
            return _panel([_note(ft.Icons.ERROR_OUTLINE, t("imports.failed_nothing"), key="import:failed",
                                 color=theme.STATUSES["problem"].strong),
                           *[ft.Text(r) for r in reasons[:ERRORS_SHOWN]]])
        return _panel([
            ft.Text(t("imports.running", done=format_number(done), total=format_number(total)), key="import:running"),
            ft.ProgressBar(value=done / total if total else None, key="import:bar"),
            ft.Text(t("imports.running_note")),
        ])


def _read_picked(file: Any) -> Picked | None:
    """The picked file's bytes: in a browser (and on phones) they come with the pick; on a
    desktop the picker gives a path."""
    data = getattr(file, "bytes", None)
    if data is None and getattr(file, "path", None):
        try:
            with open(file.path, "rb") as f:
                data = f.read(MAX_BYTES + 1)
        except OSError:
            return None
    if data is None:
        return None
    return Picked(str(getattr(file, "name", "") or "danh-sach"), bytes(data))


def _size(n: int) -> str:
    return t("imports.kb", n=format_number(max(1, round(n / 1024)))) if n < 2**20 else \
        t("imports.mb", n=f"{n / 2**20:.1f}")


def _figure(label: str, n: Any, key: str) -> ft.Row:
    return ft.Row([ft.Text(label, expand=True), ft.Text(format_number(int(n or 0)), key=key,
                                                        font_family=theme.FONT_SEMIBOLD)])


def _note(icon: Any, text: str, *, key: str | None = None, color: str | None = None) -> ft.Row:
    return ft.Row([ft.Icon(icon, color=color or theme.COLORS.on_surface_variant, size=22),
                   ft.Text(text, expand=True, key=key)], spacing=10,
                  vertical_alignment=ft.CrossAxisAlignment.START)


def _panel(controls: list[ft.Control], key: str | None = None) -> ft.Container:
    return ft.Container(ft.Column(controls, spacing=8), bgcolor=theme.COLORS.surface_container_low,
                        border=ft.Border.all(1, theme.COLORS.outline_variant),
                        border_radius=ft.BorderRadius.all(theme.RADIUS), padding=ft.Padding.all(16), key=key)

