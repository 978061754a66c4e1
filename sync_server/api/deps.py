"""What every route depends on: who is calling (and may they), the rate limits, and the
transaction at the edge.

Every authenticated endpoint depends on `caller`, which answers, in this order:
- no token: 401 `unauthenticated`;
- an unknown token: 401 `unknown_token`;
- a device retired by the retention purge: 410 `purged` (the device deletes its
  personal data: SECURITY.md, "Retention");
- a revoked device: 403 `revoked`, from the very next request after revocation;
  each of these four spends one of the address's tokens (`refused`); once they are
  spent, 429 `rate_limited` instead (a working token is never held back by its
  address: phones on a mobile network share addresses behind the carrier's NAT);
- this device sent too many requests lately: 429 `rate_limited`.
Capabilities (`require`: campaign.roles) are checked after that; communes and
hamlets inside the use case (services/access.py, the caller's Scope).

A route opens its transaction here (`reading`, `writing`), calls one service,
and answers after commit.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection, Engine

from campaign.roles import ROLES, Capability, roles_with

from ..errors import ApiError
from ..services import enrolment
from ..services.enrolment import Caller
from ..services.errors import Forbidden, Gone, Unauthenticated
from ..store.db import read_transaction, statement_reads, write_transaction
from .ratelimit import Limits

__all__ = [
    "COMMUNE_PATTERN",
    "UUID_PATTERN",
    "Caller",
    "Capability",
    "bearer_token",
    "caller",
    "client_address",
    "engine_of",
    "limits_of",
    "optional_token",
    "reading",
    "refused",
    "require",
    "require_role",
    "writing",
]

_bearer = HTTPBearer(auto_error=False)


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


@contextmanager
def reading(request: Request) -> Iterator[Connection]:
    """A read transaction on the app's database."""
    with read_transaction(engine_of(request)) as conn:
        yield conn


@contextmanager
def statements(request: Request) -> Iterator[Connection]:
    """Reads that need no snapshot shared between them (store/db.py `statement_reads`): on
    PostgreSQL no BEGIN and no COMMIT, two round trips to the database saved."""
    with statement_reads(engine_of(request)) as conn:
        yield conn


@contextmanager
def writing(request: Request) -> Iterator[Connection]:
    """A write transaction holding the server-wide write lock (store/db.py)."""
    with write_transaction(engine_of(request)) as conn:
        yield conn


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def limits_of(request: Request) -> Limits | None:
    """The app's rate limits (security.install makes them); None in an app built without."""
    return getattr(request.app.state, "limits", None)


def refused(request: Request) -> None:
    """A request behind a token that is refused (none, unknown, revoked, retired) spends one of
    its address's tokens; with none left, 429 instead of the refusal."""
    limits = limits_of(request)
    if limits is not None:
        limits.token_failures.take(client_address(request))


async def bearer_token(request: Request,
                       credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> str:
    """The Bearer token (a security scheme in the published schema); 401 without one. Async: it
    waits on nothing, and a plain function would cost every request a trip to the thread pool."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        refused(request)
        raise ApiError(401, "unauthenticated", "send the device token as 'Authorization: Bearer TOKEN'")
    return credentials.credentials


def caller(request: Request, token: str = Depends(bearer_token)) -> Caller:
    limits = limits_of(request)
    try:
        # one indexed lookup (two for a revoked device): no transaction of its own (store/db.py)
        with statement_reads(engine_of(request)) as conn:
            who = enrolment.authenticate(conn, token)
    except (Unauthenticated, Forbidden, Gone):  # unknown, revoked, retired by the retention purge
        refused(request)
        raise
    if limits is not None:
        limits.requests.take(who.device.id)
    return who


def optional_token(request: Request) -> str | None:
    """The Bearer token if one was sent, read without declaring a security scheme (POST /enroll
    needs none: a re-enrolling phone presents its old token there)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def require_role(*roles: str) -> Callable[..., Caller]:
    """A dependency: the caller, if its role is one of `roles`; 403 otherwise."""
    def check(who: Caller = Depends(caller)) -> Caller:
        if who.device.role not in roles:
            raise ApiError(403, "forbidden", f"this needs the role {' or '.join(roles)}")
        return who
    return check


def require(capability: Capability) -> Callable[..., Caller]:
    """A dependency: the caller, if its role has the capability (campaign.roles); 403 otherwise.
    Where it applies (which commune, which hamlets) the use case checks."""
    return require_role(*(role for role in ROLES if role in roles_with(capability)))


# One dependency per capability a route needs.
REPORT_READERS = require(Capability.READ_REPORTS)
EXPORTERS = require(Capability.EXPORT)
AUDIT_READERS = require(Capability.READ_AUDIT)
CAMPAIGN_EDITORS = require(Capability.EDIT_CAMPAIGN)
IMPORTERS = require(Capability.IMPORT)
TEAM_REVIEWERS = require(Capability.TEAM_STATUS)
MEMBER_ENROLLERS = require(Capability.ENROL_MEMBERS)
ROSTER_READERS = require(Capability.RECORD_ATTENDANCE)
TEAM_SETTINGS_EDITORS = require(Capability.TEAM_SETTINGS)

COMMUNE_PATTERN = r"^\d{5}$"
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"  # campaign.ids.is_uuid
