"""Server time, in one format (UTC ISO 8601, second precision) everywhere it is stored.
Services stamp what they write with it; the store is handed the text."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def now_iso() -> str:
    return iso(now())


def later(hours: float) -> str:
    return iso(now() + timedelta(hours=hours))
