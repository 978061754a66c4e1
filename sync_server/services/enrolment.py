"""Enrolment and identity: one-time codes, device tokens, revocation, rotation, and what
a device may see (its Scope).

Codes and tokens are random; the store keeps only their hashes. A code is
spent once; a token is shown once (in the enrolment or rotation answer).
"""
from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlencode

from sqlalchemy import Connection

from campaign.text import HOLDER_NAME_MAX, holder_name
from campaign.vocabulary import ROLES

from ..config import ENROL_CODE_TTL_HOURS
from ..store import devices as store
from ..store import purge as store_purge
from ..store.devices import Device, Scope
from ..store.per_engine import PerEngine
from . import clock
from .errors import Forbidden, Gone, Invalid, NotFound, Unauthenticated

# No 0/O, 1/I/L: a code is read aloud and typed on a phone.
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12  # ~59 bits; one-time and short-lived


class EnrolmentCode(NamedTuple):
    code: str  # as shown to people: XXXX-XXXX-XXXX
    expires_at: str


class Enrolled(NamedTuple):
    device: Device
    token: str  # shown once, stored hashed


@dataclass(frozen=True)
class Caller:
    """Who is calling: an active device, what it may see, and the token it called with."""
    device: Device
    scope: Scope
    token: str = ""


def enrolment_url(public_url: str, code: str) -> str:
    """What the QR code holds: the app reads the server and the code from it (field_app's
    `parse_enrolment`). The command line and the leader's "new member" answer both give it."""
    return "gocua://enrol?" + urlencode({"server": public_url.rstrip("/"), "code": code})


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def format_code(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def create_enrolment(conn: Connection, role: str, team_id: str | None = None, commune: str | None = None,
                     hamlets: list[str] | None = None,
                     ttl_hours: float = ENROL_CODE_TTL_HOURS, name: str | None = None) -> EnrolmentCode:
    """A one-time code for a device of `role` and its scope, for the person `name` (who will
    hold the phone). Refuses (Invalid) a role without the scope it needs or a name that cannot
    be one, and (NotFound) a team that does not exist."""
    name = checked_name(name)
    if role not in ROLES:
        raise Invalid("bad_role", f"role must be one of {', '.join(ROLES.codes)}")
    hamlets = list(hamlets or [])
    if role == "officer" and not commune:
        raise Invalid("missing_scope", "an officer needs --commune")
    if role == "leader" and not team_id:
        raise Invalid("missing_scope", "a leader needs --team")
    if role == "volunteer" and not (hamlets or team_id):
        raise Invalid("missing_scope", "a volunteer needs --hamlet or --team")
    if team_id is not None:
        team_commune = store.team_commune(conn, team_id)
        if team_commune is None:
            raise NotFound("unknown_team", f"no team {team_id!r}")
        commune = commune or team_commune
    code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(CODE_LENGTH))
    expires_at = clock.later(ttl_hours)
    store.insert_enrolment(conn, code, role=role, team_id=team_id, commune=commune, hamlets=hamlets,
                           created_at=clock.now_iso(), expires_at=expires_at, name=name)
    return EnrolmentCode(format_code(code), expires_at)


def checked_name(name: str | None) -> str | None:
    """A holder's name as stored (NFC, trimmed), None for none; Invalid `bad_name` otherwise."""
    if name is None or not name.strip():
        return None
    try:
        return holder_name(name)
    except ValueError as bad:
        words = {"too_long": f"a name has at most {HOLDER_NAME_MAX} characters",
                 "bad_text": "a name cannot hold control characters"}
        raise Invalid("bad_name", words.get(str(bad), "a name cannot be empty")) from None


def enrol(conn: Connection, code: str, previous_token: str | None = None, name: str | None = None) -> Enrolled:
    """Spend a code: a new device and its token.

    The device's name (who holds it) is the code's, else `name` (typed on the phone), else
    the name of the device it replaces (`previous_token`): a phone enrolled again keeps it.

    Re-enrolment: a phone that presents the token it held (`previous_token`, the
    Authorization header of POST /enroll) gets a new device and the old record is
    revoked in the same transaction, so a copy of the old token stops working.
    An unknown or revoked previous token changes nothing: enrolling never fails
    because of it (a revoked phone is the usual one to re-enrol).
    Refuses an unknown code or a bad name (Invalid), a used or expired one (Gone)."""
    typed = checked_name(name)
    found = store.enrolment(conn, normalise_code(code))
    if found is None:
        raise Invalid("unknown_code", "this enrolment code is not known")
    if found.used_at is not None:
        raise Gone("used_code", "this enrolment code has already been used")
    if found.expires_at <= clock.now_iso():
        raise Gone("expired_code", "this enrolment code has expired: ask for a new one")
    device_id = str(uuid.uuid4())
    token = secrets.token_urlsafe(32)
    if not store.spend_enrolment(conn, found.code_hash, device_id, clock.now_iso()):
        raise Gone("used_code", "this enrolment code has already been used")  # spent between our read and write
    previous = store.by_token(conn, previous_token) if previous_token else None
    store.insert_device(conn, device_id, token, found, clock.now_iso(),
                        name=found.name or typed or (previous.name if previous is not None else None))
    if previous is not None and previous.id != device_id:
        store.revoke(conn, previous.id, clock.now_iso())
    device = store.get(conn, device_id)
    assert device is not None
    return Enrolled(device, token)


def rotate(conn: Connection, who: Caller) -> str:
    """A new token for the calling device, in place of the one it called with, which stops
    working at once. Of two rotations racing with the same token only one wins; the other
    is refused (Unauthenticated: its token is no longer known)."""
    new = secrets.token_urlsafe(32)
    if not store.replace_token(conn, who.device.id, who.token, new):
        raise Unauthenticated("unknown_token", "this token is not known: enrol the device again")
    return new


def revoke(conn: Connection, device_id: str) -> bool:
    """Refuse the device from its next request on; False if there is no active device of that id."""
    return store.revoke(conn, device_id, clock.now_iso())


def authenticate(conn: Connection, token: str) -> Caller:
    """The active device that holds `token`, and its scope. Refuses an unknown token
    (Unauthenticated), a device retired by the retention purge (Gone, `purged`: the device
    deletes its personal data) and a revoked one (Forbidden)."""
    device = store.by_token(conn, token)
    if device is None:
        raise Unauthenticated("unknown_token", "this token is not known: enrol the device again")
    if device.revoked:
        # a purge of another commune never retires an officer: look in the officer's commune only
        retired = store_purge.retired_by(conn, device.id, device.commune if device.role == "officer" else None)
        if retired is not None:
            raise Gone("purged", "the campaign is over and its retention period has passed: "
                       "the server removed its personal data; delete this device's personal data "
                       "and enrol again for new work", purged_at=retired.at, commune=retired.commune)
        raise Forbidden("revoked", "this device has been revoked: hand it to your team leader")
    return Caller(device, scope_of(conn, device), token)


def scope_of(conn: Connection, device: Device) -> Scope:
    """Volunteers: their hamlets and their team's; leaders: the team's; officers: a commune."""
    if device.role == "admin":
        return Scope(hamlets=None)
    if device.role == "officer":
        return Scope(hamlets=frozenset(), communes=frozenset({device.commune or ""}))
    hamlets = set(device.hamlets)
    if device.team_id:
        hamlets.update(store.team_hamlets(conn, device.team_id))
    communes = {device.commune} if device.commune else _communes_of(conn, hamlets)
    return Scope(hamlets=frozenset(hamlets), sessions=frozenset(communes))


# hamlet id -> its commune, per database, as this process has looked them up. A hamlet's
# commune is set when it is created and never changes (hamlet.updated carries no commune:
# campaign/events.py), and no hamlet is ever deleted, so what was found stays true; a hamlet
# not found is asked again. Every request of a volunteer enrolled by hamlet without a commune
# (`gocua-server enroll --hamlet`) needs its hamlets' communes for its scope: one statement
# fewer on each (issue #16, 1,000 devices).
_COMMUNES: PerEngine[dict[str, str]] = PerEngine(dict)
_COMMUNES_KEPT = 200_000  # hamlets a database's map holds at most (Vietnam has about 100,000 villages)


def _communes_of(conn: Connection, hamlets: set[str]) -> set[str]:
    known = _COMMUNES(conn.engine)
    missing = sorted(h for h in hamlets if h not in known)
    if missing:
        found = store.hamlet_communes(conn, missing)
        if len(known) + len(found) > _COMMUNES_KEPT:
            known.clear()
        known.update(found)
    return {c for h in hamlets if (c := known.get(h))}
