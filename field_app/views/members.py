"""The leader's "new member" (`/review/members`): the leader types the name of the person who will
hold the phone, and gets a one-time enrolment code for a volunteer of the team: the QR code (the
new member's camera app opens its link), the code to read aloud or type, the link to send, and
until when it works. What is checked and shown is models/members.py; the server makes the code
(POST /api/v1/team/enrolments), so this needs the network: offline, the screen says so and the
name stays typed for a retry.
"""
from __future__ import annotations

import functools
import logging
from typing import Any

import flet as ft

from campaign.text import HOLDER_NAME_MAX
from field_app import theme
from field_app.i18n import t
from field_app.net.errors import SyncError

from .common import full_width
from .leader import LeaderScreens, _message, _panel, _small, _text
from .models.members import MemberApi, MemberCode, checked_name, member_code, share_text
from .models.words import refusal_of
from .qr import qr_png
from .shell import Shell

__all__ = ["MEMBERS", "NewMember", "register"]

log = logging.getLogger(__name__)

MEMBERS = "/review/members"


class NewMember:
    """The screen of one shell (session); `made` is the last code made, kept while the session lasts
    so that a trip to another screen and back still shows it."""

    def __init__(self, shell: Shell, api: MemberApi) -> None:
        self.shell, self.api = shell, api
        self.made: MemberCode | None = None

    def view(self, shell: Shell, params: dict[str, str], route: str = MEMBERS) -> ft.View:
        name = ft.TextField(label=t("members.name_label"), helper=t("members.name_hint"), helper_max_lines=2,
                            max_length=HOLDER_NAME_MAX, capitalization=ft.TextCapitalization.WORDS,
                            key="members:name", text_size=18)
        result = ft.Column(spacing=12, key="members:result")
        progress = ft.ProgressBar(visible=False, key="members:progress")
        make = theme.big_button(t("members.make"), icon=ft.Icons.QR_CODE_2, key="members:make")

        def typing(e: ft.Event[Any]) -> None:
            if name.error:
                name.error = None
                name.update()

        async def submit(e: ft.Event[Any]) -> None:
            checked, why = checked_name(name.value)
            if checked is None:
                name.error = why
                name.update()
                return
            make.disabled, progress.visible = True, True
            result.controls = []
            shell.page.update()
            try:
                self.made = await shell.blocking(member_code, self.api, checked)
                name.value = ""
                result.controls = self._code(self.made)
            except SyncError as exc:
                result.controls = [self._failed(exc)]
            except Exception as exc:  # a bug must not leave the button disabled for ever
                log.exception("new member: making a code failed")
                result.controls = [self._failed(exc)]
            make.disabled, progress.visible = False, False
            shell.page.update()

        name.on_change, name.on_submit, make.on_click = typing, submit, submit
        if self.made is not None:
            result.controls = self._code(self.made)
        # the code made comes first, where the eye is after the tap; the form stays below for the next one
        return shell.pushed_view(route, t("members.title"), [
            _text(t("members.explain"), color=theme.COLORS.on_surface_variant),
            progress, result, full_width(name), make,
        ])

    def _failed(self, exc: Exception) -> ft.Control:
        if getattr(exc, "retryable", False):  # no network, server down or busy
            return _panel([_message(ft.Icons.CLOUD_OFF, t("members.offline"))], key="members:failed")
        return _panel([_message(ft.Icons.ERROR_OUTLINE, t("members.failed", reason=refusal_of(exc)))],
                      key="members:failed")

    def _code(self, made: MemberCode) -> list[ft.Control]:
        async def copy(e: ft.Event[Any]) -> None:
            await ft.Clipboard().set(share_text(made))
            self.shell.snack(t("members.copied"))

        return [_panel([
            _text(t("members.for", name=made.name), ft.TextThemeStyle.TITLE_MEDIUM, key="members:for"),
            # not `selectable`: Flutter's selectable text is left out of the accessibility tree, so a
            # screen reader (and the e2e test) could not read the code; "copy" below does the copying
            ft.Text(made.code, theme_style=ft.TextThemeStyle.HEADLINE_SMALL, weight=ft.FontWeight.BOLD,
                    key="members:code"),
            _small(made.expires),
            _text(t("members.scan")),
            ft.Row([ft.Image(src=qr_png(made.url), width=216, height=216, key="members:qr",
                             semantics_label=t("members.qr_label", name=made.name),
                             filter_quality=ft.FilterQuality.NONE)],
                   alignment=ft.MainAxisAlignment.CENTER),
            ft.Text(made.url, size=13, color=theme.COLORS.on_surface_variant, key="members:link"),
            *([_message(ft.Icons.WARNING_AMBER, made.warning)] if made.warning else []),
            theme.big_button(t("members.copy"), icon=ft.Icons.COPY, filled=False, key="members:copy",
                             on_click=copy),
        ], key="members:made")]


def register(shell: Shell, screens: LeaderScreens) -> NewMember:
    """`/review/members` (stacked on the review tab) and `/members`, with the leader screens' api."""
    members = NewMember(shell, screens.api)
    for route in (MEMBERS, "/members"):
        shell.register_detail(route, functools.partial(members.view, route=route))
    return members
