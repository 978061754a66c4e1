"""The phone's side of the sealed relay (issue #15; docs/sync.md, "Sealed relay").

- `new_sign_key()`: the phone's Ed25519 key pair, made at enrolment; the private key lives
  in the sealed store, the public key goes with the enrolment request.
- `seal_bundle()`: unsent events sealed to the server's X25519 key (ephemeral X25519,
  HKDF-SHA256, AES-256-GCM with the routing header as associated data), the whole file
  signed with the phone's key. Whoever carries it reads the header only: the phone's id,
  the seq range and the size.
- `read_receipt()`: the server's signed receipt, checked with the server's Ed25519 key.

`cryptography`'s primitives only; the layout is campaign/relay.py's.
"""
from __future__ import annotations

import json
import os
from typing import Any, NamedTuple

from cryptography.exceptions import InvalidSignature
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


def new_sign_key() -> SignKey:
    key = Ed25519PrivateKey.generate()
    return SignKey(fmt.b64(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())),
                   fmt.b64(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)))


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
