"""Campaign settings per commune, and progress against them.

GET  /api/v1/campaigns/{commune}   leader (their commune), officer (theirs), admin
PUT  /api/v1/campaigns/{commune}   officer (theirs), admin: written with its audit row
GET  /api/v1/progress?commune=     leader (their hamlets), officer, admin
"""
from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from ..errors import responses
from ..services import campaigns
from ..services import progress as progressing
from .deps import CAMPAIGN_EDITORS, COMMUNE_PATTERN, REPORT_READERS, Caller, reading, writing

router = APIRouter()

DATE = r"^\d{4}-\d{2}-\d{2}$"
COMMUNE_PATH = Path(..., pattern=COMMUNE_PATTERN, description="official 5-digit commune code")


class CampaignSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=campaigns.MAX_NAME)
    target_kind: Literal["people", "percent"] = Field(description="people: a number of people with e-ID active; "
                                                                  "percent: a whole percent of people")
    target_value: int = Field(strict=True, ge=1, le=campaigns.MAX_PEOPLE_TARGET)
    start: str = Field(pattern=DATE, json_schema_extra={"format": "date"})
    deadline: str = Field(pattern=DATE, json_schema_extra={"format": "date"})
    ends: str | None = Field(None, pattern=DATE, json_schema_extra={"format": "date"},
                             description="the campaign's end; personal data is purged retention_days after it")
    retention_days: int = Field(campaigns.DEFAULT_RETENTION_DAYS, strict=True, ge=0,
                                le=campaigns.MAX_RETENTION_DAYS)


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
                 who: Caller = Depends(REPORT_READERS)) -> CampaignAnswer:
    """A commune's campaign: name, target, start, deadline, end, retention of personal data."""
    with reading(request) as conn:
        return CampaignAnswer(**asdict(campaigns.show(conn, who, commune)))


@router.put("/api/v1/campaigns/{commune}", response_model=CampaignAnswer, responses=responses(400, 401, 403))
def put_campaign(body: CampaignSettings, request: Request, commune: str = COMMUNE_PATH,
                 who: Caller = Depends(CAMPAIGN_EDITORS)) -> CampaignAnswer:
    """Create or replace a commune's campaign settings (audited as campaign.update)."""
    with writing(request) as conn:
        return CampaignAnswer(**asdict(campaigns.put(conn, commune, body.model_dump(), who)))


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
             who: Caller = Depends(REPORT_READERS)) -> ProgressAnswer:
    """Households visited of those known, people with e-ID active, against the target, by day,
    with a pace forecast ("at this pace X % by the deadline; Y people a day needed").
    Recorded by the team: the police hold the official figures."""
    with reading(request) as conn:
        return ProgressAnswer(**asdict(progressing.progress(conn, who, commune)))
