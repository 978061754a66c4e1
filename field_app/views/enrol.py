"""Enrol: a one-time code (typed or pasted) or the QR code's link.

The link `gocua://enrol?server=URL&code=CODE` fills both fields. There is no
camera scanner: Flet 1.0.5 has no QR-scanning control without downloading an
extension package (see docs/phone.md); the phone's camera app reads the QR
code and its link is pasted here.

After a `410 purged` (the campaign's retention period is over: SECURITY.md,
"Retention") the device has deleted its data and is no longer enrolled, so
every session comes here. While the store keeps the purge notice, this screen
first says what happened (the commune, when, how many unsent changes went with
it); "Đăng ký cho đợt mới" then shows the form, under a one-line reminder. The
notice stays (a restart shows it again) until the next enrolment clears it.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

import flet as ft

from campaign import areas
from campaign.text import HOLDER_NAME_MAX
from campaign.time import VIETNAM
from field_app import i18n, theme
from field_app.app_state import EnrolFailed, parse_enrolment
from field_app.i18n import refusal_text, t
from field_app.net.errors import PurgeNotice
from field_app.signout import purge_notice

from .common import C, card, full_width, heading, note, number
from .shell import Shell

NOTICE_READ = "enrol.purge_notice_read"  # shell.ui: this session has moved on to the form

ERRORS = ("no_code", "bad_name", "bad_server", "unknown_code", "used_code", "expired_code", "offline", "rejected",
          "not_gocua", "other_device")


def _from_route(route: str) -> tuple[str, str]:
    """A deep link (gocua://enrol?server=…&code=…, opened by the phone's camera
    app) arrives as the route's query: (code, server)."""
    query = parse_qs(urlparse(route or "").query)
    return (query.get("code") or [""])[0], (query.get("server") or [""])[0]


def when_text(iso: str | None) -> str:
    """"08:15 ngày 02/03/2026" in Vietnam's time (the campaign's), or "—"."""
    try:
        moment = datetime.fromisoformat((iso or "").replace("Z", "+00:00"))
    except ValueError:
        return "—"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(VIETNAM)
    return t("purge.when", time=moment.strftime("%H:%M"), date=moment.strftime("%d/%m/%Y"))


def commune_name(code: str | None) -> str | None:
    """"Phường Hải Dương" for 10525; the code itself if the list does not know it."""
    if not code:
        return None
    return areas.commune(code).full_name if areas.is_commune_code(code) else code


def notice_lines(notice: PurgeNotice) -> list[str]:
    """The notice in words: what ended, when the data went, what was dropped."""
    commune = commune_name(notice.commune)
    when = when_text(notice.deleted_at)
    lines = [t("purge.body", commune=commune, when=when) if commune else t("purge.body_no_commune", when=when)]
    lines.append(t("purge.dropped", count=number(notice.dropped)) if notice.dropped else t("purge.nothing_dropped"))
    if notice.purged_at:
        lines.append(t("purge.server_at", when=when_text(notice.purged_at)))
    return lines


def _language_button(shell: Shell, key: str) -> ft.TextButton:
    other = "en" if i18n.get_language(shell.page) == "vi" else "vi"
    return ft.TextButton(t(f"language.{other}"), icon=ft.Icons.TRANSLATE, key=key,
                         on_click=lambda e: shell.set_language(other))


def purged_view(shell: Shell, notice: PurgeNotice) -> ft.View:
    """The message first: the campaign is over and this device's personal data is gone."""
    s = theme.STATUSES["problem"]
    lines = notice_lines(notice)

    def go_on(e: ft.Event[ft.Button]) -> None:
        shell.ui[NOTICE_READ] = True
        shell.render()

    message = ft.Column(
        expand=True,
        scroll=ft.ScrollMode.AUTO,
        spacing=16,
        controls=[
            ft.Row([ft.Icon(ft.Icons.EVENT_BUSY, size=32, color=s.strong),
                    ft.Text(t("purge.title"), theme_style=ft.TextThemeStyle.HEADLINE_SMALL, expand=True,
                            key="purge.title")],
                   spacing=12),
            card(
                [
                    ft.Row([ft.Icon(ft.Icons.DELETE_SWEEP_OUTLINED, color=s.strong),
                            ft.Text(lines[0], theme_style=ft.TextThemeStyle.BODY_LARGE, expand=True,
                                    key="purge.body")],
                           spacing=10, vertical_alignment=ft.CrossAxisAlignment.START),
                    note(ft.Icons.CLOUD_OFF if notice.dropped else ft.Icons.CLOUD_DONE_OUTLINED, lines[1],
                         key="purge.dropped", color=s.strong if notice.dropped else None),
                    *[note(ft.Icons.DNS_OUTLINED, line, key="purge.server_at") for line in lines[2:]],
                ],
                bgcolor=s.container, border=s.strong, key="purge.notice",
            ),
            note(ft.Icons.GAVEL_OUTLINED, t("purge.why")),
            note(ft.Icons.QR_CODE_2, t("purge.new_work")),
        ],
    )
    return ft.View(
        route="/enrol",
        appbar=ft.AppBar(title=ft.Text(t("app.name")), actions=[_language_button(shell, "purge.language")]),
        padding=ft.Padding.all(16),
        spacing=12,
        # the way on stays in sight under the message, however small the screen
        controls=[message, theme.big_button(t("purge.continue"), icon=ft.Icons.LOGIN, on_click=go_on,
                                            key="purge.continue")],
    )


def enrol_view(shell: Shell) -> ft.View:
    store = shell.store
    notice = purge_notice(store) if store is not None else None
    if notice is not None and not shell.ui.get(NOTICE_READ):
        return purged_view(shell, notice)
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

    def on_code_change(e: ft.Event[ft.TextField] | ft.Event[ft.IconButton]) -> None:
        parsed = parse_enrolment(code_field.value or "")
        if parsed.server:
            server_field.value = parsed.server
            shell.ui["enrol.server"] = parsed.server
        error.visible = False

    async def paste(e: ft.Event[ft.IconButton]) -> None:
        text = await ft.Clipboard().get()
        if text:
            code_field.value = text.strip()
            on_code_change(e)

    async def submit(e: ft.Event[ft.TextField] | ft.Event[ft.Button]) -> None:
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
            answer = await shell.blocking(shell.device.enrol, server, parsed.code, name_field.value or None)
        except EnrolFailed as failed:
            show_error(failed.kind if failed.kind in ERRORS else "rejected", server=server,
                       detail=refusal_text(failed.code, failed.answer, status=failed.status))
            button.disabled = False
            progress.visible = False
            shell.page.update()
            return
        shell.ui.pop("enrol.server", None)
        shell.ui.pop(NOTICE_READ, None)
        role = answer.get("role", "volunteer")
        role_text = t(f"role.{role}") if i18n.has(f"role.{role}") else role
        named = answer.get("name")
        shell.go("/")
        shell.snack(t("enrol.done_named", role=role_text, name=named) if isinstance(named, str) and named
                    else t("enrol.done", role=role_text))

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
    name_field = ft.TextField(  # optional: a code made with a name, or the phone's earlier one, wins
        label=t("enrol.name_label"),
        helper=t("enrol.name_hint"),
        helper_max_lines=2,
        value=(store.holder_name if store is not None else None) or "",
        key="enrol.name",
        max_length=HOLDER_NAME_MAX,
        capitalization=ft.TextCapitalization.WORDS,
        on_submit=submit,
        text_size=18,
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

    language = _language_button(shell, "enrol.language")
    reminder: list[ft.Control] = []
    if notice is not None:  # the form after the message: one line, so nobody wonders where the data went
        commune = commune_name(notice.commune)
        when = when_text(notice.deleted_at)
        reminder.append(note(ft.Icons.DELETE_SWEEP_OUTLINED,
                             t("purge.reminder", commune=commune, when=when) if commune
                             else t("purge.reminder_no_commune", when=when), key="enrol.purge_reminder"))
    return ft.View(
        route="/enrol",
        appbar=ft.AppBar(title=ft.Text(t("app.name")), actions=[language]),
        scroll=ft.ScrollMode.AUTO,
        padding=ft.Padding.all(16),
        spacing=16,
        controls=[
            *reminder,
            ft.Text(t("enrol.title"), theme_style=ft.TextThemeStyle.HEADLINE_SMALL),
            ft.Text(t("enrol.intro"), theme_style=ft.TextThemeStyle.BODY_LARGE),
            full_width(code_field),
            full_width(name_field),
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
