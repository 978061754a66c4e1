"""Bearer tokens: who is calling, and may they?"""
from __future__ import annotations

from dataclasses import dataclass

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .errors import ApiError
from .store import devices
from .store.db import read_transaction
from .store.devices import Device, Scope

_bearer = HTTPBearer(auto_error=False)


@dataclass(frozen=True)
class Caller:
    device: Device
    scope: Scope


def caller(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise ApiError(401, "unauthenticated", "send the device token as 'Authorization: Bearer TOKEN'")
    with read_transaction(request.app.state.engine) as conn:
        device = devices.by_token(conn, credentials.credentials)
        if device is None:
            raise ApiError(401, "unknown_token", "this token is not known: enrol the device again")
        if device.revoked:
            raise ApiError(403, "revoked", "this device has been revoked: hand it to your team leader")
        return Caller(device, devices.scope_of(conn, device))


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
