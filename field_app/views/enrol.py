"""Enrol: a one-time code (typed or pasted) or the QR code's link.

The link `gocua://enrol?server=URL&code=CODE` fills both fields. There is no
camera scanner: Flet 1.0.5 has no QR-scanning control without downloading an
extension package (see docs/phone.md); the phone's camera app reads the QR
code and its link is pasted here.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import flet as ft

from field_app import i18n, theme
from field_app.app_state import EnrolFailed, parse_enrolment
from field_app.i18n import t

from .common import C, card, full_width, heading, note

ERRORS = ("no_code", "bad_server", "unknown_code", "used_code", "expired_code", "offline", "rejected",
          "other_device")


def _from_route(route: str) -> tuple[str, str]:
    """A deep link (gocua://enrol?server=…&code=…, opened by the phone's camera
    app) arrives as the route's query: (code, server)."""
    query = parse_qs(urlparse(route or "").query)
    return (query.get("code") or [""])[0], (query.get("server") or [""])[0]


def enrol_view(shell: Any) -> ft.View:
    store = shell.store
    linked_code, linked_server = _from_route(shell.page.route)
    server_default = linked_server or shell.ui.get("enrol.server") \
        or (store.server_url if store is not None else None) or shell.server_url or ""

    error_text = ft.Text("", theme_style=ft.TextThemeStyle.BODY_LARGE, expand=True, key="enrol.error_text",
                         color=theme.STATUSES["problem"].on_container)
    error = ft.Container(
        ft.Row([ft.Icon(ft.Icons.REPORT_PROBLEM, color=theme.STATUSES["problem"].strong), error_text],
               spacing=10, vertical_alignment=ft.CrossAxisAlignment.START),
        bgcolor=theme.STATUSES["problem"].container,
        border=ft.Border.all(1.2, theme.STATUSES["problem"].strong),
        border_radius=ft.BorderRadius.all(theme.RADIUS),
        padding=ft.Padding.all(12),
        visible=False,
        key="enrol.error",
    )
    progress = ft.ProgressBar(visible=False, key="enrol.progress")

    def show_error(kind: str, **fmt: Any) -> None:
        error_text.value = t(f"enrol.error.{kind}", **fmt)
        error.visible = True

    def on_code_change(e: ft.ControlEvent) -> None:
        parsed = parse_enrolment(code_field.value or "")
        if parsed.server:
            server_field.value = parsed.server
            shell.ui["enrol.server"] = parsed.server
        error.visible = False

    async def paste(e: ft.ControlEvent) -> None:
        text = await ft.Clipboard().get()
        if text:
            code_field.value = text.strip()
            on_code_change(e)

    async def submit(e: ft.ControlEvent) -> None:
        parsed = parse_enrolment(code_field.value or "")
        server = parsed.server or (server_field.value or "").strip()
        if not parsed.code:
            show_error("no_code")
            return
        button.disabled = True
        progress.visible = True
        error.visible = False
        shell.page.update()
        try:
            answer = await shell.blocking(shell.device.enrol, server, parsed.code)
        except EnrolFailed as failed:
            show_error(failed.kind if failed.kind in ERRORS else "rejected", server=server, detail=failed.detail)
            button.disabled = False
            progress.visible = False
            shell.page.update()
            return
        shell.ui.pop("enrol.server", None)
        role = answer.get("role", "volunteer")
        shell.go("/")
        shell.snack(t("enrol.done", role=t(f"role.{role}") if f"role.{role}" in i18n.keys() else role))

    code_field = ft.TextField(
        value=linked_code,
        label=t("enrol.code_label"),
        hint_text="ABCD-EFGH-JKMN",
        key="enrol.code",
        on_change=on_code_change,
        on_submit=submit,
        text_size=18,
        capitalization=ft.TextCapitalization.CHARACTERS,
        autocorrect=False,
        enable_suggestions=False,
        suffix_icon=ft.IconButton(ft.Icons.CONTENT_PASTE, tooltip=t("enrol.paste"), on_click=paste,
                             key="enrol.paste"),
    )
    server_field = ft.TextField(
        label=t("enrol.server_label"),
        hint_text="http://192.168.1.10:8000",
        value=server_default,
        key="enrol.server",
        keyboard_type=ft.KeyboardType.URL,
        autocorrect=False,
        enable_suggestions=False,
        text_size=16,
    )
    button = theme.big_button(t("enrol.submit"), icon=ft.Icons.LOGIN, on_click=submit, key="enrol.submit")

    other = "en" if i18n.get_language(shell.page) == "vi" else "vi"
    language = ft.TextButton(
        t(f"language.{other}"),
        icon=ft.Icons.TRANSLATE,
        on_click=lambda e: shell.set_language(other),
        key="enrol.language",
    )
    return ft.View(
        route="/enrol",
        appbar=ft.AppBar(title=ft.Text(t("app.name")), actions=[language]),
        scroll=ft.ScrollMode.AUTO,
        padding=ft.Padding.all(16),
        spacing=16,
        controls=[
            ft.Text(t("enrol.title"), theme_style=ft.TextThemeStyle.HEADLINE_SMALL),
            ft.Text(t("enrol.intro"), theme_style=ft.TextThemeStyle.BODY_LARGE),
            full_width(code_field),
            full_width(server_field),
            error,
            progress,
            button,
            note(ft.Icons.QR_CODE_2, t("enrol.qr_hint")),
            card(
                [
                    heading(t("enrol.privacy_title")),
                    note(ft.Icons.LOCK_OUTLINE, t("privacy.never_otp")),
                    note(ft.Icons.VERIFIED_USER_OUTLINED, t("privacy.fake_apps")),
                ],
                bgcolor=C.surface_container,
            ),
        ],
    )
