"""A team's settings (issue #13, items 2 and 6): how often the leader's review samples a
volunteer's day for a close look, and after how many days an assignment not worked lapses.

One rule for both sides: the server validates a leader's change with `checked` (its
refusal codes are wire codes, campaign/wire.py) and carries the team's settings to its
phones on their last pull page (docs/sync.md); the phone reads them with `carried`,
which never refuses: an older server (or none yet) means the defaults.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .assignments import DEFAULT_LAPSE_DAYS, MAX_LAPSE_DAYS, MIN_LAPSE_DAYS
from .review import SAMPLE_EVERY

MIN_SAMPLE_EVERY, MAX_SAMPLE_EVERY = 1, 100  # 1: every visit looked at; 100: one in a hundred
FIELDS = ("sample_every", "lapse_days")

__all__ = ["FIELDS", "MAX_SAMPLE_EVERY", "MIN_SAMPLE_EVERY", "BadSetting", "TeamSettings", "carried", "checked"]


@dataclass(frozen=True)
class TeamSettings:
    sample_every: int = SAMPLE_EVERY  # the review looks closely at one visit in this many
    lapse_days: int = DEFAULT_LAPSE_DAYS  # an assignment not worked this many days returns to the pool

    def as_wire(self) -> dict[str, int]:
        return {"sample_every": self.sample_every, "lapse_days": self.lapse_days}


class BadSetting(ValueError):
    """A setting outside its rule: `code` is the wire's (bad_sample_every, bad_lapse_days, unknown_field)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def checked(body: dict[str, Any], current: TeamSettings | None = None) -> TeamSettings:
    """The settings a change gives (fields absent keep `current`'s, else the defaults), or
    BadSetting with the first thing wrong."""
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise BadSetting("unknown_field", f"team settings have no field {', '.join(unknown)}")
    base = current or TeamSettings()
    every = _whole(body.get("sample_every", base.sample_every))
    if every is None or not MIN_SAMPLE_EVERY <= every <= MAX_SAMPLE_EVERY:
        raise BadSetting("bad_sample_every",
                         f"sample_every is a whole number from {MIN_SAMPLE_EVERY} to {MAX_SAMPLE_EVERY}")
    days = _whole(body.get("lapse_days", base.lapse_days))
    if days is None or not MIN_LAPSE_DAYS <= days <= MAX_LAPSE_DAYS:
        raise BadSetting("bad_lapse_days", f"lapse_days is a whole number from {MIN_LAPSE_DAYS} to {MAX_LAPSE_DAYS}")
    return TeamSettings(every, days)


def carried(value: Any) -> TeamSettings:
    """What a phone keeps of the settings a server sent: the defaults when absent or out of rule
    (a phone must keep working with whatever it holds)."""
    if not isinstance(value, dict):
        return TeamSettings()
    try:
        return checked({k: value[k] for k in FIELDS if k in value})
    except BadSetting:
        return TeamSettings()
