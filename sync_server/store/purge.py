"""What the retention purge reads and rewrites (services/purge.py decides what and how),
and how the database then forgets the old values."""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, bindparam, select, update

from . import bulk
from . import schema as t

ACTION = "retention.purge"  # the audit action a purge records, and retired_by() reads


class Place(NamedTuple):
    id: str
    type: str
    parent_id: str | None


class Body(NamedTuple):
    key: Any  # the row's id (an entity's, a conflict's, an import's) or an event's cursor
    device_id: str | None  # an event's device
    body: str  # JSON


@dataclass(frozen=True)
class Retirement:
    """The purge that retired a device."""
    commune: str
    at: str


# ---- entities ---------------------------------------------------------------------------

def places(conn: Connection, commune: str) -> list[Place]:
    """Every entity of a commune: id, type, parent."""
    return [Place(*r) for r in conn.execute(select(t.entities.c.id, t.entities.c.type, t.entities.c.parent_id)
                                            .where(t.entities.c.commune == commune))]


def entity_bodies(conn: Connection, commune: str, types: Sequence[str]) -> list[tuple[str, str, str]]:
    """(id, type, body) of a commune's entities of these types."""
    return [(r.id, r.type, r.body) for r in conn.execute(select(t.entities.c.id, t.entities.c.type, t.entities.c.body)
                                                          .where(t.entities.c.commune == commune,
                                                                 t.entities.c.type.in_(sorted(types))))]


def set_entity_bodies(conn: Connection, changed: Sequence[tuple[str, str]]) -> None:
    """(id, body) pairs."""
    if changed:
        conn.execute(update(t.entities).where(t.entities.c.id == bindparam("b_id")).values(body=bindparam("b_body")),
                     [{"b_id": i, "b_body": body} for i, body in changed])


# ---- events -----------------------------------------------------------------------------

def applied_bodies(conn: Connection, commune: str, kinds: Sequence[str]) -> list[Body]:
    """The applied events filed under a commune, of these kinds."""
    return [Body(*r) for r in conn.execute(select(t.events.c.cursor, t.events.c.device_id, t.events.c.body).where(
        t.events.c.commune == commune, t.events.c.kind.in_(sorted(kinds))))]


def set_event_bodies(conn: Connection, changed: Sequence[tuple[int, str]]) -> None:
    """(cursor, body) pairs."""
    if changed:
        conn.execute(update(t.events).where(t.events.c.cursor == bindparam("b_cursor"))
                     .values(body=bindparam("b_body")), [{"b_cursor": c, "b_body": body} for c, body in changed])


def quarantined(conn: Connection) -> list[tuple[int, str, str, str | None]]:
    """Every quarantined event: (cursor, device, body, reason). They are filed under no hamlet."""
    return [(r.cursor, r.device_id, r.body, r.reason) for r in conn.execute(
        select(t.events.c.cursor, t.events.c.device_id, t.events.c.body, t.events.c.reason)
        .where(t.events.c.status == "quarantined"))]


def set_quarantined(conn: Connection, changed: Sequence[tuple[int, str, str]]) -> None:
    """(cursor, body, reason) triples."""
    if changed:
        conn.execute(update(t.events).where(t.events.c.cursor == bindparam("b_cursor"))
                     .values(body=bindparam("b_body"), reason=bindparam("b_reason")),
                     [{"b_cursor": c, "b_body": body, "b_reason": reason} for c, body, reason in changed])


# ---- conflicts and imports -------------------------------------------------------------------

def conflicts(conn: Connection, commune: str, fields: Sequence[str]) -> list[tuple[int, str, str, str, str]]:
    """(id, entity, field, earlier, later) of a commune's conflicts over these fields."""
    return [(r.id, r.entity, r.field, r.earlier, r.later) for r in conn.execute(
        select(t.conflicts).where(t.conflicts.c.commune == commune, t.conflicts.c.field.in_(fields)))]


def set_conflicts(conn: Connection, changed: Sequence[tuple[int, str, str]]) -> None:
    """(id, earlier, later) triples."""
    if changed:
        conn.execute(update(t.conflicts).where(t.conflicts.c.id == bindparam("b_id"))
                     .values(earlier=bindparam("b_earlier"), later=bindparam("b_later")),
                     [{"b_id": i, "b_earlier": e, "b_later": later} for i, e, later in changed])


def import_errors(conn: Connection, commune: str) -> list[tuple[str, str]]:
    """(import id, its errors as JSON) of a commune's imports."""
    return [(r.id, r.errors) for r in conn.execute(
        select(t.imports.c.id, t.imports.c.errors).where(t.imports.c.commune == commune))]


def set_import_errors(conn: Connection, changed: Sequence[tuple[str, str]]) -> None:
    if changed:
        conn.execute(update(t.imports).where(t.imports.c.id == bindparam("b_id"))
                     .values(errors=bindparam("b_errors")), [{"b_id": i, "b_errors": e} for i, e in changed])


# ---- devices ------------------------------------------------------------------------------

def field_devices(conn: Connection) -> list[tuple[str, str | None, str | None, list[str]]]:
    """Every device but admins' (revoked ones too): (id, commune, team, hamlets)."""
    return [(r.id, r.commune, r.team_id, json.loads(r.hamlets or "[]")) for r in conn.execute(
        select(t.devices.c.id, t.devices.c.commune, t.devices.c.team_id, t.devices.c.hamlets)
        .where(t.devices.c.role != "admin"))]


def admins_that_pulled(conn: Connection) -> set[str]:
    return set(conn.execute(select(t.devices.c.id).where(
        t.devices.c.role == "admin", t.devices.c.last_pull_at.is_not(None))).scalars())


def active(conn: Connection, device_ids: Sequence[str]) -> set[str]:
    """Those of these devices not revoked."""
    out: set[str] = set()
    for part in bulk.chunks(device_ids):
        out.update(conn.execute(select(t.devices.c.id).where(
            t.devices.c.id.in_(part), t.devices.c.revoked_at.is_(None))).scalars())
    return out


def retire(conn: Connection, device_ids: Sequence[str], at: str) -> None:
    for part in bulk.chunks(device_ids):
        conn.execute(update(t.devices).where(t.devices.c.id.in_(part), t.devices.c.revoked_at.is_(None))
                     .values(revoked_at=at))


def retired_by(conn: Connection, device_id: str, commune: str | None = None) -> Retirement | None:
    """The purge that retired this device, or None (revoked by a person). `commune` narrows
    the search to that commune's audit rows through their index."""
    query = select(t.audit.c.commune, t.audit.c.at, t.audit.c.detail).where(
        t.audit.c.action == ACTION, t.audit.c.detail.like(f'%"{device_id}"%'))
    if commune is not None:
        query = query.where(t.audit.c.commune == commune)
    for row in conn.execute(query.order_by(t.audit.c.id.desc())):
        if device_id in json.loads(row.detail).get("devices", []):
            return Retirement(row.commune, row.at)
    return None


# ---- after the transaction: leave no old value on disk --------------------------------------

def compact(engine: Engine) -> None:
    """SQLite: VACUUM (rewrites the file without the free pages that held old values) and
    truncate the WAL. PostgreSQL: VACUUM the touched tables (old row versions become free
    space, overwritten as the tables are reused; see SECURITY.md for backups and WAL)."""
    if engine.dialect.name != "sqlite":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in ("events", "entities", "conflicts", "imports"):
                conn.exec_driver_sql(f"VACUUM {table}")
        return
    raw = engine.raw_connection()  # the DBAPI connection says no BEGIN of its own: VACUUM runs bare
    try:
        cur = raw.cursor()
        cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cur.execute("VACUUM")
        cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cur.close()
    finally:
        raw.close()
