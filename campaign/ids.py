"""Identifiers.

Entity and event ids are UUIDv7: time-ordered, so the indexes that hold them
append instead of scattering (a random UUID key cost 3.6x on SQLite inserts on
these machines). Python 3.11 has no uuid7, so it is built here per RFC 9562.
"""
from __future__ import annotations

import hashlib
import os
import re
import threading
import time
import uuid

_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


_lock = threading.Lock()
_last = [0, 0]  # (milliseconds, 12-bit counter) of the last id made here


def uuid7() -> str:
    """Monotonic within this process (RFC 9562, method 1: a counter in rand_a), so
    things made one after another in the same millisecond also sort in that order."""
    with _lock:
        millis = time.time_ns() // 1_000_000
        if millis <= _last[0]:  # same millisecond, or the clock stepped back
            millis, counter = _last[0], _last[1] + 1
            if counter > 0xFFF:  # 4,096 ids in one millisecond: borrow the next one
                millis, counter = millis + 1, 0
        else:
            counter = int.from_bytes(os.urandom(2), "big") & 0x7FF  # leave room to count up
        _last[0], _last[1] = millis, counter
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= counter << 64  # rand_a
    value |= 0b10 << 62  # variant
    value |= rand_b
    return str(uuid.UUID(int=value))


# Every lowercase hex digit as "0", anything else as itself: an id's bytes so mapped are the
# template exactly when it matches _UUID_RE (tests/campaign/test_ids.py holds the two equal).
_HEX_TO_ZERO = bytes.maketrans(b"0123456789abcdef", b"0" * 16)
_TEMPLATE = b"00000000-0000-0000-0000-000000000000"


def is_uuid(value: object) -> bool:
    """Canonical lowercase hyphenated form only, so one id has one spelling (_UUID_RE). Checked
    as bytes mapped through a table, a fifth of the regex's cost on an id not seen before, and
    nearly every id a push brings is new (issue #16: two to four asks an event)."""
    return (isinstance(value, str) and len(value) == 36 and value.isascii()
            and value.encode().translate(_HEX_TO_ZERO) == _TEMPLATE)


# Crockford's base 32: no I, L, O or U, so a code read off paper is typed without doubt.
_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 5


def short_code(entity_id: str) -> str:
    """A five-character code for a household on a printed walk sheet ("7KM2Q"), the same on the
    server and the phone: the volunteer types it to open the household. From a hash of the id
    (32^5 codes: two households of one hamlet share one by chance about once in 60,000 hamlets
    of 500 households; the app then lists both)."""
    digest = int.from_bytes(hashlib.sha256(entity_id.encode("ascii")).digest()[:8], "big")
    out = []
    for _ in range(CODE_LENGTH):
        digest, rest = divmod(digest, 32)
        out.append(_CODE_ALPHABET[rest])
    return "".join(out)


def normal_code(typed: str) -> str:
    """A typed code as short_code writes it: upper case, spaces and dashes dropped, and the
    letters Crockford reads as digits (O -> 0, I and L -> 1)."""
    text = "".join(c for c in typed.upper() if c not in " -")
    return text.translate(str.maketrans("OIL", "011"))


def device_short(device_id: str) -> str:
    """A device named in six characters when its holder's name is not known ("0190F2" for
    "0190f2a3-…"): the same on the phone's screens and the server's paper, so a leader can
    match a "Máy 0190F2" on a walk sheet with the one in the app."""
    return device_id.replace("-", "")[:6].upper()
