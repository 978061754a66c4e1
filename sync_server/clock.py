"""Server time, in one format (UTC ISO 8601, second precision) everywhere it is stored."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone


def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


def now_iso() -> str:
    return iso(now())


def later(hours: float) -> str:
    return iso(now() + timedelta(hours=hours))
