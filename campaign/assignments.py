"""Walk lists: who holds which household, when an assignment lapses, and a hamlet cut into parts.

Pure (stdlib only): the phone's lists and the server's walk sheet agree on who holds a
household. A leader assigns with `assignment.set` (entity: the household; data
`{"device_id": ID or null}`); the projection keeps `assigned_to` and `assigned_at`.

An assignment lapses when the household has not been worked (no visit) for
`lapse_days` days (a team setting, DEFAULT_LAPSE_DAYS): counted from the later of
the assignment and the household's last visit. A lapsed household is back in the
pool: `holder` answers None and `lapsed` True (so the leader is told). Nothing
is written when it lapses: it is computed from the times and an injected clock.

A leader also gives a run of house numbers on one way (`HouseRange`, `in_range`): "from 12
to 40 on phố Lê Lợi". The way is matched whole (campaign.order.address_parts), so "Số 7, ngõ 5,
phố Lê Lợi" is house 7 of ngõ 5, never house 7 of the street. A house number belongs to its
number: a bound without a letter takes every house of that number ("đến 12" takes 12A and 12/3,
a plot split or an alley off it), a bound with one is exact ("từ 12B" leaves 12A out).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .events import parse_at
from .order import address_parts, natural_key
from .text import fold

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


# ---- a run of house numbers on one way -------------------------------------------------

# A bound as typed, folded: "Số 12A", "số nhà 12a", "12 A", "nhà số 7", "12/3" (the 12 counts).
_BOUND = re.compile(r"^(?:so\s*nha|nha\s*so|so|nha)?\s*(\d{1,6})\s*([a-z]?)(?:\s*/\s*\d+[a-z]?)*$")
_NUMBER = re.compile(r"(\d+)([a-z]*)")


class BadHouseNumber(ValueError):
    """A bound of a range that is not a house number ("Số 12A" is; "mười hai" and "" are not)."""

    def __init__(self, text: str) -> None:
        super().__init__(f"not a house number: {text!r}")
        self.text = text


@dataclass(frozen=True)
class HouseRange:
    """House numbers from `low` to `high`, both included; a bound is (number, letter or "")."""
    low: tuple[int, str]
    high: tuple[int, str]

    def holds(self, house: str) -> bool:
        """Whether a house number (folded, as campaign.order.address_parts gives it) is in the run."""
        found = _NUMBER.match(house)
        if found is None:
            return False  # "Nhà ông Long": no number, in no run
        number, letter = int(found.group(1)), found.group(2)[:1]
        if (number, letter) < self.low:
            return False
        return number <= self.high[0] if not self.high[1] else (number, letter) <= self.high


def house_bound(text: str) -> tuple[int, str]:
    """One bound as a leader types it: "12", "Số 12A", "số nhà 12 a", "12/3" (the alley off 12 is 12's)."""
    found = _BOUND.match(fold(text).strip(" .,;:-"))
    if found is None:
        raise BadHouseNumber(text)
    return int(found.group(1)), found.group(2)


def house_range(low: str, high: str) -> HouseRange:
    """The run between two bounds as typed; given backwards ("40" to "12") it is the same run.
    An empty "to" is the "from" alone (one number, every letter of it)."""
    first = house_bound(low)
    last = house_bound(high) if high.strip() else (first[0], "")
    if last < first and not (last[0] == first[0] and not last[1]):
        first, last = last, first
    return HouseRange(first, last)


_STREET_WORD = re.compile(r"^(?:pho|duong)\s+(?=[a-z])")  # "phố Lê Lợi" is "Lê Lợi"; "đường 3/2" keeps its word


def way_key(address: str) -> tuple[str, ...]:
    """The way an address stands on, whole, as a key: its ways folded (campaign.order), a street's
    "phố"/"đường" dropped, in natural order, so the same way written in another order or with
    or without commas is one key ("Số 4 ngõ 5 hẻm 3 phố Lê Lợi" and "Số 6, hẻm 3, ngõ 5, Lê Lợi")."""
    return tuple(sorted((_STREET_WORD.sub("", way) for way in address_parts(address)[1]), key=natural_key))


def in_range(address: str, way: tuple[str, ...], run: HouseRange) -> bool:
    """Whether an address is a house of `run` standing right on `way` (a way_key), not in an
    alley off it."""
    house, _ways = address_parts(address)
    return bool(house) and way_key(address) == way and run.holds(house)
