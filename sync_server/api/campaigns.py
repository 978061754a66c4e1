"""Campaign settings per commune, and progress against them.

GET  /api/v1/campaigns/{commune}   leader (their commune), officer (theirs), admin
PUT  /api/v1/campaigns/{commune}   officer (theirs), admin: written with its audit row
GET  /api/v1/progress?commune=     leader (their hamlets), officer, admin
"""
from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from ..auth import Caller, require_role
from ..errors import ApiError, responses
from ..store import audit as store_audit
from ..store import campaigns as store
from ..store.db import read_transaction, write_transaction
from .audit import COMMUNE_PATTERN, MANAGERS, READERS, checked_commune

router = APIRouter()

DATE = r"^\d{4}-\d{2}-\d{2}$"
COMMUNE_PATH = Path(..., pattern=COMMUNE_PATTERN, description="official 5-digit commune code")


class CampaignSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=store.MAX_NAME)
    target_kind: Literal["people", "percent"] = Field(description="people: a number of people with e-ID active; "
                                                                  "percent: a whole percent of people")
    target_value: int = Field(strict=True, ge=1, le=store.MAX_PEOPLE_TARGET)
    start: str = Field(pattern=DATE, json_schema_extra={"format": "date"})
    deadline: str = Field(pattern=DATE, json_schema_extra={"format": "date"})
    ends: str | None = Field(None, pattern=DATE, json_schema_extra={"format": "date"},
                             description="the campaign's end; personal data is purged retention_days after it")
    retention_days: int = Field(store.DEFAULT_RETENTION_DAYS, strict=True, ge=0, le=store.MAX_RETENTION_DAYS)


class CampaignAnswer(BaseModel):
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


@router.get("/api/v1/campaigns/{commune}", response_model=CampaignAnswer, responses=responses(400, 401, 403, 404))
def get_campaign(request: Request, commune: str = COMMUNE_PATH,
                 who: Caller = Depends(require_role(*READERS))) -> CampaignAnswer:
    """A commune's campaign: name, target, start, deadline, end, retention of personal data."""
    checked_commune(who, commune)
    with read_transaction(request.app.state.engine) as conn:
        found = store.get(conn, commune)
    if found is None:
        raise ApiError(404, "no_campaign", f"commune {commune} has no campaign settings yet")
    return CampaignAnswer(**found)


@router.put("/api/v1/campaigns/{commune}", response_model=CampaignAnswer, responses=responses(400, 401, 403))
def put_campaign(body: CampaignSettings, request: Request, commune: str = COMMUNE_PATH,
                 who: Caller = Depends(require_role(*MANAGERS))) -> CampaignAnswer:
    """Create or replace a commune's campaign settings (audited as campaign.update)."""
    checked_commune(who, commune)
    with write_transaction(request.app.state.engine) as conn:
        try:
            saved = store.put(conn, commune, body.model_dump())
        except store.CampaignError as bad:
            raise ApiError(400, bad.code, bad.detail) from None
        store_audit.record(conn, device_id=who.device.id, role=who.device.role, action="campaign.update",
                           commune=commune, detail={f: saved[f] for f in store.FIELDS})
    return CampaignAnswer(**saved)


class ProgressAnswer(BaseModel):
    commune: str
    commune_name: str
    today: str
    whole_commune: bool
    campaign: dict[str, Any] | None
    households: int
    visited: int
    revisit: int
    people: int
    eid_active: int
    chip_card: int
    coverage: dict[str, float]
    target: dict[str, Any] | None
    forecast: dict[str, Any] | None
    days: list[dict[str, Any]]
    note: str


@router.get("/api/v1/progress", response_model=ProgressAnswer, responses=responses(400, 401, 403))
def progress(request: Request, commune: str = Query(..., pattern=COMMUNE_PATTERN),
             who: Caller = Depends(require_role(*READERS))) -> ProgressAnswer:
    """Households visited of those known, people with e-ID active, against the target, by day,
    with a pace forecast ("at this pace X % by the deadline; Y people a day needed").
    Recorded by the team: the police hold the official figures."""
    checked_commune(who, commune)
    with read_transaction(request.app.state.engine) as conn:
        return ProgressAnswer(**store.progress(conn, commune, who.scope))
