"""People likely recorded twice (/totals/duplicates): leaders and officers see the server's
pairs (campaign.duplicates' rule, across devices; an audited view) and merge each pair on
this device (`Store.merge_person`: a `person.merged` that syncs like any change). The older
record is kept; the newer one leaves every total and list."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

import flet as ft

from campaign.events import InvalidEvent
from field_app import theme
from field_app.i18n import t
from field_app.net.errors import SyncError

from . import dashboard_panels as panels
from .common import age_text, on_screen, reason_text
from .models.words import failure_text
from .shell import Shell

__all__ = ["DuplicatesApi", "duplicates_view"]

log = logging.getLogger(__name__)


class DuplicatesApi(Protocol):
    def duplicates(self, commune: str) -> list[dict[str, Any]]: ...


def person_line(person: dict[str, Any]) -> str:
    """"Nguyễn Thị Lụa · 64 tuổi (sinh 1961) · Số 1, phố Trùng · Tổ 3"."""
    return " · ".join(x for x in (str(person.get("label") or ""), age_text(person.get("birth_year")),
                                  str(person.get("address") or ""), str(person.get("hamlet") or "")) if x)


def duplicates_view(shell: Shell, route: str, commune: str | None, api: DuplicatesApi) -> ft.View:
    if commune is None:
        return shell.pushed_view(route, t("duplicates.title"),
                                 [panels.note(ft.Icons.TRAVEL_EXPLORE, t("dashboard.no_commune"))])
    column = ft.Column(spacing=12, key="duplicates:list")
    column.controls = [ft.Row([ft.ProgressRing(width=22, height=22, stroke_width=3),
                               panels.text(t("dashboard.loading"))], spacing=12, key="duplicates:loading")]

    def merge(newer: dict[str, Any], older: dict[str, Any], card: ft.Control) -> None:
        try:
            shell.store.merge_person(newer["person_id"], older["person_id"])
        except InvalidEvent as bad:
            shell.snack(reason_text(bad.code) if bad.code != "unknown_entity" else t("duplicates.not_here"),
                        error=True)
            return
        column.controls = [c for c in column.controls if c is not card]
        shell.page.update()
        shell.changed()
        shell.snack(t("duplicates.merged", label=str(older.get("label") or "")))

    def merged_here(person: dict[str, Any]) -> bool:
        """Merged on this phone already (not synced yet): the household no longer lists them."""
        pid, hid = person.get("person_id"), person.get("household_id")
        return (isinstance(pid, str) and isinstance(hid, str) and shell.store.person(pid) is not None
                and pid not in {p.id for p in shell.store.people(hid)})

    def draw(pairs: list[dict[str, Any]]) -> None:
        pairs = [p for p in pairs if not any(merged_here(x) for x in p["people"])]
        controls: list[ft.Control] = [panels.text(t("duplicates.count", n=len(pairs)), ft.TextThemeStyle.TITLE_MEDIUM,
                                                  key="duplicates:count")]
        for pair in pairs:
            older, newer = pair["people"]
            box = panels.panel([], key=f"duplicates:pair:{newer['person_id']}")
            inner = box.content
            assert isinstance(inner, ft.Column)
            inner.controls = [
                panels.note(ft.Icons.PERSON_OUTLINE, person_line(older), key=f"duplicates:keep:{older['person_id']}"),
                panels.note(ft.Icons.CONTENT_COPY, person_line(newer), key=f"duplicates:dup:{newer['person_id']}"),
                theme.big_button(t("duplicates.merge"), icon=ft.Icons.MERGE, filled=False,
                                 key=f"duplicates:merge:{newer['person_id']}",
                                 on_click=lambda e, n=newer, o=older, b=box: merge(n, o, b)),
            ]
            controls.append(box)
        column.controls = controls

    async def load() -> None:
        try:
            pairs = await asyncio.to_thread(api.duplicates, commune)
        except Exception as exc:
            if not isinstance(exc, SyncError):
                log.exception("duplicates: the list failed")
            column.controls = [panels.note(ft.Icons.CLOUD_OFF, failure_text(exc), key="duplicates:failure")]
        else:
            draw(pairs)
        if on_screen(column, shell.page):
            shell.page.update()

    shell.page.run_task(load)
    return shell.pushed_view(route, t("duplicates.title"), [
        panels.text(t("duplicates.explain")),
        panels.note(ft.Icons.PRIVACY_TIP_OUTLINED, t("dashboard.followup.personal")),
        column,
    ])
