"""GET /api/v1/audit: who exported, viewed, imported or changed what."""
from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from ..errors import responses
from ..services import audit
from .deps import AUDIT_READERS, COMMUNE_PATTERN, Caller, reading

router = APIRouter()

ACTION_PATTERN = r"^[a-z][a-z_]*(\.[a-z][a-z_]*)*$"


class AuditEntry(BaseModel):
    id: int
    at: str
    device_id: str | None
    role: str
    action: str
    commune: str | None
    scope: dict[str, Any]
    detail: dict[str, Any]
    name: str | None = None  # who holds the device (enrolment); null when never told


class AuditAnswer(BaseModel):
    entries: list[AuditEntry]
    next: int
    more: bool
    order: Literal["oldest", "newest"] = "oldest"  # echoed: a client can tell a server that ignores ?order


@router.get("/api/v1/audit", response_model=AuditAnswer, responses=responses(400, 401, 403))
def audit_log(request: Request,
              commune: str | None = Query(None, pattern=COMMUNE_PATTERN,
                                          description="officers: their commune (required); admins: optional"),
              after: int = Query(0, ge=0, le=2**63 - 1, description="the `next` of the page before"),
              limit: int = Query(100, ge=1, le=1000),
              order: Literal["oldest", "newest"] = Query("oldest", description="`newest`: newest first, "
                                                         "paged with `before`"),
              before: int | None = Query(None, ge=1, le=2**63 - 1,
                                         description="only rows before this id: the `next` of the page before, "
                                                     "newest first"),
              action: str | None = Query(None, max_length=64, pattern=ACTION_PATTERN,
                                         description="one action, or a family: `export` is every `export.*`"),
              who: Caller = Depends(AUDIT_READERS)) -> AuditAnswer:
    """Who exported, viewed, imported or changed what, oldest first (or newest first). Details hold no
    personal data. `next` is the last row's id on the page: the next page's `after` (oldest first)
    or `before` (newest first)."""
    with reading(request) as conn:
        rows, more = audit.entries(conn, who, commune, after=after, limit=limit, order=order, before=before,
                                   action=action)
    empty = after if order == "oldest" else (before or 0)
    return AuditAnswer(entries=[AuditEntry(**asdict(r)) for r in rows], next=rows[-1].id if rows else empty,
                       more=more, order=order)
