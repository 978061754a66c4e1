"""GET /api/v1/followup: who still needs the team (personal data: every view is audited).

Lists (campaign.followup has the rules): card_capture, level2, activation,
home_capture (people), revisit (households nobody was home at). JSON comes in
pages (`after` = the page's `next`, `limit`); CSV streams the whole list,
UTF-8 with a byte-order mark. Officers: their commune; leaders: their team's
hamlets; admins: any commune.
"""
from __future__ import annotations

import builtins
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from campaign.followup import file_stem
from campaign.time import now

from ..errors import responses
from ..services import duplicates as duplicate_service
from ..services import followup as service
from .deps import COMMUNE_PATTERN, REPORT_READERS, Caller, engine_of, reading

router = APIRouter()

ListName = Literal["card_capture", "level2", "activation", "home_capture", "revisit"]


class BlockerProgress(BaseModel):
    open: int
    helped: dict[str, int]


class FollowupCounts(BaseModel):
    commune: str
    counts: dict[str, int]
    # added after the first release: each blocker, who still has it and the help given
    blockers: dict[str, BlockerProgress] = {}
    # children under 14 by what can be done for them: now, capture, parent_first, done
    children: dict[str, int] = {}


@router.get("/api/v1/followup/counts", response_model=FollowupCounts, responses=responses(400, 401, 403))
def followup_counts(request: Request, commune: str = Query(..., pattern=COMMUNE_PATTERN),
                    who: Caller = Depends(REPORT_READERS)) -> FollowupCounts:
    """How many rows each follow-up list has, in the caller's scope (the dashboard's tiles), and
    each blocker: the people living here who still have it and the help they were given, and the
    children under 14 by what can be done for them. Counts only: no personal data, so not an audited view."""
    with reading(request) as conn:
        counts = service.counts(conn, who, commune)
        progress = {code: BlockerProgress(**p.wire()) for code, p in service.blockers(conn, who, commune).items()}
        return FollowupCounts(commune=commune, counts=counts, blockers=progress,
                              children=service.children(conn, who, commune))


class FollowupPage(BaseModel):
    commune: str
    list: str
    rows: builtins.list[dict[str, Any]]  # `list` is the field above, here
    next: str | None
    more: bool


@router.get("/api/v1/followup", response_model=FollowupPage, responses={
    **responses(400, 401, 403), 200: {"content": {"text/csv": {}}, "description": "a page (JSON) or the list (CSV)"}})
def followup(request: Request, response: Response, commune: str = Query(..., pattern=COMMUNE_PATTERN),
             list: ListName = Query(..., description="which list"),
             format: Literal["json", "csv"] = Query("json"),
             after: str | None = Query(None, max_length=120, description="JSON: the `next` of the page before"),
             limit: int = Query(service.DEFAULT_LIMIT, ge=1, le=service.MAX_LIMIT),
             who: Caller = Depends(REPORT_READERS)) -> Any:
    """A follow-up list: people (hamlet, household address, label, birth year, card, VNeID,
    blockers, needs) or, for revisit, households (address, visits, last visit)."""
    if format == "csv":
        lines = service.download(engine_of(request), who, commune, list)
        stamp = now().strftime("%Y%m%d")  # Vietnam's date
        return StreamingResponse(lines, media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="{file_stem(service.LISTS[list])}-{commune}-{stamp}.csv"',
            "Cache-Control": "no-store"})
    page = service.page(engine_of(request), who, commune, list, after, limit)
    response.headers["Cache-Control"] = "no-store"
    return FollowupPage(commune=commune, list=list, rows=[row.wire() for row in page.rows], next=page.next,
                        more=page.more)


class DuplicatePairs(BaseModel):
    commune: str
    pairs: builtins.list[dict[str, Any]]


@router.get("/api/v1/followup/duplicates", response_model=DuplicatePairs, responses=responses(400, 401, 403))
def followup_duplicates(request: Request, response: Response, commune: str = Query(..., pattern=COMMUNE_PATTERN),
                        who: Caller = Depends(REPORT_READERS)) -> DuplicatePairs:
    """People likely recorded twice (same name folded, birth years within one), in the caller's
    scope: each pair's people (label, birth year, household address, hamlet, card, VNeID), the
    older record first. Merge them with a `person.merged` event. Personal data: audited."""
    pairs = duplicate_service.likely(engine_of(request), who, commune)
    response.headers["Cache-Control"] = "no-store"
    return DuplicatePairs(commune=commune, pairs=[p.wire() for p in pairs])
