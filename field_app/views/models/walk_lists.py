"""The leader's walk lists (Flet-free): who holds what, the streets of a hamlet, a run of house
numbers on one way, a hamlet cut into parts of about equal work. The rules are campaign.assignments'; the screen is
views/walk_lists.py; the writes are `Store.assign` (one assignment.set per household)."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from campaign import assignments
from campaign.order import address_parts, natural_key, walking_key
from campaign.text import fold
from field_app.store import HouseholdRow


@dataclass(frozen=True)
class Holdings:
    by_device: dict[str, int]  # device id -> households it holds now
    pool: int  # households nobody holds
    lapsed: list[HouseholdRow]  # assigned, not worked for the lapse days: back in the pool (tell the leader)


def holdings(rows: list[HouseholdRow], now: datetime,
             lapse_days: int = assignments.DEFAULT_LAPSE_DAYS) -> Holdings:
    held: Counter[str] = Counter()
    lapsed = []
    for r in rows:
        data = {"assigned_to": r.assigned_to, "assigned_at": r.assigned_at, "last_visit_at": r.last_visit_at}
        who = assignments.holder(data, now, lapse_days)
        if who is not None:
            held[who] += 1
        elif assignments.lapsed(data, now, lapse_days):
            lapsed.append(r)
    return Holdings(dict(held.most_common()), len(rows) - sum(held.values()), lapsed)


def street_of(address: str) -> tuple[str, str]:
    """(key, words) of an address's outermost way: the folded way (campaign.order) and its words
    as typed ("phố Lê Lợi" for "Số 15, ngõ 3, phố Lê Lợi"); the address itself when it names none."""
    _house, ways = address_parts(address)
    if not ways:
        return fold(address), address
    last = address.rsplit(",", 1)[-1].strip()
    return ways[0], last if fold(last) == ways[0] else ways[0]


def streets(rows: list[HouseholdRow]) -> dict[str, tuple[str, list[str]]]:
    """{street key: (its words, its household ids in walking order)}, streets in natural order."""
    out: dict[str, tuple[str, list[str]]] = {}
    for r in sorted(rows, key=lambda r: (walking_key(r.address), r.id)):
        key, words = street_of(r.address)
        out.setdefault(key, (words, []))[1].append(r.id)
    return dict(sorted(out.items(), key=lambda kv: natural_key(kv[0])))


def work_of(row: HouseholdRow) -> int:
    """A household's work: one call, and one more for each need its people still have."""
    return 1 + len(row.follow_up)


def split_among(rows: list[HouseholdRow], devices: list[str]) -> dict[str, list[str]]:
    """The hamlet cut into one contiguous stretch (walking order) of about equal work per device."""
    ordered = sorted(rows, key=lambda r: (walking_key(r.address), r.id))
    parts = assignments.split([(r.id, work_of(r)) for r in ordered], len(devices))
    return dict(zip(devices, parts, strict=True))


# The house number as typed at the start of an address ("Số 12A, ", "12/3 "): what is left names the way.
_HOUSE_TYPED = re.compile(r"^\s*(?:s[ốoỐO]\s*(?:nh[àaÀA]\s*)?)?\d+[^\W\d_]?(?:/\d+[^\W\d_]?)*[\s,.;:-]+", re.IGNORECASE)


def ways(rows: list[HouseholdRow]) -> dict[tuple[str, ...], tuple[str, int]]:
    """{way key (campaign.assignments.way_key): (its words, the fullest as typed, households with
    a house number on it)}: the ways a run of numbers can be given on, in walking order."""
    out: dict[tuple[str, ...], tuple[str, int]] = {}
    for r in sorted(rows, key=lambda r: (walking_key(r.address), r.id)):
        house, _ways = address_parts(r.address)
        if not house:
            continue
        key = assignments.way_key(r.address)
        typed = _HOUSE_TYPED.sub("", r.address, count=1).strip(" ,") or " ".join(key)
        words, count = out.get(key, (typed, 0))
        out[key] = (max(words, typed, key=len), count + 1)  # "phố Lê Lợi" says more than "Lê Lợi"
    return out


def in_range(rows: list[HouseholdRow], way: tuple[str, ...], low: str, high: str) -> list[str]:
    """The households of a run of house numbers on one way, in walking order. Raises
    campaign.assignments.BadHouseNumber for a bound that is no house number."""
    run = assignments.house_range(low, high)
    return [r.id for r in sorted(rows, key=lambda r: (walking_key(r.address), r.id))
            if assignments.in_range(r.address, way, run)]
