"""Identifiers.

Entity and event ids are UUIDv7: time-ordered, so the indexes that hold them
append instead of scattering (a random UUID key cost 3.6x on SQLite inserts on
these machines). Python 3.11 has no uuid7, so it is built here per RFC 9562.
"""
from __future__ import annotations

import os
import re
import time
import uuid

_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def uuid7() -> str:
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= (rand >> 68) << 64 & (0xFFF << 64)  # rand_a, 12 bits
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # rand_b
    return str(uuid.UUID(int=value))


def is_uuid(value: object) -> bool:
    """Canonical lowercase hyphenated form only, so one id has one spelling."""
    return isinstance(value, str) and _UUID_RE.fullmatch(value) is not None
