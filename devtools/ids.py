"""Ids drawn from a seeded random generator: reproducible data sets, shaped like real ids."""
from __future__ import annotations

import random
from datetime import datetime


def uuid7_at(rng: random.Random, at: datetime) -> str:
    """A UUIDv7 for a moment, the rest of its bits from `rng`.

    Time-ordered like campaign.ids.uuid7, so the server's indexes append as they
    would for real devices, but the same for the same seed."""
    millis = int(at.timestamp() * 1000) + rng.randrange(1000)
    value = (millis & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rng.getrandbits(12) << 64 \
        | 0b10 << 62 | rng.getrandbits(62)
    return _text(value)


def uuid4_of(rng: random.Random) -> str:
    """A UUIDv4 from `rng`: a device id the server would have drawn."""
    value = rng.getrandbits(128) & ~(0xF << 76) | 0x4 << 76
    value = value & ~(0b11 << 62) | 0b10 << 62
    return _text(value)


def _text(value: int) -> str:
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
