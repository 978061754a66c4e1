"""Walk lists: who holds which household, when an assignment lapses, and a hamlet cut into parts.

Pure (stdlib only): the phone's lists and the server's walk sheet agree on who holds a
household. A leader assigns with `assignment.set` (entity: the household; data
`{"device_id": ID or null}`); the projection keeps `assigned_to` and `assigned_at`.

An assignment lapses when the household has not been worked (no visit) for
`lapse_days` days (a team setting, DEFAULT_LAPSE_DAYS): counted from the later of
the assignment and the household's last visit. A lapsed household is back in the
pool: `holder` answers None and `lapsed` True (so the leader is told). Nothing
is written when it lapses: it is computed from the times and an injected clock.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from .events import parse_at

DEFAULT_LAPSE_DAYS = 5
MIN_LAPSE_DAYS, MAX_LAPSE_DAYS = 1, 60


def _worked_since(household: dict[str, Any]) -> datetime | None:
    times = [parse_at(t) for t in (household.get("assigned_at"), household.get("last_visit_at")) if t]
    return max(times) if times else None


def lapsed(household: dict[str, Any], now: datetime, lapse_days: int = DEFAULT_LAPSE_DAYS) -> bool:
    """Assigned, and neither assigned nor visited in the last `lapse_days` days."""
    if household.get("assigned_to") is None:
        return False
    since = _worked_since(household)
    return since is not None and now - since > timedelta(days=lapse_days)


def holder(household: dict[str, Any], now: datetime, lapse_days: int = DEFAULT_LAPSE_DAYS) -> str | None:
    """The device holding the household now: its assignment unless it lapsed."""
    if lapsed(household, now, lapse_days):
        return None
    device = household.get("assigned_to")
    return device if isinstance(device, str) else None


def split(work: Sequence[tuple[str, int]], parts: int) -> list[list[str]]:
    """Cut households, given in walking order with their work (1 per household, or more for
    the people who still need the team), into `parts` runs of about equal work, each run
    contiguous in walking order (a volunteer walks one stretch). Fewer households than
    parts: one each, and the rest empty."""
    if parts < 1:
        raise ValueError("parts must be at least 1")
    total = sum(max(w, 1) for _i, w in work)
    out: list[list[str]] = [[] for _ in range(parts)]
    done, part = 0, 0
    for index, (household, weight) in enumerate(work):
        left = len(work) - index  # households still to place, this one included
        # move on when this part has its share, or the parts still empty need the households left
        if out[part] and part < parts - 1 and (done >= total * (part + 1) / parts or left <= parts - 1 - part):
            part += 1
        out[part].append(household)
        done += max(weight, 1)
    return out
