"""A device signs itself out (POST /api/v1/device/sign-out): its token dies on the server.

The app's one sign-out (field_app/signout.py) calls it, best effort, before it purges. The
device is revoked (the leader's team list shows it) and its token forgotten, so the token
gets 401 `unknown_token` from the next request on, like any token the server never issued.
Idempotent: a token that is already unknown, revoked or retired changes nothing.
"""
from __future__ import annotations

import secrets
from typing import Literal

from sqlalchemy import Connection

from ..store import devices as store
from . import clock
from .access import scope_hamlets
from .audit import record
from .enrolment import Caller, scope_of

Outcome = Literal["signed_out", "dead", "unknown"]


def sign_out(conn: Connection, token: str) -> Outcome:
    """Revoke the device that holds `token` and forget the token, with an audit row
    (device.sign_out): "signed_out". Nothing to do: "dead" (a device already revoked or
    retired), "unknown" (no device holds this token)."""
    device = store.by_token(conn, token)
    if device is None:
        return "unknown"
    if device.revoked:
        return "dead"
    if not store.replace_token(conn, device.id, token, secrets.token_urlsafe(32)):
        return "unknown"  # a rotation or another sign-out won the race: this token is dead already
    store.revoke(conn, device.id, clock.now_iso())
    who = Caller(device, scope_of(conn, device), token)
    hamlets = scope_hamlets(conn, who, device.commune) if device.commune else None
    record(conn, who, "device.sign_out", device.commune, hamlets=hamlets, detail={})
    return "signed_out"
