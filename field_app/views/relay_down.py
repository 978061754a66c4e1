"""The down road's two buttons (issue #15; docs/sync.md, "Down the same road"; the logic is
models/relay_down.py): on the leader's team list, "Tạo tệp cho máy này" under each member asks the
server for that phone's sealed file and hands it over (a phone's share sheet; elsewhere a save
dialog, in a browser a download); on a phone's sync screen, "Mở tệp từ tổ trưởng" opens one.
The file dialogs and the message box are the up road's (views/relay.py)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import flet as ft

from field_app import theme
from field_app.i18n import t
from field_app.store import Store

from .common import C, card, heading
from .models import relay_down as model
from .relay import Handover, Message, guarded, keep_message, tone_of
from .shell import Shell

OPENED = "relay.down.opened"  # shell.ui slot: what the last file did, through a redraw


class ClosableDownApi(model.DownApi, Protocol):
    def close(self) -> None: ...


def _made_slot(device_id: str) -> str:
    return f"relay.down.made:{device_id}"


def make_button(shell: Shell, store: Store, device_id: str, api_of: Callable[[], ClosableDownApi]) -> ft.Control:
    """Under a member of the leader's team list: make that phone's file and hand it over.
    `store`: the leader's device's; `api_of`: its online calls (a new client per tap, closed after)."""
    handover = Handover(shell)
    message = Message(f"relay.down.made:{device_id}")
    button = theme.big_button(t("relay.down.make"), icon=ft.Icons.MOVE_TO_INBOX, filled=False,
                              key=f"relay.down.make:{device_id}")
    said = shell.ui.get(_made_slot(device_id))
    if said is not None:
        message.show(*said[:2])

    async def make() -> None:
        previous = shell.ui.get(_made_slot(device_id))
        after = previous[2] if previous is not None else None  # the server said "more": continue
        api = api_of()
        try:
            made = await shell.blocking(model.make, api, store, device_id, after)
        finally:
            api.close()
        shell.ui[_made_slot(device_id)] = (made.text, tone_of(made.ok), made.next)
        message.show(made.text, tone_of(made.ok))
        shell.page.update()
        if not made.ok or made.data is None or made.filename is None:
            return
        await handover.hand_over(made.filename, made.data, t("relay.down.share_text"))

    button.on_click = guarded(shell, button, make)
    return ft.Column([button, message.box], spacing=8, key=f"relay.down:{device_id}")


def open_card(shell: Shell) -> ft.Control:
    """On the phone's sync screen: open a file the leader brought."""
    handover = Handover(shell)
    message = Message("relay.down.opened")
    button = theme.big_button(t("relay.down.open"), icon=ft.Icons.FILE_OPEN_OUTLINED, filled=False,
                              key="relay.down.open")
    said = shell.ui.get(OPENED)
    if said is not None:
        message.show(*said)

    async def open_file() -> None:
        raw = await handover.pick(t("relay.down.open"),
                                  lambda said: keep_message(shell, OPENED, message, said, "problem"))
        if raw is None:
            return
        opened = await shell.blocking(model.open_file, shell.store, raw)
        keep_message(shell, OPENED, message, opened.text, tone_of(opened.ok))
        if opened.ok:
            shell.render()  # the lists and figures follow the store

    button.on_click = guarded(shell, button, open_file)
    return card([heading(t("relay.down.title")),
                 ft.Text(t("relay.down.hint"), size=14, color=C.on_surface_variant),
                 button, message.box], key="relay.down")
