"""Campaign settings per commune: validated, stored with their audit row, read back.

A campaign is a commune's drive to a target (people, or a percent of people, with
e-ID active) between a start and a deadline; its end date plus its retention days
is when personal data is purged (services/purge.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from campaign import areas
from campaign.text import nfc

from ..store import campaigns as store
from ..store.campaigns import FIELDS, CampaignRow
from . import audit, clock
from .access import checked_commune
from .enrolment import Caller
from .errors import Invalid, NotFound

TARGET_KINDS = ("people", "percent")
DEFAULT_RETENTION_DAYS = 90
MAX_RETENTION_DAYS = 3650
MAX_NAME = 120
MAX_PEOPLE_TARGET = 10_000_000

__all__ = ["FIELDS", "Campaign", "get", "purge_after", "put", "save", "show", "validate"]


@dataclass(frozen=True)
class Campaign:
    """A commune's campaign as the API answers it."""
    commune: str
    commune_name: str
    province: str
    name: str
    target_kind: str
    target_value: int
    start: str
    deadline: str
    ends: str | None
    retention_days: int
    purge_after: str | None
    updated_at: str

    def settings(self) -> dict[str, Any]:
        """The settings alone (what an audit row records)."""
        return {f: getattr(self, f) for f in FIELDS}


def purge_after(ends: str, retention_days: int) -> date:
    return date.fromisoformat(ends) + timedelta(days=retention_days)


def _campaign(row: CampaignRow) -> Campaign:
    place = areas.commune(row.commune)
    return Campaign(row.commune, place.full_name, place.province, row.name, row.target_kind, row.target_value,
                    row.start, row.deadline, row.ends, row.retention_days,
                    purge_after(row.ends, row.retention_days).isoformat() if row.ends else None, row.updated_at)


def get(conn: Connection, commune: str) -> Campaign | None:
    row = store.get(conn, commune)
    return _campaign(row) if row else None


def show(conn: Connection, who: Caller, commune: str) -> Campaign:
    """The commune's campaign, for a caller who may read that commune; NotFound if it has none."""
    checked_commune(who, commune)
    found = get(conn, commune)
    if found is None:
        raise NotFound("no_campaign", f"commune {commune} has no campaign settings yet")
    return found


def put(conn: Connection, commune: str, body: dict[str, Any], who: Caller | None = None) -> Campaign:
    """Create or replace a commune's settings (validated here), with their audit row
    (`who` None: the command line). Call in a write transaction."""
    if who is not None:
        checked_commune(who, commune)
    saved = save(conn, commune, body)
    audit.record(conn, who, "campaign.update", commune, detail=saved.settings())
    return saved


def save(conn: Connection, commune: str, body: dict[str, Any]) -> Campaign:
    """The settings, validated and stored, without an audit row: for a campaign no one set
    (the demo's seed). People's changes go through put()."""
    if not areas.is_commune_code(commune):
        raise Invalid("unknown_commune", f"{commune} is not an official commune code")
    store.put(conn, CampaignRow(commune=commune, **validate(body), updated_at=clock.now_iso()))
    saved = get(conn, commune)
    assert saved is not None
    return saved


# ---- validation -------------------------------------------------------------------

def _date(name: str, value: Any, nullable: bool = False) -> str | None:
    if value is None and nullable:
        return None
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.isoformat() == value:
            return value
    raise Invalid("bad_date", f"{name} must be a date YYYY-MM-DD")


def validate(body: dict[str, Any]) -> dict[str, Any]:
    """The settings as stored, or Invalid with the first thing wrong."""
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise Invalid("unknown_field", f"campaign settings have no field {', '.join(unknown)}")
    missing = [f for f in ("name", "target_kind", "target_value", "start", "deadline") if body.get(f) is None]
    if missing:
        raise Invalid("missing_field", f"campaign settings need {', '.join(missing)}")
    name = body["name"]
    if not isinstance(name, str) or not nfc(name).strip():
        raise Invalid("bad_name", "name must be non-empty text")
    name = " ".join(nfc(name).split())
    if len(name) > MAX_NAME or any(ord(ch) < 32 for ch in name):
        raise Invalid("bad_name", f"name must be one line of at most {MAX_NAME} characters")
    kind = body["target_kind"]
    if kind not in TARGET_KINDS:
        raise Invalid("bad_target", "target_kind must be people or percent")
    value = body["target_value"]
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid("bad_target", "target_value must be a whole number")
    if kind == "percent" and not 1 <= value <= 100:
        raise Invalid("bad_target", "a percent target is a whole number from 1 to 100")
    if kind == "people" and not 1 <= value <= MAX_PEOPLE_TARGET:
        raise Invalid("bad_target", f"a people target is from 1 to {MAX_PEOPLE_TARGET:,}")
    start = _date("start", body["start"])
    deadline = _date("deadline", body["deadline"])
    ends = _date("ends", body.get("ends"), nullable=True)
    assert start is not None and deadline is not None
    if deadline < start:
        raise Invalid("bad_date", "the deadline is before the start")
    if ends is not None and ends < deadline:
        raise Invalid("bad_date", "the campaign ends before its deadline")
    retention = body.get("retention_days", DEFAULT_RETENTION_DAYS)
    if retention is None:
        retention = DEFAULT_RETENTION_DAYS
    if isinstance(retention, bool) or not isinstance(retention, int) or not 0 <= retention <= MAX_RETENTION_DAYS:
        raise Invalid("bad_retention", f"retention_days is a whole number from 0 to {MAX_RETENTION_DAYS}")
    return {"name": name, "target_kind": kind, "target_value": value, "start": start, "deadline": deadline,
            "ends": ends, "retention_days": retention}
