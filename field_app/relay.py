"""The phone's side of the sealed relay (issue #15; docs/sync.md, "Sealed relay").

- `new_sign_key()`: the phone's Ed25519 key pair, made at enrolment; the private key lives
  in the sealed store, the public key goes with the enrolment request.
- `seal_bundle()`: unsent events sealed to the server's X25519 key (ephemeral X25519,
  HKDF-SHA256, AES-256-GCM with the routing header as associated data), the whole file
  signed with the phone's key. Whoever carries it reads the header only: the phone's id,
  the seq range and the size.
- `read_receipt()`: the server's signed receipt, checked with the server's Ed25519 key.
- `new_box_key()`, `open_down()`, `accept_down()`: the down road. The phone's X25519 box key
  (made at enrolment, or before its next sync); a down bundle the server sealed to it and
  signed, carried by a leader, is checked with the server's key, opened and applied as a pull
  page (the same Store.apply_pulled).

`cryptography`'s primitives only; the layout is campaign/relay.py's.
"""
from __future__ import annotations

import json
import os
from typing import Any, NamedTuple

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from campaign import relay as fmt
from campaign.events import MAX_BATCH

from .store import Store


class RelayUnavailable(RuntimeError):
    """This phone cannot make a bundle: no signing key, or the server's keys not learnt yet (it
    must have synced once since the relay came)."""


class SignKey(NamedTuple):
    private: str  # base64url of the raw Ed25519 private key: kept in the sealed store only
    public: str  # base64url of the raw public key: registered with the server


class WrongPhone(fmt.BadFile):
    """A down bundle made for another phone (or for this phone's earlier key): refused."""


class TooNew(ValueError):
    """A down bundle that starts after what this phone holds: applying it would skip the changes
    between (a bundle lost on the way). Nothing is applied; a sync or a newer bundle fills it."""


class Down(NamedTuple):
    after: int
    next: int
    more: bool
    events: list[dict[str, Any]]
    team_settings: Any = None  # on a last page, as the pull's last page carries them


class Opened(NamedTuple):
    """What accepting a down bundle did."""
    events: int  # the changes it held
    fresh: bool  # it moved the phone forward (False: stale or already applied, so harmless)
    more: bool  # the server had more: another bundle (or a sync) brings the rest


def new_sign_key() -> SignKey:
    key = Ed25519PrivateKey.generate()
    return SignKey(fmt.b64(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())),
                   fmt.b64(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)))


def new_box_key() -> SignKey:
    """The phone's X25519 key pair: down bundles are sealed to its public half."""
    key = X25519PrivateKey.generate()
    return SignKey(fmt.b64(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())),
                   fmt.b64(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)))


def box_public_of(private: str) -> str:
    key = X25519PrivateKey.from_private_bytes(fmt.unb64(private, fmt.KEY_BYTES))
    return fmt.b64(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def public_of(private: str) -> str:
    """The public key of a private signing key (both base64url)."""
    key = Ed25519PrivateKey.from_private_bytes(fmt.unb64(private, fmt.KEY_BYTES))
    return fmt.b64(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def seal_bundle(events: list[dict[str, Any]], device_id: str, sign_private: str, server_seal_key: str) -> bytes:
    """The bundle file of these events (consecutive seqs of this device's, in order)."""
    if not events:
        raise ValueError("a bundle holds at least one visit")
    seqs = [e["seq"] for e in events]
    if seqs != list(range(seqs[0], seqs[0] + len(seqs))):
        raise ValueError("a bundle holds consecutive seqs")
    server_public = fmt.unb64(server_seal_key, fmt.KEY_BYTES)
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(server_public))
    key = HKDF(hashes.SHA256(), 32, salt=None, info=fmt.HKDF_INFO + ephemeral_public + server_public).derive(shared)
    bundle: dict[str, Any] = {"format": fmt.BUNDLE_FORMAT, "device_id": device_id, "seq_from": seqs[0],
                              "seq_to": seqs[-1], "server_key": server_seal_key,
                              "ephemeral": fmt.b64(ephemeral_public)}
    nonce = os.urandom(fmt.NONCE_BYTES)
    plain = json.dumps({"schema": 1, "events": events}, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    sealed = AESGCM(key).encrypt(nonce, plain, fmt.aad(bundle))
    bundle.update(nonce=fmt.b64(nonce), sealed=fmt.b64(sealed), size=len(sealed))
    signer = Ed25519PrivateKey.from_private_bytes(fmt.unb64(sign_private, fmt.KEY_BYTES))
    bundle["signature"] = fmt.b64(signer.sign(fmt.signed_bytes(bundle)))
    return fmt.canonical(bundle)


def read_receipt(raw: bytes, server_sign_key: str, device_id: str) -> dict[str, Any]:
    """The server's receipt for this device, its signature checked; fmt.BadFile otherwise."""
    receipt = fmt.read_receipt(raw)
    try:
        Ed25519PublicKey.from_public_bytes(fmt.unb64(server_sign_key, fmt.KEY_BYTES)).verify(
            fmt.unb64(receipt["signature"]), fmt.signed_bytes(receipt))
    except InvalidSignature:
        raise fmt.BadFile("the receipt's signature does not match: not from this server, or changed") from None
    if receipt["device_id"] != device_id:
        raise fmt.BadFile("the receipt is another phone's")
    return receipt


def make_bundle(store: Store) -> bytes | None:
    """The bundle of this phone's unsent visits (at most a push's worth); None when nothing is
    unsent. The visits stay pending until the server's receipt, or the next sync, says it holds them."""
    keys, private, device_id = store.server_keys, store.sign_key, store.device_id
    if not isinstance(keys, dict) or not keys.get("seal") or not private or not device_id:
        raise RelayUnavailable("this phone has no relay keys yet: sync once while online")
    events = store.pending(limit=MAX_BATCH)
    return seal_bundle(events, device_id, private, keys["seal"]) if events else None


def accept_receipt(store: Store, raw: bytes) -> dict[str, Any]:
    """A receipt carried back: checked with the server's key, then acknowledged as a push answer
    would be (every seq up to acked_seq held, the quarantined ones refused). fmt.BadFile if not."""
    keys = store.server_keys
    if not isinstance(keys, dict) or not keys.get("sign") or not store.device_id:
        raise RelayUnavailable("this phone has no relay keys yet: sync once while online")
    receipt = read_receipt(raw, keys["sign"], store.device_id)
    store.acknowledge(receipt["acked_seq"], [{"seq": seq, "reason": reason} for seq, reason in receipt["quarantined"]])
    return receipt


def open_down(raw: bytes, server_sign_key: str, device_id: str, box_private: str) -> Down:
    """A down bundle checked and opened: fmt.BadFile if it is not the server's, unchanged;
    WrongPhone if it is for another phone or another box key of this one."""
    bundle = fmt.read_down(raw)
    try:  # the signature first: nothing of a forged file is decrypted
        Ed25519PublicKey.from_public_bytes(fmt.unb64(server_sign_key, fmt.KEY_BYTES)).verify(
            fmt.unb64(bundle["signature"]), fmt.signed_bytes(bundle))
    except InvalidSignature:
        raise fmt.BadFile("the bundle's signature does not match: not from this server, or changed") from None
    private = X25519PrivateKey.from_private_bytes(fmt.unb64(box_private, fmt.KEY_BYTES))
    mine = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    if bundle["device_id"] != device_id or fmt.unb64(bundle["box_key"]) != mine:
        raise WrongPhone("the bundle is for another phone")
    ephemeral = fmt.unb64(bundle["ephemeral"])
    shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral))
    key = HKDF(hashes.SHA256(), 32, salt=None, info=fmt.DOWN_HKDF_INFO + ephemeral + mine).derive(shared)
    try:
        plain = AESGCM(key).decrypt(fmt.unb64(bundle["nonce"]), fmt.unb64(bundle["sealed"]), fmt.down_aad(bundle))
    except InvalidTag:
        raise fmt.BadFile("the bundle does not open with this phone's key") from None
    page = fmt.read_down_page(plain)
    return Down(page["after"], page["next"], page["more"], page["events"], page.get("team_settings"))


def accept_down(store: Store, raw: bytes) -> Opened:
    """A down bundle carried by the leader, applied exactly as a pull page: fmt.BadFile (or
    WrongPhone) if it does not verify, TooNew if it starts past this phone's cursor. The cursor
    only moves forward: a stale or repeated bundle stores nothing new."""
    keys, private, device_id = store.server_keys, store.box_key, store.device_id
    if not isinstance(keys, dict) or not keys.get("sign") or not private or not device_id:
        raise RelayUnavailable("this phone has no relay keys yet: sync once while online")
    down = open_down(raw, keys["sign"], device_id, private)
    before = store.pull_cursor
    if down.after > before:
        raise TooNew(f"the bundle starts after cursor {down.after}; this phone holds up to {before}")
    store.apply_pulled(down.events, down.next)
    if down.team_settings is not None and down.next > before:  # a stale bundle's may be older
        store.keep_team_settings(down.team_settings)
    return Opened(len(down.events), down.next > before, down.more)
