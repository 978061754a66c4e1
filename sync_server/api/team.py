"""GET /team/devices and GET /team/quarantined: how each member's device syncs.

Scope: a leader sees their team's devices, an officer their commune's, an
admin everyone's (or one commune's with `?commune=`). Volunteers: 403. The
answers carry sync bookkeeping and quarantine reasons, never event bodies.
"""
from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy import Connection

from campaign.areas import is_commune_code

from ..auth import Caller, check_commune, require_role
from ..errors import ApiError, responses
from ..store import team as store_team
from ..store.db import read_transaction

router = APIRouter()

REVIEWERS = ("leader", "officer", "admin")


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


def _membership(conn: Connection, who: Caller, commune: str | None) -> store_team.Membership:
    """The devices this caller may see: the leader's team, the officer's commune, or (admin) all or one commune."""
    if commune is not None:
        if not is_commune_code(commune):
            raise ApiError(400, "unknown_commune", f"{commune} is not an official commune code")
        check_commune(who, commune)
    device = who.device
    if device.role == "leader":
        return store_team.Membership(conn, team_id=device.team_id or "")
    if device.role == "officer":
        return store_team.Membership(conn, commune=device.commune or "")
    return store_team.Membership(conn, commune=commune)


@router.get("/api/v1/team/devices", response_model=MembersAnswer, responses=responses(400, 401, 403))
def team_devices(request: Request,
                 commune: str | None = Query(None, pattern=r"^\d{5}$",
                                             description="admin: only this commune's devices"),
                 who: Caller = Depends(require_role(*REVIEWERS))) -> MembersAnswer:
    """Each member's device: role, team, enrolment, revocation, acknowledged seq, last push and pull
    (server time, UTC), and how many of its events were quarantined."""
    with read_transaction(request.app.state.engine) as conn:
        rows = store_team.members(conn, _membership(conn, who, commune))
    return MembersAnswer(devices=[Member(**r) for r in rows])


@router.get("/api/v1/team/quarantined", response_model=QuarantinedAnswer,
            responses=responses(400, 401, 403, 404))
def team_quarantined(request: Request, device_id: str = Query(..., min_length=1, max_length=64),
                     who: Caller = Depends(require_role(*REVIEWERS))) -> QuarantinedAnswer:
    """A member device's quarantined events: seq, kind, the server's reason, when it arrived."""
    with read_transaction(request.app.state.engine) as conn:
        row = store_team.device_row(conn, device_id)
        if row is None:
            raise ApiError(404, "unknown_device", f"no device {device_id}")
        if not _membership(conn, who, None).covers(row):
            raise ApiError(403, "forbidden", f"device {device_id} is outside this device's scope")
        events = store_team.quarantined(conn, device_id)
    return QuarantinedAnswer(device_id=device_id, quarantined=[QuarantinedEvent(**e) for e in events])
