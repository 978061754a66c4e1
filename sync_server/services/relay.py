"""The sealed relay (issue #15): a phone's events carried to the server by someone else.

The phone seals its unsent events to the server's X25519 key (an ephemeral X25519
exchange, HKDF-SHA256, AES-256-GCM) and signs the whole file with its Ed25519 key
(registered at enrolment); campaign/relay.py has the layout. Whoever carries the
file (any enrolled device: POST /api/v1/sync/relay; or `gocua-server relay import`)
can neither read nor change it. Here the server:

1. reads the file strictly (its canonical bytes: one changed bit is another file);
2. finds the origin device and checks the signature with the key it registered;
3. refuses a revoked origin (`origin_revoked`);
4. opens the seal (its header is bound to the ciphertext as associated data);
5. applies the events exactly as a push of the origin's (services/ingest.push: same
   order, gap and quarantine rules, exactly once, so a replayed bundle changes nothing);
6. answers a receipt for the origin phone, signed with the server's Ed25519 key.

Any failure before step 5 refuses the bundle whole and stores nothing. The carrier's
side keeps the file as it came: nothing in it is readable but the routing header.
No cryptography is made here: `cryptography`'s primitives only.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from sqlalchemy import Connection

from campaign import relay as fmt

from ..store import devices as store_devices
from ..store import events as store_events
from ..store import keys as store
from ..store.devices import Device, Scope
from . import clock, ingest
from . import pull as pulling
from .enrolment import Caller, scope_of
from .errors import Conflict, Forbidden, Invalid, NotFound

SEAL, SIGN = "seal", "sign"


@dataclass(frozen=True)
class ServerKeys:
    seal: str  # X25519 public key, base64url: bundles are sealed to it
    sign: str  # Ed25519 public key, base64url: receipts are signed with it


@dataclass(frozen=True)
class Relayed:
    device_id: str
    acked_seq: int
    quarantined: list[ingest.Refusal]
    receipt: dict[str, Any]  # signed by the server, for the origin phone


def _raw(private: X25519PrivateKey | Ed25519PrivateKey) -> store.KeyPair:
    return store.KeyPair(
        fmt.b64(private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())),
        fmt.b64(private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)))


def published(conn: Connection) -> ServerKeys | None:
    """The server's public keys, or None before they are made (`ensure_keys`)."""
    seal, sign = store.server_key(conn, SEAL), store.server_key(conn, SIGN)
    return ServerKeys(seal.public_key, sign.public_key) if seal and sign else None


def ensure_keys(conn: Connection) -> ServerKeys:
    """The server's public keys, made once (call in a write transaction: the write lock makes
    two first calls agree)."""
    if store.server_key(conn, SEAL) is None:
        store.insert_server_key(conn, SEAL, _raw(X25519PrivateKey.generate()), clock.now_iso())
    if store.server_key(conn, SIGN) is None:
        store.insert_server_key(conn, SIGN, _raw(Ed25519PrivateKey.generate()), clock.now_iso())
    keys = published(conn)
    assert keys is not None
    return keys


def check_sign_key(key: Any) -> str:
    """An Ed25519 public key as base64url, or Invalid `bad_key`."""
    try:
        Ed25519PublicKey.from_public_bytes(fmt.unb64(key, fmt.KEY_BYTES))
    except (fmt.BadFile, ValueError):
        raise Invalid("bad_key", "sign_key must be an Ed25519 public key, 32 bytes in base64url") from None
    return str(key)


def register_key(conn: Connection, device_id: str, key: str) -> None:
    """The device's signing key, set once: the same key again is fine, another is refused
    (`key_exists`: a device's key is changed by enrolling again)."""
    key = check_sign_key(key)
    if store.set_sign_key(conn, device_id, key):
        return
    if store.sign_key(conn, device_id) != key:
        raise Conflict("key_exists", "this device has another signing key: enrol it again to change it")


def _bad(detail: str) -> Invalid:
    return Invalid("bad_bundle", f"the bundle is refused whole: {detail}")


def open_bundle(conn: Connection, raw: bytes) -> tuple[Device, list[dict[str, Any]]]:
    """The origin device and the events of a bundle, verified and decrypted; nothing stored."""
    try:
        bundle = fmt.read_bundle(raw)
    except fmt.BadFile as bad:
        raise _bad(str(bad)) from None
    device = store_devices.get(conn, bundle["device_id"])
    if device is None:
        raise NotFound("unknown_device", "the bundle's phone is not enrolled on this server")
    key = store.sign_key(conn, device.id)
    if key is None:
        raise Conflict("no_sign_key", "the bundle's phone has registered no signing key: it must sync once")
    try:
        Ed25519PublicKey.from_public_bytes(fmt.unb64(key)).verify(fmt.unb64(bundle["signature"]),
                                                                   fmt.signed_bytes(bundle))
    except InvalidSignature:
        raise _bad("its signature does not match its content") from None
    if device.revoked:
        raise Forbidden("origin_revoked", "the bundle's phone has been revoked: its visits are not taken")
    seal = store.server_key(conn, SEAL)
    if seal is None or bundle["server_key"] != seal.public_key:
        raise _bad("it was sealed to another server key")
    private = X25519PrivateKey.from_private_bytes(fmt.unb64(seal.private_key))
    ephemeral = fmt.unb64(bundle["ephemeral"])
    shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral))
    key_bytes = HKDF(hashes.SHA256(), 32, salt=None,
                     info=fmt.HKDF_INFO + ephemeral + fmt.unb64(seal.public_key)).derive(shared)
    try:
        plain = AESGCM(key_bytes).decrypt(fmt.unb64(bundle["nonce"]), fmt.unb64(bundle["sealed"]), fmt.aad(bundle))
        body = json.loads(plain.decode("utf-8"))
    except (InvalidTag, UnicodeDecodeError, ValueError):
        raise _bad("it does not open with this server's key") from None
    events = ingest.validate_body(body, device.id)
    seqs = [e["seq"] for e in events]
    if seqs != list(range(bundle["seq_from"], bundle["seq_to"] + 1)):
        raise _bad("its events are not the seq range its header names")
    return device, events


def relay(conn: Connection, raw: bytes) -> Relayed:
    """Apply a bundle's events as the origin's push and sign a receipt. Call in a write
    transaction; refused whole (nothing stored) if the bundle does not verify, or if its
    first new event is not the next the server expects (`gap`)."""
    device, events = open_bundle(conn, raw)
    scope: Scope = scope_of(conn, device)
    result = ingest.push(conn, device, scope, events)
    if result.error == "gap":
        raise Conflict("gap", result.detail, acked_seq=result.acked_seq, expected_seq=result.expected_seq)
    if result.error == "seq_reused":
        raise Conflict("seq_reused", result.detail, acked_seq=result.acked_seq)
    return Relayed(device.id, result.acked_seq, result.quarantined,
                   signed_receipt(conn, device, scope))


def signed_receipt(conn: Connection, device: Device, scope: Scope) -> dict[str, Any]:
    """What the server holds of the device, signed. `quarantined` lists every event of the device
    held as quarantined, not only the bundle's: a phone that missed an earlier receipt (or answer)
    must not take those seqs for accepted when it acknowledges up to `acked_seq`."""
    held = pulling.receipt(conn, Caller(device, scope))
    receipt: dict[str, Any] = {
        "format": fmt.RECEIPT_FORMAT, "device_id": device.id, "acked_seq": held.acked_seq,
        "counts": held.counts, "digest": held.digest,
        "quarantined": [[seq, reason] for seq, reason in store_events.quarantined_of(conn, device.id)]}
    private = store.server_key(conn, SIGN)
    if private is None:
        ensure_keys(conn)
        private = store.server_key(conn, SIGN)
        assert private is not None
    signer = Ed25519PrivateKey.from_private_bytes(fmt.unb64(private.private_key))
    receipt["signature"] = fmt.b64(signer.sign(fmt.signed_bytes(receipt)))
    return receipt
