"""The leader's team settings (`/review/settings`): "one visit in N" of each volunteer's day looked
at closely in the review, and the days after which a household given and not visited returns to
the pool (docs/leader.md, "Team settings"). The boxes open on what this phone holds (the last
sync's), then on what the server says; each box is checked with campaign's rule before anything
is sent, its sentence under it; Save is a PUT (online: offline, the screen says so and the typed
values stay). What is checked and kept is models/team_settings.py.
"""
from __future__ import annotations

import functools
import logging
from typing import Any

import flet as ft

from campaign.assignments import MAX_LAPSE_DAYS, MIN_LAPSE_DAYS
from campaign.team_settings import MAX_SAMPLE_EVERY, MIN_SAMPLE_EVERY, TeamSettings
from field_app import theme
from field_app.i18n import t
from field_app.net.errors import SyncError
from field_app.store import Store

from .common import full_width, on_screen
from .leader import LeaderScreens, _message, _panel, _text
from .models.team_settings import TeamSettingsApi, load, parse, save, team_of
from .models.words import refusal_of
from .shell import Shell

__all__ = ["SETTINGS", "TeamSettingsScreen", "register"]

log = logging.getLogger(__name__)

SETTINGS = "/review/settings"


class TeamSettingsScreen:
    def __init__(self, shell: Shell, store: Store, api: TeamSettingsApi) -> None:
        self.shell, self.store, self.api = shell, store, api

    def view(self, shell: Shell, params: dict[str, str], route: str = SETTINGS) -> ft.View:
        team = team_of(self.store)
        held = self.store.team_settings()
        sample = ft.TextField(label=t("team_settings.sample_label"), value=str(held.sample_every),
                              helper=t("team_settings.sample_hint", min=MIN_SAMPLE_EVERY, max=MAX_SAMPLE_EVERY),
                              helper_max_lines=3, error_max_lines=3, keyboard_type=ft.KeyboardType.NUMBER,
                              key="team_settings:sample", text_size=18)
        lapse = ft.TextField(label=t("team_settings.lapse_label"), value=str(held.lapse_days),
                             helper=t("team_settings.lapse_hint", min=MIN_LAPSE_DAYS, max=MAX_LAPSE_DAYS),
                             helper_max_lines=3, error_max_lines=3, keyboard_type=ft.KeyboardType.NUMBER,
                             key="team_settings:lapse", text_size=18)
        status = ft.Column(spacing=8, key="team_settings:status")
        button = theme.big_button(t("team_settings.save"), icon=ft.Icons.SAVE, key="team_settings:save")
        progress = ft.ProgressBar(visible=False, key="team_settings:progress")

        def show(settings: TeamSettings) -> None:
            sample.value, lapse.value = str(settings.sample_every), str(settings.lapse_days)
            sample.error = lapse.error = None

        def typing(e: ft.Event[Any]) -> None:
            for box in (sample, lapse):
                if box.error:
                    box.error = None
                    box.update()

        async def refresh() -> None:  # what the server holds now (a change by the commune's officer)
            if team is None:
                return
            try:
                show(await shell.blocking(load, self.api, self.store, team))
            except SyncError:  # offline or refused: the boxes keep what the phone holds
                return
            except Exception:
                log.exception("team settings: reading them failed")
                return
            if on_screen(sample, shell.page):
                shell.page.update()

        async def submit(e: ft.Event[Any]) -> None:
            form = parse(sample.value, lapse.value)
            sample.error, lapse.error = form.sample_error, form.lapse_error
            status.controls = []
            if form.settings is None or team is None:
                if team is None:
                    status.controls = [_panel([_message(ft.Icons.ERROR_OUTLINE, t("team_settings.no_team"))])]
                shell.page.update()
                return
            button.disabled, progress.visible = True, True
            shell.page.update()
            try:
                show(await shell.blocking(save, self.api, self.store, team, form.settings))
                shell.snack(t("team_settings.saved"))
            except Exception as exc:  # offline, refused, or a bug: say it, keep what was typed
                if not isinstance(exc, SyncError):
                    log.exception("team settings: saving failed")
                offline = bool(getattr(exc, "retryable", False))  # no network, server down or busy
                words = t("team_settings.offline") if offline else t("team_settings.refused", reason=refusal_of(exc))
                status.controls = [_panel([_message(ft.Icons.CLOUD_OFF if offline else ft.Icons.ERROR_OUTLINE, words)],
                                          key="team_settings:failed")]
            button.disabled, progress.visible = False, False
            shell.page.update()

        sample.on_change = lapse.on_change = typing
        sample.on_submit = lapse.on_submit = button.on_click = submit
        shell.page.run_task(refresh)
        return shell.pushed_view(route, t("team_settings.title"), [
            _text(t("team_settings.explain"), color=theme.COLORS.on_surface_variant),
            full_width(sample), full_width(lapse), progress, status, button,
        ])


def register(shell: Shell, screens: LeaderScreens) -> TeamSettingsScreen:
    """`/review/settings` (stacked on the review tab) and `/team-settings`, with the leader screens' api."""
    screen = TeamSettingsScreen(shell, screens.store, screens.api)
    for route in (SETTINGS, "/team-settings"):
        shell.register_detail(route, functools.partial(screen.view, route=route))
    return screen
