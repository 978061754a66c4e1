"""One follow-up list (/totals/followup/:list): who it is about, that it is
personal, its CSV, then its rows as the server pages them ("Xem thêm" for the
next). The pages and the words are models/dashboard.py's."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Protocol

import flet as ft

from field_app import theme
from field_app.i18n import t
from field_app.net.errors import SyncError

from . import dashboard_panels as panels
from .common import on_screen
from .models import dashboard as m
from .models.words import failure_text
from .shell import Shell

__all__ = ["FollowupApi", "followup_view"]

log = logging.getLogger(__name__)


class FollowupApi(Protocol):
    def followup(self, commune: str, list_name: str, after: str | None = None,
                 limit: int = m.PAGE_SIZE) -> dict[str, Any]: ...


def followup_view(shell: Shell, route: str, name: str, commune: str | None, api: FollowupApi,
                  download_csv: Callable[[str], Callable[[ft.Event[Any]], Any]], total: int | None = None) -> ft.View:
    """The list `name` of `commune`; `download_csv(commune)`: the CSV button's handler; `total`: its
    length by the dashboard's counts (what "còn … nữa" says)."""
    if name not in m.LISTS:
        return shell.pushed_view(route, t("dashboard.followup.title"),
                                 [panels.note(ft.Icons.ERROR_OUTLINE, t("dashboard.followup.unknown", name=name))])
    if commune is None:
        return shell.pushed_view(route, m.list_label(name),
                                 [panels.note(ft.Icons.TRAVEL_EXPLORE, t("dashboard.no_commune"))])
    pager = _ListPager(shell.page, api, commune, name, total)
    return shell.pushed_view(route, m.list_label(name), [
        panels.text(t(f"dashboard.followup.who.{name}")),
        panels.note(ft.Icons.PRIVACY_TIP_OUTLINED, t("dashboard.followup.personal")),
        theme.big_button(t("dashboard.download.csv"), icon=ft.Icons.DOWNLOAD, filled=False, key="followup:csv",
                         on_click=download_csv(commune)),
        pager.start(),
    ])


class _ListPager:
    """A follow-up list as the server pages it: the first page, then "Xem thêm" for the next."""

    def __init__(self, page: ft.Page, api: FollowupApi, commune: str, name: str, total: int | None) -> None:
        self.page, self.api, self.commune = page, api, commune
        self.pages = m.FollowupPager(name, total)
        # every card as wide as the list, whatever its text: even edges on a laptop
        self.column = ft.Column(spacing=12, key="followup:list",
                                horizontal_alignment=ft.CrossAxisAlignment.STRETCH)

    def start(self) -> ft.Column:
        self.column.controls = [self._loading()]
        self.page.run_task(self._next_page)
        return self.column

    @staticmethod
    def _loading() -> ft.Control:
        return ft.Row([ft.ProgressRing(width=22, height=22, stroke_width=3), panels.text(t("dashboard.loading"))],
                      spacing=12, key="followup:loading")

    async def _next_page(self) -> None:
        pages = self.pages
        try:
            answer = await asyncio.to_thread(self.api.followup, self.commune, pages.name, pages.after,
                                             m.PAGE_SIZE)
        except Exception as exc:
            if not isinstance(exc, SyncError):
                log.exception("dashboard: the %s list failed", pages.name)
            self._failed(exc)
            return
        pages.add(answer)
        if on_screen(self.column, self.page):
            self._draw()
            self.page.update()

    def _cards(self) -> list[ft.Control]:
        return [panels.followup_card(m.followup_card(self.pages.name, row)) for row in self.pages.rows]

    def _failed(self, exc: Exception) -> None:
        if not on_screen(self.column, self.page):
            return
        self.column.controls = [*self._cards(),
                                panels.panel([panels.note(ft.Icons.CLOUD_OFF, failure_text(exc), key="followup:failure")]),
                                theme.big_button(t("common.retry"), icon=ft.Icons.REFRESH, filled=False,
                                                 key="followup:retry", on_click=lambda e: self._again())]
        self.page.update()

    def _again(self) -> None:
        self.column.controls = [*self._cards(), self._loading()]
        self.page.run_task(self._next_page)

    def _draw(self) -> None:
        controls: list[ft.Control] = [panels.text(self.pages.head(), ft.TextThemeStyle.TITLE_MEDIUM, key="followup:count")]
        controls += self._cards()
        if self.pages.more:
            controls.append(theme.big_button(t("dashboard.followup.more"), icon=ft.Icons.EXPAND_MORE, filled=False,
                                             key="followup:more", on_click=lambda e: self._again()))
        self.column.controls = controls
