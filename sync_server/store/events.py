"""The event log's statements: what a push reads and writes, and what a receipt counts.

The push's logic (order, validation, authorisation, the projection, the totals)
is services/ingest.py's; it runs inside one write transaction, and these are
its statements. New rows go in with COPY (PostgreSQL) or the driver's
executemany (store/bulk.py). The scoped, paged read is store/pull.py.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple

from sqlalchemy import Connection, func, select

from . import bulk
from . import schema as t


class EventRow(NamedTuple):
    """An event as stored (the table's column order)."""
    cursor: int
    device_id: str
    seq: int
    kind: str
    entity: str
    hamlet_id: str | None
    commune: str | None
    status: str  # applied | quarantined
    reason: str | None
    received_at: str
    body: str  # the canonical JSON


class MoveRow(NamedTuple):
    """A household's move, filed under the hamlet it left (the table's column order)."""
    cursor: int
    hamlet_id: str
    commune: str | None
    household_id: str


class ConflictRow(NamedTuple):
    entity: str
    field: str
    hamlet_id: str | None
    commune: str | None
    earlier: str  # JSON
    later: str
    opened_cursor: int


class Held(NamedTuple):
    """An event the server holds already, as a retried push is compared with it."""
    body: str
    status: str
    reason: str | None
    cursor: int = 0  # where the log holds it: a retried push's answer names it again


def lock_device(conn: Connection, device_id: str) -> tuple[int, int]:
    """(the device's acknowledged seq, the log's last cursor), the device's row locked for the
    push (PostgreSQL; SQLite's transaction holds the whole database). One statement: each round
    trip to PostgreSQL under the write lock is held time (issue #16)."""
    sql = 'SELECT acked_seq, (SELECT coalesce(max("cursor"), 0) FROM events) FROM devices WHERE id = ?'
    if conn.dialect.name != "sqlite":
        sql += " FOR UPDATE"
    acked, last = bulk.one(conn, sql, (device_id,)).one()
    return int(acked), int(last)


def held(conn: Connection, device_id: str, seqs: Sequence[int]) -> dict[int, Held]:
    """The events of a device already held, by seq."""
    out: dict[int, Held] = {}
    for part in bulk.chunks(seqs):
        for seq, body, status, reason, cursor in bulk.one(
                conn, 'SELECT seq, body, status, reason, "cursor" FROM events '
                      f"WHERE device_id = ? AND seq IN ({bulk.marks(len(part))})", (device_id, *part)):
            out[seq] = Held(body, status, reason, cursor)
    return out


def quarantined_of(conn: Connection, device_id: str) -> list[tuple[int, str]]:
    """(seq, reason code) of every event of the device held as quarantined, in seq order."""
    return [(seq, reason or "") for seq, reason in conn.execute(
        select(t.events.c.seq, t.events.c.reason)
        .where(t.events.c.device_id == device_id, t.events.c.status == "quarantined").order_by(t.events.c.seq))]


def last_cursor(conn: Connection) -> int:
    return int(bulk.one(conn, 'SELECT coalesce(max("cursor"), 0) FROM events').scalar_one())


def insert(conn: Connection, rows: Sequence[EventRow]) -> None:
    bulk.insert(conn, t.events, rows)


def insert_moves(conn: Connection, rows: Sequence[MoveRow]) -> None:
    if rows:
        bulk.many(conn, 'INSERT INTO event_moves ("cursor", hamlet_id, commune, household_id) VALUES (?, ?, ?, ?)',
                  [tuple(row) for row in rows])


def insert_conflicts(conn: Connection, rows: Sequence[ConflictRow]) -> None:
    if rows:
        bulk.many(conn, "INSERT INTO conflicts (entity, field, hamlet_id, commune, earlier, later, opened_cursor) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)", [tuple(row) for row in rows])


def resolve_conflicts(conn: Connection, resolved: Sequence[tuple[str, str, int]]) -> None:
    """Close the open conflicts of (entity, field) at a cursor, in the order given: a pair
    resolved twice in one push is closed by the first (the second finds none open)."""
    if resolved:
        bulk.many(conn, "UPDATE conflicts SET resolved_cursor = ? "
                        "WHERE entity = ? AND field = ? AND resolved_cursor IS NULL",
                  [(at_cursor, entity, name) for entity, name, at_cursor in resolved])


class OpenConflict(NamedTuple):
    id: int
    entity: str
    type: str  # the entity's
    field: str
    hamlet_id: str | None
    earlier: str  # JSON
    later: str
    opened_cursor: int


def open_conflicts(conn: Connection, commune: str) -> list[OpenConflict]:
    """A commune's open conflicts, oldest first."""
    rows = conn.execute(select(t.conflicts, t.entities.c.type).join(
        t.entities, t.entities.c.id == t.conflicts.c.entity).where(
        t.conflicts.c.commune == commune, t.conflicts.c.resolved_cursor.is_(None)).order_by(t.conflicts.c.id))
    return [OpenConflict(r.id, r.entity, r.type, r.field, r.hamlet_id, r.earlier, r.later, r.opened_cursor)
            for r in rows]


def acknowledge(conn: Connection, device_id: str, acked_seq: int, at: str) -> None:
    bulk.one(conn, "UPDATE devices SET acked_seq = ?, last_push_at = ? WHERE id = ?", (acked_seq, at, device_id))


def applied(conn: Connection) -> Iterator[tuple[int, str]]:
    """Every applied event, (cursor, body), in cursor order, streamed."""
    rows = conn.execute(select(t.events.c.cursor, t.events.c.body).where(t.events.c.status == "applied")
                        .order_by(t.events.c.cursor).execution_options(yield_per=5000))
    yield from ((cursor, body) for cursor, body in rows)


# ---- receipt --------------------------------------------------------------------

def acked_seq(conn: Connection, device_id: str) -> int:
    return int(bulk.one(conn, "SELECT acked_seq FROM devices WHERE id = ?", (device_id,)).scalar_one())


def kind_counts(conn: Connection, device_id: str, upto: int) -> dict[str, int]:
    return {kind: int(n) for kind, n in conn.execute(select(t.events.c.kind, func.count()).where(
        t.events.c.device_id == device_id, t.events.c.seq <= upto).group_by(t.events.c.kind))}


def bodies(conn: Connection, device_id: str, upto: int) -> Iterable[str]:
    """A device's stored bodies in seq order, up to a seq."""
    return conn.execute(select(t.events.c.body).where(
        t.events.c.device_id == device_id, t.events.c.seq <= upto).order_by(t.events.c.seq)).scalars()
