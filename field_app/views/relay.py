"""The sealed relay on the sync screen (issue #15; docs/sync.md, "Sealed relay"; the logic is
models/relay.py): "Gửi nhờ" makes the bundle of this phone's unsent visits and hands it over (a
phone's share sheet; elsewhere a save dialog, in a browser a download); "Mở biên nhận" reads the
server's receipt carried back; "Chọn tệp gửi nhờ" uploads another phone's bundle and offers the
receipt to pass back. `relay_cards(shell)` answers the cards; a leader-to-phone bundle's import
(issue #15, "Down") goes beside them as one more card.

Nothing of a carried bundle is written anywhere by this app: the picked bytes go to the server
from memory, and the receipt stays in memory until the person saves or shares it.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import flet as ft

from field_app import theme
from field_app.i18n import t

from .common import C, card, heading, on_screen
from .models import relay as model
from .shell import Shell

log = logging.getLogger(__name__)

MAX_FILE = 6 * 2**20  # above the server's 5 MB body limit: a bigger file is no bundle of ours
MIME = "application/octet-stream"
PHONES = (ft.PagePlatform.ANDROID, ft.PagePlatform.IOS)
SEALED, RECEIPT, CARRIED = "relay.sealed", "relay.receipt", "relay.carried"  # shell.ui slots


class Handover:
    """The page's file dialogs and share sheet. Flet 1.0 services register with the page whose
    handler is running, once; they are kept here, or Flet would drop them as unused."""

    def __init__(self, shell: Shell) -> None:
        self.shell = shell
        self.picker: ft.FilePicker | None = None
        self.share: ft.Share | None = None

    def file_picker(self) -> ft.FilePicker:
        if self.picker is None:
            self.picker = ft.FilePicker()
        return self.picker

    async def give(self, name: str, data: bytes, text: str) -> bool:
        """Hand a file over: a phone's share sheet (Zalo, Bluetooth, e-mail …), else the save
        dialog (a browser's download). True unless the person dismissed it."""
        page = self.shell.page
        if not page.web and page.platform in PHONES:
            if self.share is None:
                self.share = ft.Share()
            result = await self.share.share_files([ft.ShareFile.from_bytes(data, mime_type=MIME, name=name)],
                                                  text=text)
            return result.status != ft.ShareResultStatus.DISMISSED
        saved = await self.file_picker().save_file(file_name=name, src_bytes=data)
        return bool(saved) or page.web  # a browser's download answers nothing

    async def take(self, title: str) -> bytes | None:
        """The bytes of one file the person picks (None: none picked). Read into memory only."""
        files = await self.file_picker().pick_files(dialog_title=title, file_type=ft.FilePickerFileType.ANY,
                                                    with_data=True)
        if not files:
            return None
        file = files[0]
        data, path = getattr(file, "bytes", None), getattr(file, "path", None)
        if data is None and path:
            data = await asyncio.to_thread(_read, path)
        if data is None:
            raise OSError("the picked file has no bytes")
        return bytes(data)

    async def hand_over(self, name: str, data: bytes, text: str) -> None:
        """`give`, then say how it went: handed over, dismissed, or no dialog on this platform."""
        shell = self.shell
        try:
            given = await self.give(name, data, text)
        except Exception as exc:  # no save dialog or share sheet on this platform
            log.warning("relay: handing over %s failed: %s", name, exc)
            shell.snack(t("relay.carry.failed", reason=t("error.file_dialog")), error=True)
            return
        shell.snack(t("relay.handed", name=name) if given else t("relay.cancelled"))

    async def pick(self, title: str, unreadable: Callable[[str], None]) -> bytes | None:
        """`take`; a file that cannot be read calls `unreadable` with the sentence to show and
        answers None, as when nothing is picked."""
        try:
            return await self.take(title)
        except Exception as exc:
            log.warning("relay: reading the picked file failed: %s", exc)
            unreadable(t("relay.unreadable"))
            return None


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read(MAX_FILE)


def relay_cards(shell: Shell) -> list[ft.Control]:
    """The origin phone's card ("Gửi nhờ", its receipt) and the carrier's card."""
    handover = Handover(shell)
    return [_origin_card(shell, handover), _carrier_card(shell, handover)]


TONE_ICONS = {"done": ft.Icons.CHECK_CIRCLE_OUTLINE, "problem": ft.Icons.ERROR_OUTLINE, "info": ft.Icons.INFO_OUTLINE}


class Message:
    """One line of what a tap did, in a box tinted by how it went (done, problem, or neutral while
    working); `text` carries the key tests and screen readers find."""

    def __init__(self, key: str) -> None:
        self.text = ft.Text("", size=15, key=key, expand=True)
        self.icon = ft.Icon(ft.Icons.INFO_OUTLINE, size=22)
        self.box = ft.Container(ft.Row([self.icon, self.text], spacing=10,
                                       vertical_alignment=ft.CrossAxisAlignment.START),
                                border_radius=ft.BorderRadius.all(theme.RADIUS), padding=ft.Padding.all(12),
                                visible=False)

    def show(self, value: str, tone: str) -> None:
        self.text.value, self.box.visible = value, True
        self.icon.icon = TONE_ICONS.get(tone, ft.Icons.INFO_OUTLINE)
        if tone in ("done", "problem"):
            style = theme.STATUSES[tone]
            self.box.bgcolor, self.icon.color, self.text.color = style.container, style.strong, style.on_container
        else:
            self.box.bgcolor, self.icon.color, self.text.color = None, C.primary, None

    def hide(self) -> None:
        self.box.visible = False


def tone_of(ok: bool) -> str:
    return "done" if ok else "problem"


def keep_message(shell: Shell, slot: str, message: Message, value: str, tone: str) -> None:
    """Show `value` and keep it in the shell's ui state, so the screen redrawn still says it."""
    shell.ui[slot] = (value, tone)
    message.show(value, tone)


def _busy(button: ft.Control, page: ft.Page, on: bool) -> None:
    button.disabled = on
    if on_screen(button, page):
        button.update()


def guarded(shell: Shell, button: ft.Control, work: Callable[[], Awaitable[None]]) -> Callable[[Any], Any]:
    """An on_click that runs `work` with the button disabled, then redraws."""
    async def handle(e: Any) -> None:
        _busy(button, shell.page, True)
        try:
            await work()
        finally:
            button.disabled = False
            shell.page.update()
    return handle


def _origin_card(shell: Shell, handover: Handover) -> ft.Control:
    store = shell.store
    sealed_text = Message("relay.sealed")
    receipt_text = Message("relay.receipt")
    send = theme.big_button(t("relay.send"), icon=ft.Icons.SEND_TO_MOBILE_OUTLINED, filled=False, key="relay.send")
    open_receipt = theme.big_button(t("relay.receipt.open"), icon=ft.Icons.MARK_EMAIL_READ_OUTLINED, filled=False,
                                    key="relay.open_receipt")
    send.visible = store.pending_count() > 0
    # what the last tap said outlives a redraw (the receipt's own redraw, a sync's): session memory only
    for text, said in ((sealed_text, shell.ui.get(SEALED)), (receipt_text, shell.ui.get(RECEIPT))):
        if said is not None:
            text.show(*said)

    async def seal() -> None:
        try:
            sealed = await shell.blocking(model.seal, store)
        except Exception as exc:  # RelayUnavailable above all: say what to do
            log.warning("relay: sealing failed: %s", exc)
            keep_message(shell, SEALED, sealed_text, model.seal_failure(exc), "problem")
            return
        if sealed is None:
            keep_message(shell, SEALED, sealed_text, t("relay.nothing"), "info")
            return
        keep_message(shell, SEALED, sealed_text, sealed.summary(), "info")
        shell.page.update()
        await handover.hand_over(sealed.filename, sealed.data, t("relay.share_text"))

    async def receipt() -> None:
        raw = await handover.pick(t("relay.receipt.open"),
                                  lambda said: keep_message(shell, RECEIPT, receipt_text, said, "problem"))
        if raw is None:
            return
        taken = await shell.blocking(model.take_receipt, store, raw)
        keep_message(shell, RECEIPT, receipt_text, taken.text, tone_of(taken.ok))
        if taken.ok:
            shell.ui.pop(SEALED, None)  # "they stay pending" is no longer true
            shell.render()  # the pending count, the state and the home figures follow the store

    send.on_click = guarded(shell, send, seal)
    open_receipt.on_click = guarded(shell, open_receipt, receipt)
    return card(
        [
            heading(t("relay.title")),
            ft.Text(t("relay.hint"), size=14, color=C.on_surface_variant),
            send,
            sealed_text.box,
            ft.Text(t("relay.receipt.hint"), size=14, color=C.on_surface_variant),
            open_receipt,
            receipt_text.box,
        ],
        key="relay.origin",
    )


def _carrier_card(shell: Shell, handover: Handover) -> ft.Control:
    store = shell.store
    result = Message("relay.carried")
    hint = ft.Text(t("relay.carry.receipt_hint"), size=14, color=C.on_surface_variant, visible=False)
    choose = theme.big_button(t("relay.carry.choose"), icon=ft.Icons.UPLOAD_FILE, filled=False, key="relay.carry")
    save = theme.big_button(t("relay.carry.save_receipt"), icon=ft.Icons.SAVE_ALT, filled=False,
                            key="relay.save_receipt")
    save.visible = False
    # the last answer and its receipt, in the session's memory only (never the store or a file)
    held: list[model.Carried] = list(shell.ui.get(CARRIED) or [])
    if held:
        result.show(held[-1].text, tone_of(held[-1].ok))
        save.visible = hint.visible = held[-1].receipt is not None

    async def carry() -> None:
        raw = await handover.pick(t("relay.carry.choose"), lambda said: result.show(said, "problem"))
        if raw is None:
            return
        held.clear()
        shell.ui.pop(CARRIED, None)
        save.visible = hint.visible = False
        result.show(t("relay.carry.working"), "info")
        shell.page.update()
        api = shell.device.server_api(shell.device.http)
        try:
            carried = await shell.blocking(model.carry, api, store, raw)
        finally:
            api.close()
        result.show(carried.text, tone_of(carried.ok))
        held.append(carried)
        shell.ui[CARRIED] = [carried]
        save.visible = hint.visible = carried.receipt is not None

    async def give_receipt() -> None:
        if not held or held[-1].receipt is None or held[-1].receipt_filename is None:
            return
        last = held[-1]
        await handover.hand_over(str(last.receipt_filename), bytes(last.receipt or b""), t("relay.receipt_share_text"))

    choose.on_click = guarded(shell, choose, carry)
    save.on_click = guarded(shell, save, give_receipt)
    return card(
        [
            heading(t("relay.carry.title")),
            ft.Text(t("relay.carry.hint"), size=14, color=C.on_surface_variant),
            choose,
            result.box,
            hint,
            save,
        ],
        key="relay.carrier",
    )
