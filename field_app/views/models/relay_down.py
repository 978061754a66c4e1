"""The down road's screens without Flet (views/relay_down.py draws them; docs/sync.md, "Down the
same road"). Two things a person does, each a function tests drive with no UI:

- `make(api, store, device_id, after)`: the leader's "Tạo tệp cho máy này": the server's file for
  one phone of the team, its name, and what it holds in words. The leader's app cannot read it.
- `open_file(store, raw)`: the phone's "Mở tệp từ tổ trưởng": the file checked (the server's
  signature, this phone's), opened and applied as a pull page; every refusal has its own sentence
  and changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from campaign import relay as fmt
from field_app import relay
from field_app.i18n import t
from field_app.net.errors import SyncError
from field_app.net.server_api import DownMade
from field_app.store import Store

from .relay import FILE_SUFFIX, kind_of, short_id, who
from .words import changes_text, refusal_of


class DownApi(Protocol):
    """What the leader's button needs of net/server_api.ServerApi."""

    def relay_down(self, device_id: str, after: int | None = None) -> DownMade: ...

    def team_devices(self, commune: str | None = None) -> list[dict[str, object]]: ...


def file_name(device_id: str, reached: int) -> str:
    """gocua-nhan-nho-3F2A9C-120.gocua: for which phone, and up to where, at a glance."""
    return f"gocua-nhan-nho-{short_id(device_id)}-{reached}{FILE_SUFFIX}"


@dataclass(frozen=True)
class Made:
    ok: bool
    text: str
    filename: str | None = None
    data: bytes | None = None
    next: int | None = None  # where the next file starts, when the server has more


def make(api: DownApi, store: Store, device_id: str, after: int | None = None) -> Made:
    """The server's file for that phone (`after`: continue a chain the server said had more)."""
    try:
        made = api.relay_down(device_id, after)
    except SyncError as exc:
        return Made(False, t("relay.down.make_failed", reason=refusal_of(exc)))
    name = file_name(device_id, made.next)
    text = t("relay.down.made", name=name, changes=changes_text(made.events), who=who(store, device_id))
    if made.more:
        text += " " + t("relay.down.made_more")
    return Made(True, text, name, made.raw, made.next if made.more else None)


@dataclass(frozen=True)
class Opened:
    ok: bool
    text: str


def open_file(store: Store, raw: bytes) -> Opened:
    """A file from the leader, applied as a pull page, or refused whole with its sentence."""
    try:
        done = relay.accept_down(store, raw)
    except relay.RelayUnavailable:
        return Opened(False, t("relay.down.no_keys"))
    except relay.WrongPhone:
        return Opened(False, t("relay.down.other_phone"))
    except relay.TooNew:
        return Opened(False, t("relay.down.too_new"))
    except fmt.BadFile:
        if kind_of(raw) is not None:  # an up bundle or a receipt, picked here by mistake
            return Opened(False, t("relay.down.is_up"))
        try:
            fmt.read_down(raw)
        except fmt.BadFile:
            return Opened(False, t("relay.down.not_down"))
        return Opened(False, t("relay.down.bad"))
    if not done.fresh:
        return Opened(True, t("relay.down.stale"))
    text = t("relay.down.applied", changes=changes_text(done.events))
    if done.more:
        text += " " + t("relay.down.more")
    return Opened(True, text)
