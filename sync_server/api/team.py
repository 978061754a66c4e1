"""GET /team/devices and GET /team/quarantined: how each member's device syncs.

Scope: a leader sees their team's devices, an officer their commune's, an
admin everyone's (or one commune's with `?commune=`). Volunteers: 403. The
answers carry sync bookkeeping and quarantine reasons, never event bodies.
"""
from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from ..errors import responses
from ..services import team
from .deps import TEAM_REVIEWERS, Caller, reading

router = APIRouter()


class Member(BaseModel):
    device_id: str
    role: str
    team: str | None
    enrolled_at: str
    revoked: bool
    acked_seq: int
    last_push_at: str | None
    last_pull_at: str | None
    quarantined: int
    name: str | None = None  # who holds the phone (enrolment); null when never told


class MembersAnswer(BaseModel):
    devices: list[Member]


class QuarantinedEvent(BaseModel):
    seq: int
    kind: str
    reason: str
    received_at: str


class QuarantinedAnswer(BaseModel):
    device_id: str
    quarantined: list[QuarantinedEvent]


@router.get("/api/v1/team/devices", response_model=MembersAnswer, responses=responses(400, 401, 403))
def team_devices(request: Request,
                 commune: str | None = Query(None, pattern=r"^\d{5}$",
                                             description="admin: only this commune's devices"),
                 who: Caller = Depends(TEAM_REVIEWERS)) -> MembersAnswer:
    """Each member's device: role, team, enrolment, revocation, acknowledged seq, last push and pull
    (server time, UTC), and how many of its events were quarantined."""
    with reading(request) as conn:
        return MembersAnswer(devices=[Member(**asdict(m)) for m in team.members(conn, who, commune)])


@router.get("/api/v1/team/quarantined", response_model=QuarantinedAnswer,
            responses=responses(400, 401, 403, 404))
def team_quarantined(request: Request, device_id: str = Query(..., min_length=1, max_length=64),
                     who: Caller = Depends(TEAM_REVIEWERS)) -> QuarantinedAnswer:
    """A member device's quarantined events: seq, kind, the server's reason, when it arrived."""
    with reading(request) as conn:
        found = team.quarantined(conn, who, device_id)
    return QuarantinedAnswer(device_id=found.device_id,
                             quarantined=[QuarantinedEvent(**asdict(e)) for e in found.quarantined])
