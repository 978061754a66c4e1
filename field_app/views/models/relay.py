"""The sealed relay's screens without Flet (views/relay.py draws them; docs/sync.md, "Sealed relay").

Three things a person does with a relay file, each a function here that tests drive with no UI:

- `seal(store)`: the origin phone's "Gửi nhờ": its unsent visits sealed into one file, with its
  name and what it holds in words. The visits stay pending: nothing is acknowledged here.
- `carry(api, store, raw)`: a carrier's upload of a file it holds. The bytes go to the server
  as they are and are kept nowhere (not in the store, not in the data directory); the answer
  says whose visits were delivered, and holds the server's receipt for the origin phone.
- `take_receipt(store, raw)`: the origin phone reads a receipt carried back; only then are
  those visits "server has it" (the same acknowledgement a push answer gives).

A file picked for the wrong step (a receipt given to the carrier's upload, a bundle given to the
receipt's reader) gets its own sentence rather than a generic "damaged".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from campaign import relay as fmt
from field_app import relay
from field_app.i18n import t
from field_app.net.errors import Rejected, SyncError
from field_app.net.server_api import Relayed
from field_app.store import Store, Work

from .words import changes_text, failure_text, refusal_of, work_text

FILE_SUFFIX = ".gocua"  # bundles and receipts alike: the content says which it is
#: refusals whose general sentence speaks of "this phone": a carrier is told about the origin instead
CARRIER_CODES = ("gap", "seq_reused", "unknown_device")


class RelayApi(Protocol):
    """What the carrier's upload needs of net/server_api.ServerApi."""

    def relay(self, bundle: bytes) -> Relayed: ...

    def team_devices(self, commune: str | None = None) -> list[dict[str, Any]]: ...


def short_id(device_id: str) -> str:
    """"3F2A9C": the first six hex digits, as the leader's team list shows a device."""
    return device_id.replace("-", "")[:6].upper()


def bundle_name(device_id: str, seq_from: int, seq_to: int) -> str:
    """gocua-gui-nho-3F2A9C-12-40.gocua: whose, and which changes (seq range), at a glance."""
    return f"gocua-gui-nho-{short_id(device_id)}-{seq_from}-{seq_to}{FILE_SUFFIX}"


def receipt_name(device_id: str, acked_seq: int) -> str:
    """gocua-bien-nhan-3F2A9C-40.gocua: the receipt for that phone, up to which change."""
    return f"gocua-bien-nhan-{short_id(device_id)}-{acked_seq}{FILE_SUFFIX}"


def kind_of(raw: bytes) -> str | None:
    """"bundle", "receipt", or None for a file that is neither (checked for shape only)."""
    for kind, reader in (("bundle", fmt.read_bundle), ("receipt", fmt.read_receipt)):
        try:
            reader(raw)
        except fmt.BadFile:
            continue
        return kind
    return None


def who(store: Store, device_id: str, api: RelayApi | None = None) -> str:
    """The origin phone as the carrier knows it: its holder's name (a leader's team list told
    it; a leader's app asks the team list once when it does not know the phone yet), else
    "Máy 3F2A9C"; "Máy này" for the carrier's own."""
    if device_id == store.device_id:
        return t("leader.device.this")
    names = store.device_names()
    if device_id not in names and api is not None and store.role == "leader":
        try:  # the names are the team list's, as the review screens keep them; nothing of the file
            named = {d["device_id"]: d["name"] for d in api.team_devices()
                     if isinstance(d.get("name"), str) and d["name"] and isinstance(d.get("device_id"), str)}
        except SyncError:
            named = {}
        if named:
            store.remember_device_names(named)
            names.update(named)
    return names.get(device_id) or t("leader.device.short", id=short_id(device_id))


# -- the origin phone: "Gửi nhờ" ---------------------------------------------------------------


@dataclass(frozen=True)
class Sealed:
    """A bundle made on this phone: its bytes and file name, and what it holds."""
    data: bytes
    filename: str
    seq_from: int
    seq_to: int
    work: Work
    left: int = 0  # changes waiting beyond this file (a file holds at most a push's worth)

    def summary(self) -> str:
        """"Đã đóng gói 2 lượt thăm, 1 hộ (thay đổi số 3 đến 9) vào tệp …. Chúng vẫn chờ gửi …"."""
        changes = t("relay.range.one", first=self.seq_from) if self.seq_from == self.seq_to else \
            t("relay.range", first=self.seq_from, last=self.seq_to)
        text = t("relay.sealed", work=work_text(self.work), changes=changes, name=self.filename)
        if self.left:
            text += " " + t("relay.sealed_more", changes=changes_text(self.left))
        return text


def seal(store: Store) -> Sealed | None:
    """The bundle of this phone's unsent visits, or None when nothing waits.
    relay.RelayUnavailable when the phone has no relay keys yet (it must sync once)."""
    data = relay.make_bundle(store)
    if data is None:
        return None
    header = fmt.read_bundle(data)
    first, last = header["seq_from"], header["seq_to"]
    return Sealed(data, bundle_name(header["device_id"], first, last), first, last,
                  store.work_between(first, last), store.pending_count() - (last - store.acked_seq))


def seal_failure(exc: Exception) -> str:
    if isinstance(exc, relay.RelayUnavailable):
        return t("relay.no_keys")
    return t("relay.seal_failed")


# -- the carrier: upload a file it holds ---------------------------------------------------------


@dataclass(frozen=True)
class Carried:
    """What the carrier's upload did, in words, and the receipt to hand back (None if refused)."""
    ok: bool
    text: str
    receipt: bytes | None = None
    receipt_filename: str | None = None


def carry(api: RelayApi, store: Store, raw: bytes) -> Carried:
    """Upload the bundle in `raw` (the carrier's token; nothing of it is stored here)."""
    kind = kind_of(raw)
    if kind == "receipt":
        return Carried(False, t("relay.carry.is_receipt"))
    if kind is None:
        return Carried(False, t("relay.carry.not_bundle"))
    header = fmt.read_bundle(raw)
    origin = who(store, header["device_id"], api)
    try:
        answer = api.relay(raw)
    except Rejected as exc:
        code = exc.code if exc.code in CARRIER_CODES else None
        reason = t(f"relay.refused.{code}") if code else refusal_of(exc)
        return Carried(False, t("relay.carry.refused", origin=origin, reason=reason))
    except SyncError as exc:
        if exc.retryable:  # no network, the server down or busy: the file is still where it was
            return Carried(False, t("relay.carry.offline"))
        return Carried(False, t("relay.carry.failed", reason=failure_text(exc)))
    first, last = header["seq_from"], header["seq_to"]
    held = sum(1 for seq, _ in answer.quarantined if first <= seq <= last)
    text = t("relay.carry.done", origin=origin, changes=changes_text(last - first + 1))
    if held:
        text += " " + t("relay.carry.held", changes=changes_text(held))
    receipt = fmt.canonical(answer.receipt)
    return Carried(True, text, receipt, receipt_name(answer.device_id, answer.acked_seq))


# -- back on the origin phone: the receipt -----------------------------------------------------


@dataclass(frozen=True)
class Taken:
    ok: bool
    text: str


def take_receipt(store: Store, raw: bytes) -> Taken:
    """Read a receipt carried back: checked with the server's key, then what it names is
    acknowledged (the visits leave "Chờ gửi"). Anything else is refused and changes nothing."""
    kind = kind_of(raw)
    if kind == "bundle":
        return Taken(False, t("relay.receipt.is_bundle"))
    if kind is None:
        return Taken(False, t("relay.receipt.not_receipt"))
    if fmt.read_receipt(raw)["device_id"] != store.device_id:
        return Taken(False, t("relay.receipt.other_phone"))
    before = store.acked_seq
    try:
        receipt = relay.accept_receipt(store, raw)
    except relay.RelayUnavailable:
        return Taken(False, t("relay.no_keys"))
    except fmt.BadFile:  # the signature does not match: not this server's, or changed
        return Taken(False, t("relay.receipt.bad"))
    acked = min(receipt["acked_seq"], store.acked_seq)
    settled = store.work_between(before + 1, acked) if acked > before else Work()
    if not settled.total:
        return Taken(True, t("relay.receipt.nothing_new"))
    text = t("relay.receipt.done", work=work_text(settled))
    held = sum(1 for seq, _ in receipt["quarantined"] if before < seq <= acked)
    if held:
        text += " " + t("relay.receipt.held", changes=changes_text(held))
    left = store.work()
    if left.total:
        text += " " + t("relay.receipt.still_pending", work=work_text(left))
    return Taken(True, text)
