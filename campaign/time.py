"""Vietnam's time: the zone, and the local day and year of an instant.

Vietnam keeps UTC+7 all year (no daylight saving time), so a fixed offset is
the whole zone. The work of a day is counted on Vietnam's calendar whatever
offset a phone wrote its time in, and "this year" (ages, follow-up) is
Vietnam's year. Every clock in the project is aware: a naive datetime has no
instant to convert, and is refused.
"""
from __future__ import annotations

import functools
from datetime import date, datetime, timedelta, timezone

from .events import instant

VIETNAM = timezone(timedelta(hours=7))
_OFFSET = VIETNAM.utcoffset(None)  # a fixed offset: Vietnam's wall time is UTC's plus this


def now() -> datetime:
    """The current time in Vietnam, for a caller that has no clock injected."""
    return datetime.now(VIETNAM)


def local_date(moment: datetime) -> date:
    """The date in Vietnam at this instant; ValueError for a naive datetime."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()} has no UTC offset: the instant is unknown")
    return moment.astimezone(VIETNAM).date()


def local_year(moment: datetime) -> int:
    """The year in Vietnam at this instant; ValueError for a naive datetime."""
    return local_date(moment).year


@functools.lru_cache(maxsize=4096)
def local_day(at: str) -> str:
    """The ISO date in Vietnam of an ISO instant with its offset ("2026-11-27T23:30:00+00:00" →
    "2026-11-28"); InvalidEvent (a ValueError) when `at` carries no offset. Remembered: the
    totals ask it of an entity before and after each change (issue #16). From the instant in
    UTC plus Vietnam's fixed offset: astimezone's date without asking two offsets for it."""
    return (instant(at) + _OFFSET).date().isoformat()
