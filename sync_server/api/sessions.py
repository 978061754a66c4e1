"""GET /api/v1/sessions, GET /api/v1/sessions/{id}/roster and GET /api/v1/exports/roster.xlsx.

Capture sessions and bookings are written through the push (session.*, booking.*); these
read them. The list holds no personal data (any enrolled device of the commune); a roster
names people: leaders, officers and admins (campaign.roles RECORD_ATTENDANCE), audited.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel

from campaign.time import now

from ..errors import responses
from ..render.rows import RosterRow, SessionSummary
from ..render.xlsx import XLSX_TYPE
from ..services import sessions as service
from .deps import COMMUNE_PATTERN, ROSTER_READERS, Caller, caller, engine_of
from .exports import spooled_xlsx

router = APIRouter()

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


class SessionsAnswer(BaseModel):
    commune: str
    sessions: list[SessionSummary]  # the service's record, as it is: one shape for both


@router.get("/api/v1/sessions", response_model=SessionsAnswer, responses=responses(400, 401, 403))
def sessions(request: Request, commune: str = Query(..., pattern=COMMUNE_PATTERN),
             who: Caller = Depends(caller)) -> SessionsAnswer:
    """The commune's capture sessions, soonest first, with how many places are booked and how
    many bookings are past capacity. Counts only: not an audited view."""
    found = service.list_sessions(engine_of(request), who, commune)
    return SessionsAnswer(commune=commune, sessions=found)


class RosterAnswer(BaseModel):
    session: SessionSummary
    rows: list[RosterRow]


@router.get("/api/v1/sessions/{session_id}/roster", response_model=RosterAnswer,
            responses=responses(400, 401, 403, 404))
def roster(request: Request, session_id: str = Path(..., pattern=UUID_PATTERN),
           who: Caller = Depends(ROSTER_READERS)) -> RosterAnswer:
    """The people booked into a session in the order they hold places (status, household address,
    hamlet, `overbooked` past capacity). A leader sees their hamlets' rows. Audited (roster.view)."""
    found = service.roster(engine_of(request), who, session_id)
    return RosterAnswer(session=found.session, rows=found.rows)


@router.get("/api/v1/exports/roster.xlsx", responses={
    **responses(400, 401, 403, 404), 200: {"content": {XLSX_TYPE: {}}, "description": "the workbook"}})
def roster_xlsx(request: Request, session: str = Query(..., pattern=UUID_PATTERN),
                who: Caller = Depends(ROSTER_READERS)) -> Any:
    """The roster as a workbook (sheet "Danh sách hẹn"): every text cell neutralised, never a
    formula. Audited (export.roster.xlsx)."""
    return spooled_xlsx(lambda out: service.roster_workbook(engine_of(request), who, session, out),
                        f"gocua-danh-sach-hen-{now():%Y%m%d-%H%M}.xlsx")
