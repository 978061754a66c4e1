"""Come back later (issue #13, item 4): which households to revisit are a day's, in what order,
and which dates a come-back may name. One rule for the phone's home and the server's lists.

A not-home visit may say when to come back (visit.recorded's `come_back`): a window
(vocabulary.COME_BACK: morning, midday, evening, weekend, any) and a date if known (`on`).
On a day (Vietnam's calendar, campaign.time):
- a dated come-back is due on its date, and stays due after it while nobody has been back
  (overdue: still the day's work, not dropped);
- an undated one is due every day, but a `weekend` one only on Saturday and Sunday.
A day's come-backs go in time order: by window (morning, midday, evening, weekend, any), and
within a window the dated ones (soonest first) before the undated ones.

The date: not before the visit's day (a come-back in the past says nothing) and at most
MAX_DAYS_AHEAD days after it (docs/rules.md, "Come back later"). The phone refuses both
before writing; the server quarantines a visit that breaks them (`bad_date`).
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from . import vocabulary as v

WINDOWS = v.COME_BACK.codes  # in a day's time order; `any` last
WEEKEND = frozenset({5, 6})  # date.weekday(): Saturday, Sunday
MAX_DAYS_AHEAD = 90  # about three months: a campaign plans no further, a typo a year out is caught


def on_date(come_back: Mapping[str, Any]) -> date | None:
    """The come-back's date, or None when it names none (or one that does not parse)."""
    on = come_back.get("on")
    if not isinstance(on, str):
        return None
    try:
        return date.fromisoformat(on)
    except ValueError:
        return None


def date_problem(on: date, visit_day: date) -> str | None:
    """Why `on` cannot be a come-back date for a visit on `visit_day`: "past" (before that day),
    "too_far" (more than MAX_DAYS_AHEAD days after it); None when it can."""
    if on < visit_day:
        return "past"
    if on > visit_day + timedelta(days=MAX_DAYS_AHEAD):
        return "too_far"
    return None


def latest_date(visit_day: date) -> date:
    """The last date a come-back may name for a visit on `visit_day` (a date picker's end)."""
    return visit_day + timedelta(days=MAX_DAYS_AHEAD)


def due_on(come_back: Mapping[str, Any], day: date) -> bool:
    """Whether the come-back is that day's work (see the module docstring)."""
    on = on_date(come_back)
    if on is not None:
        return on <= day
    if come_back.get("window") == "weekend":
        return day.weekday() in WEEKEND
    return come_back.get("window") in WINDOWS


def day_order(come_back: Mapping[str, Any]) -> tuple[int, int, str]:
    """A day's order: the window's time, then dated (soonest, so overdue first) before undated."""
    window = come_back.get("window")
    rank = WINDOWS.index(window) if window in WINDOWS else len(WINDOWS)
    on = on_date(come_back)
    return (rank, 0, on.isoformat()) if on is not None else (rank, 1, "")
