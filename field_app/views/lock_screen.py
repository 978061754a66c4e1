"""What the app lock draws: the lock screen (keypad, dots, the note under the
PIN, the sign-out progress), the "set your PIN first" screen, the PIN offer
after a volunteer's enrolment, and the lock's two questions. The guard
(views/lock.py) decides when each shows and wires the taps."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import flet as ft

from field_app import theme
from field_app.i18n import t
from field_app.lock import MAX_ATTEMPTS, PIN_MAX, PIN_MIN
from field_app.store import Work

from .common import C
from .models.lock import LockFace
from .models.words import work_text

__all__ = ["LOCK_ROUTE", "SETUP_ROUTE", "LockScreen", "discard_dialog", "forgot_dialog", "offer_banner",
           "setup_view"]

LOCK_ROUTE = "/lock"
SETUP_ROUTE = "/lock/setup"

Handler = Callable[[ft.Event[Any]], Any]  # any control's event: each button types its own


class LockScreen:
    """The lock screen's view and its live parts (`paint` them from a `LockFace`)."""

    def __init__(self, lang: str, *, on_digit: Callable[[str], None], on_back: Callable[[], None],
                 on_ok: Callable[[], Awaitable[None]], on_forgot: Callable[[], None]) -> None:
        def _t(key: str, **fmt: Any) -> str:
            return t(key, lang=lang, **fmt)

        s = theme.STATUSES["problem"]
        self.dots = ft.Text("", size=30, font_family=theme.FONT_SEMIBOLD, key="lock.dots",
                             text_align=ft.TextAlign.CENTER, color=C.on_surface)
        dots_box = ft.Container(
            self.dots, height=56, alignment=ft.Alignment.CENTER,
            border=ft.Border.all(1.5, C.outline), border_radius=ft.BorderRadius.all(theme.RADIUS),
            bgcolor=C.surface_container_low,
        )
        self.note_text = ft.Text("", theme_style=ft.TextThemeStyle.BODY_MEDIUM, key="lock.message", expand=True,
                                 color=s.on_container)
        self.wait_text = ft.Text("", theme_style=ft.TextThemeStyle.BODY_LARGE, key="lock.wait",
                                 font_family=theme.FONT_SEMIBOLD, color=s.on_container, visible=False)
        self.note = ft.Container(
            ft.Column([
                ft.Row([ft.Icon(ft.Icons.REPORT_PROBLEM, color=s.strong, size=20), self.note_text], spacing=8,
                       vertical_alignment=ft.CrossAxisAlignment.START),
                self.wait_text,
            ], spacing=4, tight=True),
            bgcolor=s.container, border=ft.Border.all(1.2, s.strong), border_radius=ft.BorderRadius.all(theme.RADIUS),
            padding=ft.Padding.symmetric(horizontal=12, vertical=8), visible=False, key="lock.note",
        )
        self.keys: list[ft.Control] = []

        def key_button(label: str, on_click: Callable[..., Any], *, key: str, icon: Any = None,
                       filled: bool = False) -> ft.Control:
            """A 60 px key. An icon key is named by its icon's semantics label,
            so a screen reader reads the button itself ("Mở khóa, nút")."""
            cls = ft.FilledButton if filled else ft.FilledTonalButton
            content: ft.Control = (ft.Icon(icon, size=28, semantics_label=label) if icon is not None
                                   else ft.Text(label, size=26, font_family=theme.FONT_MEDIUM))
            button = cls(
                content=content, on_click=on_click, key=key, height=60, expand=True,
                style=ft.ButtonStyle(shape=ft.RoundedRectangleBorder(radius=theme.RADIUS), padding=ft.Padding.all(0)),
            )
            self.keys.append(button)
            return button

        def digit(d: str) -> ft.Control:
            return key_button(d, lambda e: on_digit(d), key=f"lock.key.{d}")

        async def ok(e: ft.ControlEvent) -> None:
            await on_ok()

        rows: list[ft.Control] = [ft.Row([digit(d) for d in row], spacing=10) for row in ("123", "456", "789")]
        rows.append(ft.Row([
            key_button(_t("lock.key_back"), lambda e: on_back(), key="lock.key.back",
                       icon=ft.Icons.BACKSPACE_OUTLINED),
            digit("0"),
            key_button(_t("lock.key_ok"), ok, key="lock.key.ok", icon=ft.Icons.ARROW_FORWARD, filled=True),
        ], spacing=10))
        keypad = ft.Column(rows, spacing=10, key="lock.keypad")
        self.progress = ft.Column(
            [ft.ProgressBar(), ft.Text(_t("lock.signing_out"), theme_style=ft.TextThemeStyle.BODY_LARGE,
                                       key="lock.signing_out")],
            spacing=8, visible=False, key="lock.progress",
        )
        self.forgot = ft.TextButton(_t("lock.forgot"), icon=ft.Icons.HELP_OUTLINE, key="lock.forgot",
                                     on_click=lambda e: on_forgot(), height=theme.TOUCH_TARGET)
        body = ft.Column(
            [
                ft.Row([ft.Icon(ft.Icons.LOCK, color=C.primary, size=28),
                        ft.Text(_t("lock.title"), theme_style=ft.TextThemeStyle.TITLE_LARGE, key="lock.title")],
                       spacing=10),
                ft.Text(_t("lock.prompt"), theme_style=ft.TextThemeStyle.BODY_LARGE),
                dots_box,
                self.note,
                keypad,
                self.progress,
                ft.Row([self.forgot], alignment=ft.MainAxisAlignment.CENTER),
            ],
            spacing=12,
            tight=True,
            horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
        )
        self.view = ft.View(
            route=LOCK_ROUTE,
            appbar=ft.AppBar(title=ft.Text(_t("app.name")), automatically_imply_leading=False),
            # full width on a phone, a phone's width in the middle of a laptop's screen
            # (ResponsiveRow follows a window resize on the client, with no round trip)
            controls=[ft.ResponsiveRow([ft.Container(body, key="lock.screen",
                                                     col={"xs": 12, "sm": 8, "md": 6, "lg": 5, "xl": 4})],
                                       alignment=ft.MainAxisAlignment.CENTER)],
            scroll=ft.ScrollMode.AUTO,
            vertical_alignment=ft.MainAxisAlignment.CENTER,
            padding=ft.Padding.symmetric(horizontal=16, vertical=12),
        )

    def paint(self, face: LockFace) -> None:
        """The live parts from the flow's state (no update sent)."""
        self.dots.value = face.dots
        self.dots.semantics_label = face.dots_label
        self.dots.color = C.on_surface if face.typed else C.on_surface_variant
        if face.note is not None:
            s = theme.STATUSES[face.note.style]
            self.note_text.value = face.note.text
            self.note_text.color = s.on_container
            self.note.bgcolor = s.container
            self.note.border = ft.Border.all(1.2, s.strong)
        self.note.visible = face.note is not None
        self.wait_text.visible = face.waiting > 0
        self.wait_text.value = face.wait
        for button in self.keys:
            button.disabled = face.keys_disabled
        self.progress.visible = face.signing_out
        self.forgot.disabled = face.forgot_disabled
        self.forgot.visible = not face.signing_out


def setup_view(lang: str, role: str, minutes: int, form: list[ft.Control]) -> ft.View:
    """A required PIN, before anything else (`form`: views/pin.py's "set" form)."""
    controls = [
        ft.Row([ft.Icon(ft.Icons.LOCK_OUTLINE, color=C.primary, size=28),
                ft.Text(t("lock.setup_title", lang=lang), theme_style=ft.TextThemeStyle.TITLE_LARGE, expand=True)],
               spacing=10),
        ft.Text(t("lock.setup_required", lang=lang, role=t(f"role.{role}", lang=lang), minutes=minutes),
                theme_style=ft.TextThemeStyle.BODY_LARGE, key="lock.setup_required"),
        ft.Text(t("lock.intro.set", lang=lang, min=PIN_MIN, max=PIN_MAX, attempts=MAX_ATTEMPTS),
                theme_style=ft.TextThemeStyle.BODY_MEDIUM, color=C.on_surface_variant),
        *form,
    ]
    return ft.View(
        route=SETUP_ROUTE,
        appbar=ft.AppBar(title=ft.Text(t("app.name", lang=lang)), automatically_imply_leading=False),
        controls=[ft.ResponsiveRow([ft.Container(ft.Column(controls, spacing=14, tight=True),
                                                 col={"xs": 12, "sm": 10, "md": 8, "lg": 6, "xl": 5})],
                                   alignment=ft.MainAxisAlignment.CENTER)],
        scroll=ft.ScrollMode.AUTO,
        padding=ft.Padding.all(16),
    )


def offer_banner(lang: str, *, later: Handler, set_now: Handler) -> ft.Banner:
    """After a volunteer's enrolment: a PIN is offered, and may wait."""
    return ft.Banner(
        leading=ft.Icon(ft.Icons.LOCK_OUTLINE, color=C.primary),
        content=ft.Text(t("lock.offer", lang=lang), theme_style=ft.TextThemeStyle.BODY_MEDIUM, key="lock.offer"),
        actions=[
            ft.TextButton(t("lock.offer_later", lang=lang), on_click=later, key="lock.offer_later"),
            ft.FilledButton(t("lock.offer_set", lang=lang), on_click=set_now, key="lock.offer_set"),
        ],
        bgcolor=C.primary_container,
    )


def forgot_dialog(lang: str, pending: Work, *, cancel: Handler, confirm: Handler) -> ft.AlertDialog:
    """"Quên mã PIN?": signing out is the way, and what it costs."""
    return ft.AlertDialog(
        modal=True,
        icon=ft.Icon(ft.Icons.HELP_OUTLINE, color=C.primary),
        title=ft.Text(t("lock.forgot_title", lang=lang)),
        content=ft.Text(t("lock.forgot_body", lang=lang, work=work_text(pending, lang=lang)) if pending.total
                        else t("lock.forgot_body_all_sent", lang=lang), key="lock.forgot_body"),
        actions=[
            ft.TextButton(t("common.cancel", lang=lang), on_click=cancel, key="lock.forgot_cancel"),
            ft.FilledButton(t("lock.forgot_confirm", lang=lang), on_click=confirm, key="lock.forgot_confirm"),
        ],
    )


def discard_dialog(lang: str, left: Work, reason: str, *, stay: Handler, discard: Handler) -> ft.AlertDialog:
    """The sign-out could not send `left` (visits, people …): drop them, or stay."""
    work = work_text(left, lang=lang)
    s = theme.STATUSES["problem"]
    return ft.AlertDialog(
        modal=True,
        icon=ft.Icon(ft.Icons.REPORT_PROBLEM, color=s.strong),
        title=ft.Text(t("settings.unsent_title", lang=lang, work=work)),
        content=ft.Text(t("settings.unsent_body", lang=lang, work=work, reason=reason),
                        key="lock.unsent_body"),
        actions=[
            ft.TextButton(t("settings.unsent_stay", lang=lang), on_click=stay, key="lock.unsent_stay"),
            ft.FilledButton(t("settings.unsent_discard", lang=lang, work=work), key="lock.unsent_discard",
                            on_click=discard, style=ft.ButtonStyle(bgcolor=s.strong, color="#FFFFFF")),
        ],
    )
