"""A file from the server saved on the device: the dashboard's exports, the import template,
the leader's walk sheet. The bytes come through the app's own HTTP path (the server wants
the device's token, which a browser link would not carry), then go to the save dialog: in
a browser a download, on a desktop a "Save as", on a phone the share sheet."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import flet as ft

from field_app.i18n import t
from field_app.net.errors import SyncError
from field_app.net.server_api import Download

from .common import on_screen
from .models.words import failure_text
from .shell import Shell

log = logging.getLogger(__name__)


class Downloads:
    """One per screen set; the save dialog (a Flet service) is made on the first download and kept."""

    def __init__(self, shell: Shell) -> None:
        self.shell = shell
        self.picker: ft.FilePicker | None = None

    @property
    def page(self) -> ft.Page:
        return self.shell.page

    def handler(self, fetch: Callable[[], Download]) -> Callable[[ft.Event[Any]], Any]:
        """An on_click that downloads what `fetch` answers, the button disabled meanwhile."""
        async def handle(e: ft.Event[Any]) -> None:
            await self.download(fetch, e.control)
        return handle

    async def download(self, fetch: Callable[[], Download], button: ft.BaseControl | None = None) -> None:
        """Fetch a file through the app's own HTTP path (the server wants the device's token,
        which a browser link would not carry), then hand the bytes to the save dialog: in a
        browser that is a download, on a desktop a "Save as", on a phone the share sheet."""
        if isinstance(button, ft.Control):
            button.disabled = True
            button.update()
        self.shell.snack(t("dashboard.download.working"))
        try:
            try:
                file = await asyncio.to_thread(fetch)
            except SyncError as exc:
                self.shell.snack(t("dashboard.download.failed", reason=failure_text(exc)), error=True)
                return
            try:
                saved = await self.file_picker().save_file(file_name=file.filename, src_bytes=file.data)
            except Exception as exc:  # no save dialog on this platform, or it failed
                log.warning("dashboard: saving %s failed: %s", file.filename, exc)
                self.shell.snack(t("dashboard.download.failed", reason=t("error.file_dialog")), error=True)
                return
            if saved or self.page.web:  # a browser's download answers nothing
                self.shell.snack(t("dashboard.download.done", name=file.filename))
            else:
                self.shell.snack(t("dashboard.download.cancelled"))
        finally:
            if isinstance(button, ft.Control):
                button.disabled = False
                if on_screen(button, self.page):
                    button.update()

    def file_picker(self) -> ft.FilePicker:
        """The page's save dialog. A Flet 1.0 service registers itself with the page whose
        handler is running, once; it is kept here, or Flet would drop it as unused."""
        if self.picker is None:
            self.picker = ft.FilePicker()
        return self.picker

