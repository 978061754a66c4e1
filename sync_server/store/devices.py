"""Devices, enrolment codes and teams: their rows.

Codes and tokens are random and only their SHA-256 is stored: a copy of the
database does not let anyone enrol or sign in as a device. Which codes may be
made and spent, and what a device may see, is services/enrolment.py's.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Connection, Row, bindparam, case, func, select, update

from . import bulk
from . import schema as t


@dataclass(frozen=True)
class Device:
    id: str
    role: str
    team_id: str | None
    commune: str | None
    hamlets: tuple[str, ...]
    revoked: bool
    acked_seq: int
    name: str | None = None  # who holds the phone (enrolment), None when never told

    def scope(self) -> dict[str, Any]:
        """What the enrolment answer calls the device's scope."""
        return {"team": self.team_id, "commune": self.commune, "hamlets": list(self.hamlets)}


@dataclass(frozen=True)
class Scope:
    """What a device may see and change: None means everything (admin)."""
    hamlets: frozenset[str] | None
    communes: frozenset[str] | None = None
    # communes whose capture sessions (events filed under no hamlet) a hamlet-scoped device
    # pulls: so a volunteer books people offline into their commune's sessions
    sessions: frozenset[str] = frozenset()

    @property
    def everything(self) -> bool:
        return self.hamlets is None and self.communes is None

    def allows(self, hamlet_id: str | None, commune: str | None) -> bool:
        if self.everything:
            return True
        if self.communes is not None and commune in self.communes:
            return True
        return self.hamlets is not None and hamlet_id in self.hamlets

    def whole(self, commune: str) -> bool:
        """Whether the scope covers every hamlet of `commune`."""
        return self.everything or bool(self.communes and commune in self.communes)


@dataclass(frozen=True)
class Enrolment:
    """A code's row: what it enrols, until when, and whether it was spent."""
    code_hash: str
    role: str
    team_id: str | None
    commune: str | None
    hamlets: str  # JSON list, copied to the device as it is
    expires_at: str
    used_at: str | None
    name: str | None = None  # the holder's name, when the code was made with one


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


# ---- enrolment codes ------------------------------------------------------------

def insert_enrolment(conn: Connection, code: str, *, role: str, team_id: str | None, commune: str | None,
                     hamlets: list[str], created_at: str, expires_at: str, name: str | None = None) -> None:
    conn.execute(t.enrolments.insert().values(
        code_hash=hash_secret(code), role=role, team_id=team_id, commune=commune,
        hamlets=json.dumps(hamlets), created_at=created_at, expires_at=expires_at, name=name))


def enrolment(conn: Connection, code: str) -> Enrolment | None:
    row = conn.execute(select(t.enrolments).where(t.enrolments.c.code_hash == hash_secret(code))).first()
    if row is None:
        return None
    return Enrolment(row.code_hash, row.role, row.team_id, row.commune, row.hamlets, row.expires_at, row.used_at,
                     row.name)


def spend_enrolment(conn: Connection, code_hash: str, device_id: str, at: str) -> bool:
    """Mark a code used by `device_id`; False if another request spent it first."""
    spent = conn.execute(update(t.enrolments).where(
        t.enrolments.c.code_hash == code_hash, t.enrolments.c.used_at.is_(None)
    ).values(used_at=at, device_id=device_id))
    return spent.rowcount == 1


# ---- devices --------------------------------------------------------------------

def insert_device(conn: Connection, device_id: str, token: str, code: Enrolment, at: str,
                  name: str | None = None) -> None:
    conn.execute(t.devices.insert().values(
        id=device_id, token_hash=hash_secret(token), role=code.role, team_id=code.team_id,
        commune=code.commune, hamlets=code.hamlets, enrolled_at=at, acked_seq=0, name=name))


# The two statements every sync runs (a token's lookup on each request, a caught-up pull's
# note), built once: building and cache-keying them cost about 150 µs of CPU a call (issue #16).
_BY_TOKEN = select(t.devices).where(t.devices.c.token_hash == bindparam("token_hash"))
_PULLED = func.coalesce(t.devices.c.pulled_after, 0)
_AFTER = bindparam("after", type_=BigInteger)
_TOUCH_PULL = update(t.devices).where(t.devices.c.id == bindparam("device")).values(
    last_pull_at=bindparam("at"), pulled_after=case((_AFTER < _PULLED, _PULLED), else_=_AFTER))


def by_token(conn: Connection, token: str) -> Device | None:
    row = conn.execute(_BY_TOKEN, {"token_hash": hash_secret(token)}).first()
    return _from_row(row) if row else None


def get(conn: Connection, device_id: str) -> Device | None:
    row = conn.execute(select(t.devices).where(t.devices.c.id == device_id)).first()
    return _from_row(row) if row else None


def names(conn: Connection, device_ids: list[str]) -> dict[str, str]:
    """{device id: its holder's name} for those of `device_ids` enrolled with one."""
    if not device_ids:
        return {}
    rows = conn.execute(select(t.devices.c.id, t.devices.c.name)
                        .where(t.devices.c.id.in_(sorted(set(device_ids))), t.devices.c.name.is_not(None)))
    return {row.id: row.name for row in rows}


def _from_row(row: Row[Any]) -> Device:
    return Device(row.id, row.role, row.team_id, row.commune, tuple(json.loads(row.hamlets)),
                  row.revoked_at is not None, row.acked_seq, row.name)


def replace_token(conn: Connection, device_id: str, token: str, new: str) -> bool:
    """Conditional on the old hash and on the device being active: of two rotations racing
    with the same token only one changes the row."""
    done = conn.execute(update(t.devices).where(
        t.devices.c.id == device_id, t.devices.c.token_hash == hash_secret(token),
        t.devices.c.revoked_at.is_(None)).values(token_hash=hash_secret(new)))
    return done.rowcount == 1


def revoke(conn: Connection, device_id: str, at: str) -> bool:
    done = conn.execute(update(t.devices).where(
        t.devices.c.id == device_id, t.devices.c.revoked_at.is_(None)).values(revoked_at=at))
    return done.rowcount == 1


def touch_pull(conn: Connection, device_id: str, at: str, after: int = 0) -> None:
    """The device pulled (caught up) at `at`, asking after cursor `after`: it holds every event
    of its scope up to there (a leader's down bundle for it starts there)."""
    conn.execute(_TOUCH_PULL, {"device": device_id, "at": at, "after": after})


def pulled_after(conn: Connection, device_id: str) -> int:
    return conn.execute(select(t.devices.c.pulled_after).where(t.devices.c.id == device_id)).scalar() or 0


# ---- teams ----------------------------------------------------------------------

def team_commune(conn: Connection, team_id: str) -> str | None:
    """The team's commune; None when there is no such team."""
    return conn.execute(select(t.teams.c.commune).where(t.teams.c.id == team_id)).scalar()


def team_hamlets(conn: Connection, team_id: str) -> frozenset[str]:
    # at the driver, not a select() built and cache-keyed on each call: every request of a
    # leader's or a team volunteer's asks it (scope_of)
    return frozenset(h for (h,) in bulk.one(conn, "SELECT hamlet_id FROM team_hamlets WHERE team_id = ?", (team_id,)))


def insert_team(conn: Connection, team_id: str, name: str, commune: str) -> None:
    conn.execute(t.teams.insert().values(id=team_id, name=name, commune=commune))


def add_team_hamlets(conn: Connection, team_id: str, hamlets: list[str]) -> None:
    if hamlets:
        conn.execute(t.team_hamlets.insert(), [{"team_id": team_id, "hamlet_id": h} for h in hamlets])


def hamlet_communes(conn: Connection, hamlet_ids: list[str]) -> dict[str, str]:
    """{hamlet id: its commune} for those of `hamlet_ids` that are hamlets with a commune."""
    if not hamlet_ids:
        return {}
    return {row.id: row.commune for row in conn.execute(select(t.entities.c.id, t.entities.c.commune).where(
        t.entities.c.id.in_(hamlet_ids), t.entities.c.type == "hamlet")) if row.commune}
