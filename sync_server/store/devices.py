"""Devices, enrolment codes and teams.

Codes and tokens are random and only their SHA-256 is stored: a copy of the
database does not let anyone enrol or sign in as a device.
"""
from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select, update

from campaign.vocabulary import ROLES

from .. import clock
from ..config import ENROL_CODE_TTL_HOURS
from . import schema as t

# No 0/O, 1/I/L: a code is read aloud and typed on a phone.
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12  # ~59 bits; one-time and short-lived


class EnrolError(ValueError):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Device:
    id: str
    role: str
    team_id: str | None
    commune: str | None
    hamlets: tuple[str, ...]
    revoked: bool
    acked_seq: int

    def scope(self) -> dict[str, Any]:
        return {"team": self.team_id, "commune": self.commune, "hamlets": list(self.hamlets)}


@dataclass(frozen=True)
class Scope:
    """What a device may see and change: None means everything (admin)."""
    hamlets: frozenset[str] | None
    communes: frozenset[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def allows(self, hamlet_id: str | None, commune: str | None) -> bool:
        if self.hamlets is None and self.communes is None:
            return True
        if self.communes is not None and commune in self.communes:
            return True
        return self.hamlets is not None and hamlet_id in self.hamlets


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def format_code(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def create_enrolment(conn: Connection, role: str, team_id: str | None = None,
                     commune: str | None = None, hamlets: list[str] | None = None,
                     ttl_hours: float = ENROL_CODE_TTL_HOURS) -> tuple[str, str]:
    """Returns (code as shown to people, expires_at)."""
    if role not in ROLES:
        raise EnrolError("bad_role", f"role must be one of {', '.join(ROLES.codes)}")
    hamlets = list(hamlets or [])
    if role == "officer" and not commune:
        raise EnrolError("missing_scope", "an officer needs --commune")
    if role == "leader" and not team_id:
        raise EnrolError("missing_scope", "a leader needs --team")
    if role == "volunteer" and not (hamlets or team_id):
        raise EnrolError("missing_scope", "a volunteer needs --hamlet or --team")
    if team_id is not None:
        team = conn.execute(select(t.teams.c.commune).where(t.teams.c.id == team_id)).first()
        if team is None:
            raise EnrolError("unknown_team", f"no team {team_id!r}")
        commune = commune or team.commune
    code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(CODE_LENGTH))
    expires_at = clock.later(ttl_hours)
    conn.execute(t.enrolments.insert().values(
        code_hash=hash_secret(code), role=role, team_id=team_id, commune=commune,
        hamlets=json.dumps(hamlets), created_at=clock.now_iso(), expires_at=expires_at))
    return format_code(code), expires_at


def enrol(conn: Connection, code: str, previous_token: str | None = None) -> tuple[Device, str]:
    """Spend a code: a new device and its token (shown once, stored hashed).

    Re-enrolment: a phone that presents the token it held (`previous_token`, the
    Authorization header of POST /enroll) gets a new device and the old record is
    revoked in the same transaction, so a copy of the old token stops working.
    An unknown or revoked previous token changes nothing: enrolling never fails
    because of it (a revoked phone is the usual one to re-enrol)."""
    row = conn.execute(select(t.enrolments).where(
        t.enrolments.c.code_hash == hash_secret(normalise_code(code)))).first()
    if row is None:
        raise EnrolError("unknown_code", "this enrolment code is not known")
    if row.used_at is not None:
        raise EnrolError("used_code", "this enrolment code has already been used")
    if row.expires_at <= clock.now_iso():
        raise EnrolError("expired_code", "this enrolment code has expired: ask for a new one")
    device_id = str(uuid.uuid4())
    token = secrets.token_urlsafe(32)
    spent = conn.execute(update(t.enrolments).where(
        t.enrolments.c.code_hash == row.code_hash, t.enrolments.c.used_at.is_(None)
    ).values(used_at=clock.now_iso(), device_id=device_id))
    if spent.rowcount != 1:  # another request spent it between our read and write
        raise EnrolError("used_code", "this enrolment code has already been used")
    conn.execute(t.devices.insert().values(
        id=device_id, token_hash=hash_secret(token), role=row.role, team_id=row.team_id,
        commune=row.commune, hamlets=row.hamlets, enrolled_at=clock.now_iso(), acked_seq=0))
    if previous_token:
        previous = by_token(conn, previous_token)
        if previous is not None and previous.id != device_id:
            revoke(conn, previous.id)
    return _device(conn, device_id), token


def rotate(conn: Connection, device_id: str, token: str) -> str | None:
    """A new token for a device, in place of `token`, which stops working at once.

    The update is conditional on the old hash: of two rotations racing with the same
    token only one wins; the other gets None (its token is no longer known)."""
    new = secrets.token_urlsafe(32)
    done = conn.execute(update(t.devices).where(
        t.devices.c.id == device_id, t.devices.c.token_hash == hash_secret(token),
        t.devices.c.revoked_at.is_(None)).values(token_hash=hash_secret(new)))
    return new if done.rowcount == 1 else None


def by_token(conn: Connection, token: str) -> Device | None:
    row = conn.execute(select(t.devices).where(t.devices.c.token_hash == hash_secret(token))).first()
    return _from_row(row) if row else None


def _device(conn: Connection, device_id: str) -> Device:
    row = conn.execute(select(t.devices).where(t.devices.c.id == device_id)).first()
    if row is None:
        raise KeyError(device_id)
    return _from_row(row)


def get(conn: Connection, device_id: str) -> Device | None:
    row = conn.execute(select(t.devices).where(t.devices.c.id == device_id)).first()
    return _from_row(row) if row else None


def _from_row(row: Any) -> Device:
    return Device(row.id, row.role, row.team_id, row.commune, tuple(json.loads(row.hamlets)),
                  row.revoked_at is not None, row.acked_seq)


def revoke(conn: Connection, device_id: str) -> bool:
    done = conn.execute(update(t.devices).where(
        t.devices.c.id == device_id, t.devices.c.revoked_at.is_(None)).values(revoked_at=clock.now_iso()))
    return done.rowcount == 1


def scope_of(conn: Connection, device: Device) -> Scope:
    """Volunteers: their hamlets and their team's; leaders: the team's; officers: a commune."""
    if device.role == "admin":
        return Scope(hamlets=None)
    if device.role == "officer":
        return Scope(hamlets=frozenset(), communes=frozenset({device.commune or ""}))
    hamlets = set(device.hamlets)
    if device.team_id:
        hamlets.update(r.hamlet_id for r in conn.execute(
            select(t.team_hamlets.c.hamlet_id).where(t.team_hamlets.c.team_id == device.team_id)))
    return Scope(hamlets=frozenset(hamlets))


def create_team(conn: Connection, team_id: str, name: str, commune: str, hamlets: list[str]) -> None:
    conn.execute(t.teams.insert().values(id=team_id, name=name, commune=commune))
    add_team_hamlets(conn, team_id, hamlets)


def add_team_hamlets(conn: Connection, team_id: str, hamlets: list[str]) -> None:
    if hamlets:
        conn.execute(t.team_hamlets.insert(), [{"team_id": team_id, "hamlet_id": h} for h in hamlets])


def touch_pull(conn: Connection, device_id: str, at: str) -> None:
    conn.execute(update(t.devices).where(t.devices.c.id == device_id).values(last_pull_at=at))
