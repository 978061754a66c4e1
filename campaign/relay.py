"""The sealed relay's file formats, as both ends read them (docs/sync.md, "Sealed relay").

Standard library only: the cryptography is the phone's (field_app/relay.py seals and
signs) and the server's (sync_server/services/relay.py verifies and opens). What is
shared is the layout, the exact bytes that are signed and authenticated, and the
strict reading that makes one changed bit refuse the whole file.

A bundle is one JSON object, written in its canonical form (keys sorted, no spaces,
ASCII); a file whose bytes are not the canonical form of what they parse to is
refused, so no two files mean the same bundle:

    format      "gocua-relay/1"
    device_id   the origin phone (routing: the carrier and the server see it)
    seq_from    first seq of the events inside   } routing: what the bundle holds
    seq_to      last seq                          }
    size        bytes of `sealed` once decoded
    server_key  the server's X25519 public key it was sealed to (base64url)
    ephemeral   the phone's one-time X25519 public key (base64url)
    nonce       AES-GCM nonce (base64url, 12 bytes)
    sealed      AES-256-GCM of the push body {"schema": 1, "events": [...]} (base64url)
    signature   Ed25519 by the phone over `signed_bytes` (base64url, 64 bytes)

A receipt is the server's answer for the origin phone, signed by the server:

    format      "gocua-receipt/1"
    device_id, acked_seq, counts, digest   as GET /sync/receipt answers for the device
    quarantined [[seq, reason code], ...] of every event of the device held as quarantined
    signature   Ed25519 by the server over `signed_bytes`

A down bundle is the server's answer for one phone, carried to it by its leader (the
"down" road): what that phone's pull would give, sealed to the phone's X25519 box key and
signed by the server, so the carrier can neither read nor change it:

    format      "gocua-down/1"
    device_id   the phone it is for (routing: the carrier sees it)
    size        bytes of `sealed` once decoded
    box_key     the phone's X25519 public key it was sealed to (base64url)
    ephemeral   the server's one-time X25519 public key (base64url)
    nonce       AES-GCM nonce (base64url, 12 bytes)
    sealed      AES-256-GCM of the page {"after", "next", "more", "events": [...]} (base64url),
                and on a last page the team's "team_settings", as a pull's last page
    signature   Ed25519 by the server over `signed_bytes`

The cursors are inside the seal, not in clear: the carrier learns the phone and the size only.
"""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any

BUNDLE_FORMAT = "gocua-relay/1"
RECEIPT_FORMAT = "gocua-receipt/1"
DOWN_FORMAT = "gocua-down/1"
HKDF_INFO = b"gocua-relay/1 seal"  # + ephemeral public key + server public key
DOWN_HKDF_INFO = b"gocua-down/1 seal"  # + ephemeral public key + the phone's box key
BUNDLE_KEYS = frozenset({"format", "device_id", "seq_from", "seq_to", "size", "server_key", "ephemeral",
                         "nonce", "sealed", "signature"})
AAD_KEYS = ("format", "device_id", "seq_from", "seq_to", "server_key", "ephemeral")  # bound to the ciphertext
DOWN_KEYS = frozenset({"format", "device_id", "size", "box_key", "ephemeral", "nonce", "sealed", "signature"})
DOWN_AAD_KEYS = ("format", "device_id", "box_key", "ephemeral")
DOWN_PAGE_KEYS = frozenset({"after", "next", "more", "events"})
RECEIPT_KEYS = frozenset({"format", "device_id", "acked_seq", "counts", "digest", "quarantined", "signature"})
KEY_BYTES = 32  # X25519 and Ed25519 public keys
SIGNATURE_BYTES = 64
NONCE_BYTES = 12
MAX_SEQ = 2**63 - 1


class BadFile(ValueError):
    """Not a bundle (or receipt) of this format, or not its canonical bytes: refused whole."""


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def unb64(text: Any, length: int | None = None) -> bytes:
    """Strict: base64url without padding, in its one canonical spelling (unused low bits zero)."""
    if not isinstance(text, str) or not text.isascii():
        raise BadFile("not base64url text")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise BadFile("not base64url text") from None
    if b64(raw) != text:
        raise BadFile("base64url not in its canonical spelling")
    if length is not None and len(raw) != length:
        raise BadFile(f"expected {length} bytes, got {len(raw)}")
    return raw


def signed_bytes(document: dict[str, Any]) -> bytes:
    """What the signature covers: the canonical form of every field but the signature."""
    return canonical({k: v for k, v in document.items() if k != "signature"})


def aad(bundle: dict[str, Any]) -> bytes:
    """The associated data of the AES-GCM seal: the header fields the ciphertext is bound to."""
    return canonical({k: bundle[k] for k in AAD_KEYS})


def down_aad(bundle: dict[str, Any]) -> bytes:
    """The associated data of a down bundle's seal."""
    return canonical({k: bundle[k] for k in DOWN_AAD_KEYS})


def _load_canonical(raw: bytes, keys: frozenset[str]) -> dict[str, Any]:
    try:
        document = json.loads(raw.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise BadFile("not a JSON file") from None
    if not isinstance(document, dict) or set(document) != keys:
        raise BadFile("not a file of this format (its fields)")
    if canonical(document) != raw:
        raise BadFile("not the canonical bytes of its content")
    return document


def _seq(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_SEQ


def read_bundle(raw: bytes) -> dict[str, Any]:
    """The bundle's fields, checked for shape only (no signature, no decryption). BadFile otherwise."""
    bundle = _load_canonical(raw, BUNDLE_KEYS)
    if bundle["format"] != BUNDLE_FORMAT:
        raise BadFile(f"format {bundle['format']!r} is not {BUNDLE_FORMAT}")
    if not isinstance(bundle["device_id"], str) or not 1 <= len(bundle["device_id"]) <= 64:
        raise BadFile("device_id")
    if not (_seq(bundle["seq_from"]) and _seq(bundle["seq_to"]) and bundle["seq_from"] <= bundle["seq_to"]):
        raise BadFile("seq range")
    for name, length in (("server_key", KEY_BYTES), ("ephemeral", KEY_BYTES), ("nonce", NONCE_BYTES),
                         ("signature", SIGNATURE_BYTES)):
        unb64(bundle[name], length)
    if len(unb64(bundle["sealed"])) != bundle["size"]:
        raise BadFile("size")
    return bundle


def read_receipt(raw: bytes) -> dict[str, Any]:
    """The receipt's fields, checked for shape only (the signature is the caller's)."""
    receipt = _load_canonical(raw, RECEIPT_KEYS)
    if receipt["format"] != RECEIPT_FORMAT:
        raise BadFile(f"format {receipt['format']!r} is not {RECEIPT_FORMAT}")
    if not isinstance(receipt["acked_seq"], int) or not isinstance(receipt["device_id"], str):
        raise BadFile("receipt fields")
    unb64(receipt["signature"], SIGNATURE_BYTES)
    return receipt


def read_down(raw: bytes) -> dict[str, Any]:
    """A down bundle's fields, checked for shape only (the signature and the seal are the phone's)."""
    bundle = _load_canonical(raw, DOWN_KEYS)
    if bundle["format"] != DOWN_FORMAT:
        raise BadFile(f"format {bundle['format']!r} is not {DOWN_FORMAT}")
    if not isinstance(bundle["device_id"], str) or not 1 <= len(bundle["device_id"]) <= 64:
        raise BadFile("device_id")
    for name, length in (("box_key", KEY_BYTES), ("ephemeral", KEY_BYTES), ("nonce", NONCE_BYTES),
                         ("signature", SIGNATURE_BYTES)):
        unb64(bundle[name], length)
    if len(unb64(bundle["sealed"])) != bundle["size"]:
        raise BadFile("size")
    return bundle


def _cursor(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_SEQ


def read_down_page(plain: bytes) -> dict[str, Any]:
    """The opened seal of a down bundle: {"after", "next", "more", "events"}, as a pull page
    (the events as the pull sends them, each with its cursor; on a last page, the team's
    `team_settings` too, as the pull's last page carries them). BadFile otherwise."""
    try:
        page = json.loads(plain.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadFile("the sealed page is not JSON") from None
    if not isinstance(page, dict) or set(page) - {"team_settings"} != DOWN_PAGE_KEYS:
        raise BadFile("the sealed page's fields")
    if not (_cursor(page["after"]) and _cursor(page["next"]) and page["after"] <= page["next"]) \
            or not isinstance(page["more"], bool) or not isinstance(page["events"], list):
        raise BadFile("the sealed page's cursors")
    # not "after < cursor": a household moving into the phone's hamlets comes with its history,
    # at the lower cursors it was filed at (docs/sync.md, "Households that move"), as in a pull
    if not all(isinstance(e, dict) and _cursor(e.get("cursor")) and e["cursor"] <= page["next"]
               for e in page["events"]):
        raise BadFile("the sealed page's events and their cursors")
    return page
