"""GET /api/v1/audit, and the scope checks the report endpoints share.

Roles for everything under reports (campaigns, progress, follow-up, exports,
imports, audit): volunteers get 403 on all of it; leaders read their team's
hamlets; officers their commune; admins everything. An officer or leader of
another commune gets 403.
"""
from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from campaign.areas import is_commune_code

from ..auth import Caller, check_commune, require_role
from ..errors import ApiError, responses
from ..store import audit as store_audit
from ..store.db import read_transaction
from ..store.totals import hamlets_of

router = APIRouter()

READERS = ("leader", "officer", "admin")
MANAGERS = ("officer", "admin")
COMMUNE_PATTERN = r"^\d{5}$"
ACTION_PATTERN = r"^[a-z][a-z_]*(\.[a-z][a-z_]*)*$"


def checked_commune(who: Caller, commune: str) -> None:
    """400 for a code that is not a commune; 403 outside the caller's commune."""
    if not is_commune_code(commune):
        raise ApiError(400, "unknown_commune", f"{commune} is not an official commune code")
    check_commune(who, commune)
    if who.device.role == "leader" and who.device.commune is None:
        raise ApiError(403, "forbidden", "this leader's device has no commune")


def scope_hamlets(request: Request, who: Caller, commune: str) -> list[str] | None:
    """What an audit row calls the scope: None for a whole commune, else the hamlets seen."""
    if who.device.role in ("admin", "officer"):
        return None
    with read_transaction(request.app.state.engine) as conn:
        return list(hamlets_of(conn, commune, who.scope))


def log(request: Request, who: Caller, action: str, commune: str, detail: dict[str, Any],
        hamlets: list[str] | None = None) -> None:
    """One audit row, in its own short transaction, before the data leaves the server."""
    if hamlets is None:
        hamlets = scope_hamlets(request, who, commune)
    with store_audit.own_transaction(request.app.state.engine) as conn:
        store_audit.record(conn, device_id=who.device.id, role=who.device.role, action=action, commune=commune,
                           hamlets=hamlets, detail=detail)


class AuditEntry(BaseModel):
    id: int
    at: str
    device_id: str | None
    role: str
    action: str
    commune: str | None
    scope: dict[str, Any]
    detail: dict[str, Any]


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
              who: Caller = Depends(require_role(*MANAGERS))) -> AuditAnswer:
    """Who exported, viewed, imported or changed what, oldest first (or newest first). Details hold no
    personal data. `next` is the last row's id on the page: the next page's `after` (oldest first)
    or `before` (newest first)."""
    if commune is None:
        if who.device.role != "admin":
            raise ApiError(400, "missing_commune", "give ?commune=CODE: officers read their commune's log")
    else:
        checked_commune(who, commune)
    with read_transaction(request.app.state.engine) as conn:
        rows, more = store_audit.entries(conn, commune, after, limit, before=before,
                                         newest_first=order == "newest", action=action)
    empty = after if order == "oldest" else (before or 0)
    return AuditAnswer(entries=[AuditEntry(**r) for r in rows], next=rows[-1]["id"] if rows else empty, more=more,
                       order=order)
