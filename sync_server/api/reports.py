"""GET /totals, GET /communes and GET /conflicts."""
from __future__ import annotations

import gzip
import json
from dataclasses import asdict
from typing import Any, Literal, NamedTuple

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel

from ..errors import responses
from ..services import reports, sessions
from .deps import REPORT_READERS, Caller, caller, engine_of, reading, statements

router = APIRouter()

GZIP_MINIMUM = 1024  # GZipMiddleware's minimum_size (app.py)
GZIP_LEVEL = 9  # GZipMiddleware's compresslevel
COMMUNE = Query(..., pattern=r"^\d{5}$", description="official 5-digit commune code")


class TotalsAnswer(BaseModel):
    commune: str
    by: str
    rows: list[dict[str, Any]]
    total: dict[str, Any]


@router.get("/api/v1/totals", response_model=TotalsAnswer, responses=responses(400, 401, 403))
def totals(request: Request,
           commune: str | None = Query(None, pattern=r"^\d{5}$",
                                       description="official 5-digit commune code; without it, the caller's own "
                                                   "commune (an officer's or a leader's)"),
           by: Literal["hamlet", "team", "day"] = Query("hamlet"),
           who: Caller = Depends(caller)) -> Response:
    """Counts recorded by the team (the police hold the official figures), by hamlet, team or day."""
    # Statements, not a read transaction: on PostgreSQL (read committed) each statement of a
    # transaction saw its own snapshot anyway, and kept_totals reads the version first for
    # that reason; no BEGIN and COMMIT saves two round trips (p50 3.17 -> 3.07 ms in 5 A/B pairs).
    with statements(request) as conn:
        kept = reports.kept_totals(conn, who, commune, by, request.app.state.totals_answers, _encoded)
    if kept.gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
        # compressed once per version, not by GZipMiddleware at each request (it lets an
        # encoded answer pass): ~0.45 ms of CPU for a commune of 20 hamlets
        return Response(kept.gzipped, media_type="application/json",
                        headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
    return Response(kept.body, media_type="application/json")


class Encoded(NamedTuple):
    body: bytes  # the JSON
    gzipped: bytes | None  # the same compressed, for a body GZipMiddleware would compress


def answers() -> reports.AnswerCache[Encoded]:
    """The app's kept GET /totals answers (services/reports.py `kept_totals`), one per process."""
    return reports.AnswerCache()


def _encoded(found: reports.Totals) -> Encoded:
    # Written as JSON here, not through the model: validating and encoding its ~60 figures a
    # row cost 5.5 ms of CPU for a commune of 20 hamlets, more than the query (issue #16, item 2).
    answer = {"commune": found.commune, "by": found.by, "rows": found.rows, "total": found.total}
    body = json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode()
    return Encoded(body, gzip.compress(body, GZIP_LEVEL) if len(body) >= GZIP_MINIMUM else None)


class CommunesAnswer(BaseModel):
    communes: list[dict[str, Any]]


@router.get("/api/v1/communes", response_model=CommunesAnswer, responses=responses(401, 403))
def communes(request: Request,
             who: Caller = Depends(REPORT_READERS)) -> CommunesAnswer:
    """The communes this caller may report on, with headline totals: an officer's or leader's
    own commune (a leader: counted over the team's hamlets); for an admin every commune with
    hamlets, counters or a campaign. The dashboard's commune picker."""
    with reading(request) as conn:
        return CommunesAnswer(communes=[asdict(c) for c in reports.communes(conn, who)])


class ConflictAnswer(BaseModel):
    conflicts: list[dict[str, Any]]
    # added with capture sessions: bookings past their session's capacity, for a leader or officer to move
    overbooked: list[dict[str, Any]] = []


@router.get("/api/v1/conflicts", response_model=ConflictAnswer, responses=responses(400, 401, 403))
def conflicts(request: Request, commune: str = COMMUNE,
              who: Caller = Depends(REPORT_READERS)) -> ConflictAnswer:
    """Open conflicts: the same field changed on two devices, neither having seen the other;
    and `overbooked`, the capture bookings past their session's capacity (in the order they hold
    places). Audited (conflicts.view)."""
    found = reports.conflicts(engine_of(request), who, commune)
    with reading(request) as conn:
        late = sessions.overbooked(conn, commune, who.scope)
    return ConflictAnswer(conflicts=[asdict(c) for c in found], overbooked=[asdict(o) for o in late])
