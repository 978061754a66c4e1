"""The campaign's settings (officers, admins): `/totals/campaign`.

    from field_app.views import campaign_settings
    campaign_settings.register(shell, dashboard)

Name, target (people, or a percent of the people counted), start, deadline,
the campaign's end and how many days personal data is kept after it. The
form reads `GET /api/v1/campaigns/{commune}` (404: a first campaign, with
defaults) and writes `PUT` (audited by the server as campaign.update). The
server's validation is the one rule: its refusal is shown above the form, in
the UI's language, and nothing changes. Dates are chosen on a calendar
(DatePicker) and shown as people write them here (30/04/2027). See docs/dashboard.md and docs/reports.md.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import flet as ft

from campaign.areas import commune as official_commune
from campaign.roles import Capability, can
from campaign.time import VIETNAM
from field_app import theme
from field_app.i18n import t
from field_app.net.errors import SyncError

from .common import full_width, on_screen
from .dashboard import CAMPAIGN_ROUTE, SNAPSHOT_KEY
from .dashboard import ROUTE as DASHBOARD
from .models.words import day_text, refusal_of
from .models.words import failure_text as why
from .shell import Shell

if TYPE_CHECKING:
    from .dashboard import DashboardScreens

__all__ = ["CampaignForm", "parse_day", "register"]

log = logging.getLogger(__name__)

DEFAULT_DAYS = 60  # a first campaign's deadline: two months from today
DEFAULT_PERCENT = 90
DEFAULT_RETENTION = 90  # the server's default (sync_server/store/campaigns.py)
#: the server's refusal codes with their own sentence
CODES = ("bad_name", "bad_target", "bad_date", "bad_retention", "missing_field")


def register(shell: Shell, dashboard: DashboardScreens) -> CampaignForm:
    form = CampaignForm(dashboard)
    shell.register_detail(CAMPAIGN_ROUTE, form.view)
    return form


def parse_day(text: str) -> str | None:
    """"30/04/2027", "30-4-2027" or "2027-04-30" -> "2027-04-30"; None for anything else."""
    text = (text or "").strip().replace("-", "/").replace(".", "/")
    parts = text.split("/")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    day, month, year = (parts[2], parts[1], parts[0]) if len(parts[0]) == 4 else parts
    try:
        return date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return None


def _typed(iso: str | None) -> str:
    """An ISO date as the form shows it, in either language: 30/04/2027 (what parse_day reads back)."""
    return date.fromisoformat(iso[:10]).strftime("%d/%m/%Y") if iso else ""


class CampaignForm:
    """The settings form of one session."""

    def __init__(self, dashboard: DashboardScreens) -> None:
        self.dashboard = dashboard
        self.body = ft.Column(spacing=14)
        self.fields: dict[str, ft.TextField] = {}
        self.kind = "percent"
        self.error = ft.Text("", key="campaign:error", visible=False, color=theme.STATUSES["problem"].strong)

    @property
    def page(self) -> ft.Page:
        return self.dashboard.page

    # -- the view ---------------------------------------------------------------------------------

    def view(self, shell: Shell, params: dict[str, str]) -> ft.View:
        self.body = ft.Column(spacing=14, key="campaign:body")
        commune = self.dashboard.commune
        if not can(shell.role, Capability.EDIT_CAMPAIGN):
            self.body.controls = [ft.Text(t("campaign.not_allowed"))]
        elif commune is None:
            self.body.controls = [ft.Text(t("dashboard.no_commune"))]
        else:
            self.body.controls = [ft.Row([ft.ProgressRing(width=22, height=22, stroke_width=3),
                                          ft.Text(t("dashboard.loading"))], spacing=12)]
            self.page.run_task(self._load, commune)
        return shell.pushed_view(CAMPAIGN_ROUTE, t("campaign.title"), [self.body])

    async def _load(self, commune: str) -> None:
        try:
            current = await asyncio.to_thread(self.dashboard.api.campaign, commune)
        except Exception as exc:
            if not isinstance(exc, SyncError):
                log.exception("campaign settings: loading %s failed", commune)
            self._show([ft.Text(why(exc), key="campaign:failed"),
                        theme.big_button(t("common.retry"), icon=ft.Icons.REFRESH, filled=False, key="campaign:retry",
                                         on_click=lambda e: self.page.run_task(self._load, commune))])
            return
        self._show(self._form(commune, current))

    def _show(self, controls: list[ft.Control]) -> None:
        if on_screen(self.body, self.page):
            self.body.controls = controls
            self.body.update()

    def _form(self, commune: str, current: dict[str, Any] | None) -> list[ft.Control]:
        today = datetime.now(VIETNAM).date()
        c = current or {"name": t("campaign.default_name", commune=official_commune(commune).full_name),
                        "target_kind": "percent", "target_value": DEFAULT_PERCENT, "start": today.isoformat(),
                        "deadline": (today + timedelta(days=DEFAULT_DAYS)).isoformat(), "ends": None,
                        "retention_days": DEFAULT_RETENTION}
        self.kind = c["target_kind"]

        def field(name: str, label: str, value: Any, *, hint: str = "", number: bool = False) -> ft.Row:
            box = ft.TextField(label=label, value="" if value is None else str(value), hint_text=hint or None,
                               key=f"campaign:{name}",
                               keyboard_type=ft.KeyboardType.NUMBER if number else ft.KeyboardType.TEXT)
            self.fields[name] = box
            return full_width(box)

        kinds = ft.SegmentedButton(
            selected=[self.kind], key="campaign:kind",
            segments=[ft.Segment(value="percent", label=ft.Text(t("campaign.kind.percent"))),
                      ft.Segment(value="people", label=ft.Text(t("campaign.kind.people")))],
            on_change=self._kind_changed)
        self.error.visible = False
        controls: list[ft.Control] = [
            ft.Text(t("campaign.intro", commune=official_commune(commune).full_name),
                    theme_style=ft.TextThemeStyle.BODY_LARGE),
            self.error,
            field("name", t("campaign.name"), c["name"]),
            ft.Text(t("campaign.target"), theme_style=ft.TextThemeStyle.TITLE_SMALL),
            kinds,
            field("target_value", t("campaign.target_value"), c["target_value"], number=True),
            self._date_field("start", t("campaign.start"), c["start"], today),
            self._date_field("deadline", t("campaign.deadline"), c["deadline"], today),
            self._date_field("ends", t("campaign.ends"), c.get("ends"), today, hint=t("campaign.ends_hint")),
            field("retention_days", t("campaign.retention"), c["retention_days"], number=True),
            ft.Text(t("campaign.retention_explain"), theme_style=ft.TextThemeStyle.BODY_SMALL),
        ]
        if current and current.get("purge_after"):
            controls.append(ft.Text(t("campaign.purge_after", day=day_text(current["purge_after"])),
                                    key="campaign:purge_after"))
        controls.append(theme.big_button(t("common.save"), icon=ft.Icons.SAVE, key="campaign:save",
                                         on_click=lambda e: self.page.run_task(self.save, commune)))
        return controls

    def _date_field(self, name: str, label: str, value: str | None, today: date, *, hint: str = "") -> ft.Control:
        """A date chosen on a calendar (Flet's DatePicker), not typed: the field shows it as people
        write it (30/04/2027); "ends" may be emptied again."""
        box = ft.TextField(label=label, value=_typed(value), hint_text=hint or None, read_only=True,
                           key=f"campaign:{name}", expand=True)
        self.fields[name] = box

        def picked(e: ft.Event[ft.DatePicker]) -> None:
            chosen: Any = e.control.value  # a datetime, or its ISO text as the client sent it
            day = chosen.date().isoformat() if isinstance(chosen, datetime) else \
                chosen.isoformat() if isinstance(chosen, date) else parse_day(str(chosen or "")[:10])
            if day:
                box.value = _typed(day)
                box.update()

        def pick(e: Any) -> None:
            current = parse_day(box.value or "")
            self.page.show_dialog(ft.DatePicker(
                value=date.fromisoformat(current) if current else today,
                first_date=date(today.year - 5, 1, 1), last_date=date(today.year + 5, 12, 31),
                help_text=label, cancel_text=t("common.cancel"), confirm_text=t("common.ok"),
                on_change=picked))

        def clear(e: Any) -> None:
            box.value = ""
            box.update()

        buttons: list[ft.Control] = [ft.IconButton(ft.Icons.CALENDAR_MONTH, tooltip=t("campaign.pick_date", field=label),
                                                   on_click=pick, key=f"campaign:{name}:pick",
                                                   width=theme.TOUCH_TARGET, height=theme.TOUCH_TARGET)]
        if name == "ends":
            buttons.append(ft.IconButton(ft.Icons.CLEAR, tooltip=t("campaign.clear_date", field=label),
                                         on_click=clear, key=f"campaign:{name}:clear",
                                         width=theme.TOUCH_TARGET, height=theme.TOUCH_TARGET))
        return ft.Row([box, *buttons], spacing=4)

    def _kind_changed(self, e: Any) -> None:
        selected = e.control.selected or []
        if selected:
            self.kind = selected[0]

    # -- saving ----------------------------------------------------------------------------------

    def _body(self) -> dict[str, Any]:
        """The PUT body from the form, or ValueError with the sentence to show."""
        def value(name: str) -> str:
            return (self.fields[name].value or "").strip()

        body: dict[str, Any] = {"name": value("name"), "target_kind": self.kind}
        for name in ("target_value", "retention_days"):
            if not value(name).isdigit():
                raise ValueError(t(f"campaign.bad.{name}"))
            body[name] = int(value(name))
        for name in ("start", "deadline", "ends"):
            if name == "ends" and not value(name):
                body[name] = None
                continue
            day = parse_day(value(name))
            if day is None:
                raise ValueError(t("campaign.bad.date", field=t(f"campaign.{name}")))
            body[name] = day
        return body

    async def save(self, commune: str) -> None:
        try:
            body = self._body()
        except ValueError as bad:
            self._refuse(str(bad))
            return
        try:
            await asyncio.to_thread(self.dashboard.api.put_campaign, commune, body)
        except SyncError as exc:
            self._refuse(refusal_of(exc) if getattr(exc, "code", None) in CODES else why(exc))
            return
        self.dashboard.ui.pop(SNAPSHOT_KEY, None)  # the dashboard asks again: the target moved
        self.dashboard.shell.snack(t("campaign.saved"))
        self.dashboard.shell.go(DASHBOARD)

    def _refuse(self, sentence: str) -> None:
        self.error.value = sentence
        self.error.visible = True
        if on_screen(self.error, self.page):
            self.error.update()
