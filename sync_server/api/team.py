"""GET /team/devices and GET /team/quarantined: how each member's device syncs;
POST /team/enrolments: a new member (services/members.py).

Scope: a leader sees their team's devices, an officer their commune's, an
admin everyone's (or one commune's with `?commune=`). Volunteers: 403. The
answers carry sync bookkeeping and quarantine reasons, never event bodies.
"""
from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from ..config import Settings
from ..errors import responses
from ..services import members, team
from .deps import MEMBER_ENROLLERS, TEAM_REVIEWERS, Caller, reading, writing

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


class NewMemberRequest(BaseModel):
    name: str = Field(max_length=200, description="who will hold the phone (at most 60 characters once trimmed, "
                                                  "NFC): the phone enrolled with the code gets this name")
    team: str | None = Field(None, min_length=1, max_length=64,
                             description="the team the volunteer joins: a leader's own team when left out "
                                         "(and only that one); required of officers and admins")


class NewMemberAnswer(BaseModel):
    code: str
    url: str  # gocua://enrol?server=…&code=…, for the QR code
    expires_at: str
    team: str
    name: str


def _public_url(request: Request) -> str:
    """The address a phone reaches this server at: GOCUA_PUBLIC_URL when set, else the one the
    leader's phone used for this request (a teammate's phone is on the same network)."""
    settings: Settings = request.app.state.settings
    return settings.public_url if settings.public_url_given else str(request.base_url)


@router.post("/api/v1/team/enrolments", response_model=NewMemberAnswer, status_code=201,
             responses=responses(400, 401, 403, 404))
def new_member(body: NewMemberRequest, request: Request, who: Caller = Depends(MEMBER_ENROLLERS)) -> NewMemberAnswer:
    """A one-time enrolment code for a new volunteer of a team, named: the code, the link its QR
    code holds and when it expires. Leaders: their own team; officers: a team of their commune;
    admins: any team. Audited (`device.enrol`, without the name)."""
    with writing(request) as conn:
        made = members.new_member(conn, who, body.name, _public_url(request), body.team)
    return NewMemberAnswer(**asdict(made))
