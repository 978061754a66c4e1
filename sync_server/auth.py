"""Bearer tokens: who is calling, and may they?

Every authenticated endpoint depends on `caller`, which answers, in this order:
- no token: 401 `unauthenticated`;
- an unknown token: 401 `unknown_token`, spending one of the address's tokens; once
  they are spent, 429 `rate_limited` (a known token is never held back by its
  address: phones on a mobile network share addresses behind the carrier's NAT);
- a device retired by the retention purge: 410 `purged` (the device deletes its
  personal data: SECURITY.md, "Retention");
- a revoked device: 403 `revoked`, from the very next request after revocation;
- this device sent too many requests lately: 429 `rate_limited`.
Roles (`require_role`) and communes (`check_commune`) are checked after that;
hamlets, per row, through the caller's Scope.
"""
from __future__ import annotations

from dataclasses import dataclass

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .errors import ApiError
from .ratelimit import Limits
from .store import devices
from .store import purge as store_purge
from .store.db import read_transaction
from .store.devices import Device, Scope

_bearer = HTTPBearer(auto_error=False)


@dataclass(frozen=True)
class Caller:
    device: Device
    scope: Scope
    token: str = ""


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def limits_of(request: Request) -> Limits | None:
    """The app's rate limits (security.install makes them); None in an app built without."""
    return getattr(request.app.state, "limits", None)


def caller(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise ApiError(401, "unauthenticated", "send the device token as 'Authorization: Bearer TOKEN'")
    limits = limits_of(request)
    with read_transaction(request.app.state.engine) as conn:
        device = devices.by_token(conn, credentials.credentials)
        if device is None:
            if limits is not None:
                limits.token_failures.take(client_address(request))
            raise ApiError(401, "unknown_token", "this token is not known: enrol the device again")
        if device.revoked:
            retired = store_purge.retired_by(conn, device.id, device.commune if device.role == "officer" else None)
            if retired is not None:
                raise ApiError(410, "purged", "the campaign is over and its retention period has passed: "
                               "the server removed its personal data; delete this device's personal data "
                               "and enrol again for new work", purged_at=retired["at"], commune=retired["commune"])
            raise ApiError(403, "revoked", "this device has been revoked: hand it to your team leader")
        scope = devices.scope_of(conn, device)
    if limits is not None:
        limits.requests.take(device.id)
    return Caller(device, scope, credentials.credentials)


def optional_token(request: Request) -> str | None:
    """The Bearer token if one was sent, read without declaring a security scheme (POST /enroll
    needs none: a re-enrolling phone presents its old token there)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def require_role(*roles: str):  # type: ignore[no-untyped-def]
    def check(who: Caller = Depends(caller)) -> Caller:
        if who.device.role not in roles:
            raise ApiError(403, "forbidden", f"this needs the role {' or '.join(roles)}")
        return who
    return check


def check_commune(who: Caller, commune: str) -> None:
    """Officers see their commune only; leaders and volunteers, the commune their hamlets are in."""
    role = who.device.role
    if role == "admin":
        return
    if role in ("officer", "leader") and who.device.commune not in (None, commune):
        raise ApiError(403, "forbidden", f"commune {commune} is outside this device's scope")
