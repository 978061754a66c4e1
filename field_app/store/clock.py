"""The store's clock: event times in the device's offset, and Vietnam's day and year for the lists."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from campaign.time import local_date, local_year

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now().astimezone()


def stamp(clock: Clock) -> str:
    """Now with the device's UTC offset, seconds precision: an event's `at`, a sync's time."""
    now = clock()
    if now.tzinfo is None:
        now = now.astimezone()
    return now.isoformat(timespec="seconds")


def year(clock: Clock) -> int:
    """This year in Vietnam (follow-up depends on ages)."""
    return local_year(_aware(clock()))


def today(clock: Clock) -> str:
    """Today's date in Vietnam, ISO (the home screen's visits of today)."""
    return local_date(_aware(clock())).isoformat()


def _aware(now: datetime) -> datetime:
    # A naive clock reads as the device's local time, as stamp() writes it.
    return now if now.tzinfo is not None else now.astimezone()
