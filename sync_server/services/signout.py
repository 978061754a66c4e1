"""A device signs itself out (POST /api/v1/device/sign-out): its token dies on the server.

The app's one sign-out (field_app/signout.py) calls it, best effort, before it purges. The
device is revoked, as a leader's revocation does (the team list shows it; its token gets
403 `revoked` from the next request on). Idempotent: a device already revoked or retired
changes nothing and is answered the same way; a token nobody holds is refused like
everywhere (401 `unknown_token`).
"""
from __future__ import annotations

from sqlalchemy import Connection

from ..store import devices as store
from . import clock
from .access import scope_hamlets
from .audit import record
from .enrolment import Caller, scope_of
from .errors import Unauthenticated


def sign_out(conn: Connection, token: str) -> bool:
    """Revoke the device that holds `token`, with an audit row (device.sign_out): True. False
    when it was revoked (or retired) already: nothing changes. Unauthenticated for a token
    no device holds."""
    device = store.by_token(conn, token)
    if device is None:
        raise Unauthenticated("unknown_token", "this token is not known: enrol the device again")
    if device.revoked or not store.revoke(conn, device.id, clock.now_iso()):
        return False  # (a sign-out racing this one revoked it first)
    who = Caller(device, scope_of(conn, device), token)
    hamlets = scope_hamlets(conn, who, device.commune) if device.commune else None
    record(conn, who, "device.sign_out", device.commune, hamlets=hamlets, detail={})
    return True
