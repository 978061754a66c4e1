"""GET/PUT /api/v1/team/settings?team=: a team's review sample rate and walk-list lapse days.

Leaders: their own team's; officers: the teams of their commune; admins: any team's;
volunteers: 403 (their phone gets the settings on its last pull page). A change is
audited (team.settings); a value outside its rule is refused with bad_sample_every or
bad_lapse_days and nothing changes (services/team_settings.py, campaign/team_settings.py).
"""
from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from campaign.assignments import MAX_LAPSE_DAYS, MIN_LAPSE_DAYS
from campaign.team_settings import MAX_SAMPLE_EVERY, MIN_SAMPLE_EVERY

from ..errors import responses
from ..services import team_settings
from .deps import TEAM_SETTINGS_EDITORS, Caller, reading, writing

router = APIRouter()

TEAM = Query(..., min_length=1, max_length=64, description="the team's id (the leader's enrolment scope's `team`)")


class TeamSettingsChange(BaseModel):
    """Fields left out keep their value. Range checks are the service's (campaign's rule), so
    a refusal names the setting with its own code."""
    model_config = ConfigDict(extra="forbid")
    sample_every: int | None = Field(None, strict=True, description=(
        f"the review looks closely at one visit in this many ({MIN_SAMPLE_EVERY}..{MAX_SAMPLE_EVERY})"))
    lapse_days: int | None = Field(None, strict=True, description=(
        f"an assignment not worked this many days returns to the pool ({MIN_LAPSE_DAYS}..{MAX_LAPSE_DAYS})"))


class TeamSettingsAnswer(BaseModel):
    team: str
    sample_every: int
    lapse_days: int


@router.get("/api/v1/team/settings", response_model=TeamSettingsAnswer, responses=responses(400, 401, 403, 404))
def get_team_settings(request: Request, team: str = TEAM,
                      who: Caller = Depends(TEAM_SETTINGS_EDITORS)) -> TeamSettingsAnswer:
    """The team's settings (the defaults until someone changes them)."""
    with reading(request) as conn:
        return TeamSettingsAnswer(**asdict(team_settings.show(conn, who, team)))


@router.put("/api/v1/team/settings", response_model=TeamSettingsAnswer, responses=responses(400, 401, 403, 404))
def put_team_settings(body: TeamSettingsChange, request: Request, team: str = TEAM,
                      who: Caller = Depends(TEAM_SETTINGS_EDITORS)) -> TeamSettingsAnswer:
    """Change the team's settings (audited as team.settings)."""
    change = {k: v for k, v in body.model_dump().items() if v is not None}
    with writing(request) as conn:
        return TeamSettingsAnswer(**asdict(team_settings.put(conn, who, team, change)))
