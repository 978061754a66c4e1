"""Review that scales (issue #13, item 6): a leader looks closely at a random sample of each
volunteer's day, then approves the rest in one action.

The sample is deterministic: the same visits of a volunteer's day are picked on every phone
and every time the queue is drawn (a SHA-256 of day, device and visit id orders them), about
one in `every` (at least one a day), so a leader cannot be steered by the order visits arrive.
"""
from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable

SAMPLE_EVERY = 10  # one visit in ten looked at closely, unless the team says otherwise


def _draw(day: str, device_id: str, visit_id: str) -> str:
    return hashlib.sha256(f"{day}|{device_id}|{visit_id}".encode()).hexdigest()


def sample(day: str, device_id: str, visit_ids: Iterable[str], every: int = SAMPLE_EVERY) -> frozenset[str]:
    """The visits of `device_id`'s `day` to look at closely: ceil(n / every) of them (every >= 1)."""
    ids = sorted(set(visit_ids))
    if not ids:
        return frozenset()
    size = math.ceil(len(ids) / max(1, every))
    return frozenset(sorted(ids, key=lambda visit_id: _draw(day, device_id, visit_id))[:size])
