"""The store's clock: event times in the device's offset, and Vietnam's day and year for the lists."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from campaign.totals import VIETNAM

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
    return clock().astimezone(VIETNAM).year


def today(clock: Clock) -> str:
    """Today's date in Vietnam, ISO (the home screen's visits of today)."""
    return clock().astimezone(VIETNAM).date().isoformat()
