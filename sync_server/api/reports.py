"""GET /totals, GET /communes and GET /conflicts."""
from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy import select

from campaign.areas import is_commune_code

from ..auth import Caller, caller, check_commune, require_role
from ..errors import ApiError, responses
from ..store import schema as t
from ..store import totals as store_totals
from ..store.db import read_transaction

router = APIRouter()

COMMUNE = Query(..., pattern=r"^\d{5}$", description="official 5-digit commune code")


class TotalsAnswer(BaseModel):
    commune: str
    by: str
    rows: list[dict[str, Any]]
    total: dict[str, Any]


@router.get("/api/v1/totals", response_model=TotalsAnswer, responses=responses(400, 401, 403))
def totals(request: Request, commune: str = COMMUNE,
           by: Literal["hamlet", "team", "day"] = Query("hamlet"),
           who: Caller = Depends(caller)) -> TotalsAnswer:
    """Counts recorded by the team (the police hold the official figures), by hamlet, team or day."""
    if not is_commune_code(commune):
        raise ApiError(400, "unknown_commune", f"{commune} is not an official commune code")
    check_commune(who, commune)
    with read_transaction(request.app.state.engine) as conn:
        return TotalsAnswer(**store_totals.commune_totals(conn, commune, by, who.scope))


class CommunesAnswer(BaseModel):
    communes: list[dict[str, Any]]


@router.get("/api/v1/communes", response_model=CommunesAnswer, responses=responses(401, 403))
def communes(request: Request,
             who: Caller = Depends(require_role("leader", "officer", "admin"))) -> CommunesAnswer:
    """The communes this caller may report on, with headline totals: an officer's or leader's
    own commune (a leader: counted over the team's hamlets); for an admin every commune with
    hamlets, counters or a campaign. The dashboard's commune picker."""
    commune = None if who.device.role == "admin" else who.device.commune
    if commune is None and who.device.role != "admin":
        return CommunesAnswer(communes=[])
    with read_transaction(request.app.state.engine) as conn:
        return CommunesAnswer(communes=store_totals.communes_overview(conn, who.scope, commune))


class ConflictAnswer(BaseModel):
    conflicts: list[dict[str, Any]]


@router.get("/api/v1/conflicts", response_model=ConflictAnswer, responses=responses(400, 401, 403))
def conflicts(request: Request, commune: str = COMMUNE,
              who: Caller = Depends(require_role("leader", "officer", "admin"))) -> ConflictAnswer:
    """Open conflicts: the same field changed on two devices, neither having seen the other."""
    check_commune(who, commune)
    with read_transaction(request.app.state.engine) as conn:
        rows = conn.execute(select(t.conflicts, t.entities.c.type).join(
            t.entities, t.entities.c.id == t.conflicts.c.entity).where(
            t.conflicts.c.commune == commune, t.conflicts.c.resolved_cursor.is_(None))
            .order_by(t.conflicts.c.id))
        out = [{"id": r.id, "entity": r.entity, "type": r.type, "field": r.field, "hamlet_id": r.hamlet_id,
                "values": [json.loads(r.earlier), json.loads(r.later)], "opened_cursor": r.opened_cursor}
               for r in rows if who.scope.allows(r.hamlet_id, commune)]
    return ConflictAnswer(conflicts=out)
