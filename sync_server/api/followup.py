"""GET /api/v1/followup: who still needs the team (personal data: every view is audited).

Lists (campaign.followup has the rules): card_capture, level2, activation,
home_capture (people), revisit (households nobody was home at). JSON comes in
pages (`after` = the page's `next`, `limit`); CSV streams the whole list,
UTF-8 with a byte-order mark. Officers: their commune; leaders: their team's
hamlets; admins: any commune.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterator, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from campaign.totals import VIETNAM

from ..auth import Caller, require_role
from ..errors import ApiError, responses
from ..store import exports as store_exports
from ..store import followup as store
from ..store.db import read_transaction
from .audit import COMMUNE_PATTERN, READERS, checked_commune, log, scope_hamlets

router = APIRouter()

ListName = Literal["card_capture", "level2", "activation", "home_capture", "revisit"]


class FollowupCounts(BaseModel):
    commune: str
    counts: dict[str, int]


@router.get("/api/v1/followup/counts", response_model=FollowupCounts, responses=responses(400, 401, 403))
def followup_counts(request: Request, commune: str = Query(..., pattern=COMMUNE_PATTERN),
                    who: Caller = Depends(require_role(*READERS))) -> FollowupCounts:
    """How many rows each follow-up list has, in the caller's scope (the dashboard's tiles).
    Counts only: no personal data, so not an audited view."""
    checked_commune(who, commune)
    with read_transaction(request.app.state.engine) as conn:
        found = store.counts(conn, commune, who.scope, datetime.now(VIETNAM).year)
    return FollowupCounts(commune=commune, counts=found)


class FollowupPage(BaseModel):
    commune: str
    list: str
    rows: list[dict[str, Any]]
    next: str | None
    more: bool


@router.get("/api/v1/followup", response_model=FollowupPage, responses={
    **responses(400, 401, 403), 200: {"content": {"text/csv": {}}, "description": "a page (JSON) or the list (CSV)"}})
def followup(request: Request, response: Response, commune: str = Query(..., pattern=COMMUNE_PATTERN),
             list: ListName = Query(..., description="which list"),  # noqa: A002 - the wire name
             format: Literal["json", "csv"] = Query("json"),  # noqa: A002
             after: str | None = Query(None, max_length=120, description="JSON: the `next` of the page before"),
             limit: int = Query(store.DEFAULT_LIMIT, ge=1, le=store.MAX_LIMIT),
             who: Caller = Depends(require_role(*READERS))) -> Any:
    """A follow-up list: people (hamlet, household address, label, birth year, card, VNeID,
    blockers, needs) or, for revisit, households (address, visits, last visit)."""
    checked_commune(who, commune)
    engine = request.app.state.engine
    year = datetime.now(VIETNAM).year
    hamlets = scope_hamlets(request, who, commune)
    if format == "csv":
        log(request, who, "followup.download", commune, {"list": list, "format": "csv"}, hamlets)

        def body() -> Iterator[str]:
            with read_transaction(engine) as conn:
                rows = (row for _where, row in store.rows(conn, commune, who.scope, list, year))
                yield from store_exports.followup_csv(list, rows)

        stamp = datetime.now(VIETNAM).strftime("%Y%m%d")
        return StreamingResponse(body(), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="gocua-{list}-{commune}-{stamp}.csv"',
            "Cache-Control": "no-store"})
    with read_transaction(engine) as conn:
        try:
            page = store.page(conn, commune, who.scope, list, year, after, limit)
        except store.CursorError as bad:
            raise ApiError(400, "bad_cursor", str(bad)) from None
    log(request, who, "followup.view", commune,
        {"list": list, "format": "json", "rows": len(page["rows"]), "first_page": after is None}, hamlets)
    response.headers["Cache-Control"] = "no-store"
    return FollowupPage(commune=commune, list=list, **page)
