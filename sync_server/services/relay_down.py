"""The sealed relay's down road (issue #15): a leader carries the server's changes to a phone.

A phone out of reach for days gets its work the way it sends it: through its leader. The
leader, online, asks for a down bundle for one phone of the team (GET /api/v1/sync/relay-down;
an officer for one of the commune, an admin for any). The server builds exactly the pull page
that phone would get (its own scope, from the cursor it is known to hold, or `after`), seals it
to the phone's X25519 box key (an ephemeral X25519 exchange, HKDF-SHA256, AES-256-GCM with the
header as associated data: the up road's construction, the other way) and signs the whole file
with the server's Ed25519 key. The leader can carry it and can neither read nor change it; the
phone checks the signature with the server key it pinned, opens the seal with its private key
and applies the page as a pull (field_app/relay.py, accept_down). Nothing on the server changes
but one audit row: the phone's cursor moves when the phone applies the page, not here.
No cryptography is made here: `cryptography`'s primitives only; campaign/relay.py has the layout.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import Connection, Engine

from campaign import relay as fmt

from ..store import devices as store_devices
from ..store import keys as store
from ..store import pull as store_pull
from ..store.db import read_transaction, short_write_transaction
from . import audit, relay, team, team_settings
from .enrolment import Caller, scope_of
from .errors import Conflict, Forbidden, Invalid

ACTION = "relay.down"


@dataclass(frozen=True)
class DownBundle:
    device_id: str
    raw: bytes  # the file, its canonical bytes
    after: int
    next: int
    more: bool  # the phone's pull would have more: another bundle (or its own sync) brings it
    events: int


def file_name(device_id: str, reached: int) -> str:
    """The file's name: which phone it is for (the id's start, as the app names phones it cannot
    name otherwise) and where it ends. `.gocua` like the up road's: the content says what it is."""
    return f"gocua-nhan-nho-{device_id.replace('-', '')[:6].upper()}-{reached}.gocua"


def check_box_key(key: Any) -> str:
    """An X25519 public key as base64url, or Invalid `bad_key`."""
    try:
        X25519PublicKey.from_public_bytes(fmt.unb64(key, fmt.KEY_BYTES))
    except (fmt.BadFile, ValueError):
        raise Invalid("bad_key", "box_key must be an X25519 public key, 32 bytes in base64url") from None
    return str(key)


def register_box_key(conn: Connection, device_id: str, key: str) -> None:
    """The device's box key, set once like its signing key: the same again is fine, another is
    `key_exists` (a phone changes its keys by enrolling again)."""
    key = check_box_key(key)
    if store.set_box_key(conn, device_id, key):
        return
    if store.box_key(conn, device_id) != key:
        raise Conflict("key_exists", "this device has another box key: enrol it again to change it")


def seal_down(page: dict[str, Any], device_id: str, box_key: str, sign_private: str) -> bytes:
    """The down bundle of one pull page for the phone of `box_key`, signed with the server's key."""
    box_public = fmt.unb64(box_key, fmt.KEY_BYTES)
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(box_public))
    key = HKDF(hashes.SHA256(), 32, salt=None, info=fmt.DOWN_HKDF_INFO + ephemeral_public + box_public).derive(shared)
    bundle: dict[str, Any] = {"format": fmt.DOWN_FORMAT, "device_id": device_id, "box_key": box_key,
                              "ephemeral": fmt.b64(ephemeral_public)}
    nonce = os.urandom(fmt.NONCE_BYTES)
    plain = json.dumps(page, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    sealed = AESGCM(key).encrypt(nonce, plain, fmt.down_aad(bundle))
    bundle.update(nonce=fmt.b64(nonce), sealed=fmt.b64(sealed), size=len(sealed))
    signer = Ed25519PrivateKey.from_private_bytes(fmt.unb64(sign_private, fmt.KEY_BYTES))
    bundle["signature"] = fmt.b64(signer.sign(fmt.signed_bytes(bundle)))
    return fmt.canonical(bundle)


def build(conn: Connection, device_id: str, after: int | None, limit: int) -> DownBundle:
    """The down bundle for a device (its access is the caller's to check): the pull page its own
    scope gives from `after` (None: the cursor it is known to hold). Refuses a revoked phone
    (`recipient_revoked`) and one with no box key (`no_box_key`)."""
    device = store_devices.get(conn, device_id)
    assert device is not None  # team.member found it
    if device.revoked:
        raise Forbidden("recipient_revoked", "this phone has been revoked: nothing is sent to it")
    box_key = store.box_key(conn, device_id)
    if box_key is None:
        raise Conflict("no_box_key", "this phone has registered no box key: it must sync directly once")
    sign = store.server_key(conn, relay.SIGN)
    if sign is None:  # a phone that registered a key has learnt the server's: they exist by then
        raise Conflict("no_box_key", "this server has no keys yet: the phone must sync directly once")
    start = store_devices.pulled_after(conn, device_id) if after is None else after
    rows, more = store_pull.pull(conn, scope_of(conn, device), start, limit)
    reached = rows[-1][0] if rows else start
    # the stored bodies are canonical JSON already: the cursor spliced in, as GET /sync/pull does
    events = [json.loads(f'{body[:-1]},"cursor":{cursor}}}') for cursor, body in rows]
    page: dict[str, Any] = {"after": start, "next": reached, "more": more, "events": events}
    if not more:  # as the pull's last page: the team's settings the phone works with
        page["team_settings"] = team_settings.for_device(conn, device).as_wire()
    return DownBundle(device_id, seal_down(page, device_id, box_key, sign.private_key), start, reached, more,
                      len(events))


def down_bundle(engine: Engine, who: Caller, device_id: str, after: int | None, limit: int) -> DownBundle:
    """GET /api/v1/sync/relay-down: a member device's down bundle, for its leader (or the commune's
    officer, or an admin), with one audit row (who made a bundle for which phone, never what)."""
    with read_transaction(engine) as conn:
        row = team.member(conn, who, device_id)
        made = build(conn, device_id, after, limit)
    with short_write_transaction(engine) as conn:  # an audit row assigns no cursor: no server-wide lock
        audit.record(conn, who, ACTION, row.commune or who.device.commune,
                     detail={"device_id": device_id, "after": made.after, "next": made.next, "events": made.events})
    return made
