"""The projected state: one row per hamlet, household, person and visit (projection.Entity)."""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection, Row, select

from campaign.projection import Entity

from .. import jsontext
from . import bulk
from . import schema as t


class EntityRow(NamedTuple):
    """An entity as written (the table's column order)."""
    id: str
    type: str
    hamlet_id: str | None
    parent_id: str | None
    commune: str | None
    version: int | None
    body: str


def entity(row: Row[Any] | EntityRow) -> Entity:
    return Entity.from_json(row.id, row.type, row.hamlet_id, row.parent_id, json.loads(row.body))


def row_of(entity: Entity, commune: str | None) -> EntityRow:
    return EntityRow(entity.id, entity.type, entity.hamlet_id, entity.parent_id, commune, entity.version,
                     jsontext.compact(entity.to_json()))  # projected from valid events: no float


def load(conn: Connection, ids: Iterable[str]) -> dict[str, Entity]:
    """The entities of these ids that exist."""
    return {i: entity(row) for i, row in fetch(conn, ids).items()}


def fetch(conn: Connection, ids: Iterable[str]) -> dict[str, EntityRow]:
    """The stored rows of these ids that exist, as stored (the body not parsed): a push
    planned outside the write lock compares what it read with what is there under it."""
    out: dict[str, EntityRow] = {}
    for row in bulk.text_in(conn, f"SELECT {_COLUMNS} FROM entities", "id", list(ids)):
        out[row[0]] = EntityRow._make(row)
    return out


_COLUMNS = ", ".join(EntityRow._fields)


def fetch_stamped(conn: Connection, ids: Iterable[str]) -> tuple[dict[str, EntityRow], dict[str, object]]:
    """`fetch`, and a stamp of each row found: what `stamps` answers while no one writes the row."""
    if conn.dialect.name != "postgresql":
        found = fetch(conn, ids)
        return found, dict(found)
    rows: dict[str, EntityRow] = {}
    marks: dict[str, object] = {}
    for *row, written_by in bulk.text_in(conn, f"SELECT {_COLUMNS}, xmin::text FROM entities", "id", list(ids)):
        rows[row[0]] = EntityRow._make(row)
        marks[row[0]] = written_by
    return rows, marks


def stamps(conn: Connection, ids: Iterable[str]) -> dict[str, object]:
    """{id: a stamp of the stored row} of these ids that exist, a stamp that changes whenever the
    row is written. On PostgreSQL the row version's xmin, the transaction that wrote it: a push
    planned outside the write lock checks under it that nothing it read was written since, without
    reading the bodies again (issue #16: 220 rows a push, their bodies most of the re-read's
    time under the lock). On SQLite, in the process, the whole row."""
    if conn.dialect.name != "postgresql":
        return dict(fetch(conn, ids))
    return dict(bulk.text_in(conn, "SELECT id, xmin::text FROM entities", "id", list(ids)))


def child_ids(conn: Connection, household_ids: Sequence[str]) -> dict[str, list[str]]:
    """{household id: the ids of its people and visits} for these households (one with none is
    left out): one query for a batch's households, not one each (issue #16)."""
    out: dict[str, list[str]] = {}
    found: Iterable[Any]
    if conn.dialect.name == "postgresql":
        found = conn.exec_driver_sql(_CHILDREN_PG, (bulk.text_array(household_ids),))
    else:
        found = bulk.text_in(conn, "SELECT parent_id, id FROM entities", "parent_id", household_ids)
    for parent_id, child_id in found:
        out.setdefault(parent_id, []).append(child_id)
    return out


# Each household's children by the parent index, one household after another (OFFSET 0 keeps
# PostgreSQL from folding the subquery into a join). `parent_id = ANY(ids)` was planned from the
# table's statistics, and before the first ANALYZE (a fresh database, a new campaign's first
# pushes) PostgreSQL guessed 0.5 % of the table a household: for a push's ~100 households it read
# the whole table instead, 7.2 ms against 0.7 ms on 27,000 entities, under the write lock.
_CHILDREN_PG = ("SELECT p.id, c.id FROM unnest(%s::text[]) AS p (id) "
                "CROSS JOIN LATERAL (SELECT id FROM entities WHERE parent_id = p.id OFFSET 0) AS c")


def insert(conn: Connection, rows: Sequence[EntityRow]) -> None:
    bulk.insert(conn, t.entities, rows)


def update(conn: Connection, rows: Sequence[EntityRow]) -> None:
    if rows:
        bulk.many(conn, "UPDATE entities SET type = ?, hamlet_id = ?, parent_id = ?, commune = ?, version = ?, "
                        "body = ? WHERE id = ?",
                  [(r.type, r.hamlet_id, r.parent_id, r.commune, r.version, r.body, r.id) for r in rows])


def hamlet_names(conn: Connection, commune: str) -> dict[str, str]:
    """{hamlet id: name} of every hamlet of a commune, in no order."""
    rows = conn.execute(select(t.entities.c.id, t.entities.c.body).where(
        t.entities.c.commune == commune, t.entities.c.type == "hamlet"))
    return {r.id: hamlet_name(r.body) for r in rows}


def hamlet_name(body: str) -> str:
    """A hamlet's name, from its stored body."""
    name: str = json.loads(body)["data"]["name"]
    return name


def hamlet_ids(conn: Connection, commune: str) -> frozenset[str]:
    return frozenset(conn.execute(select(t.entities.c.id).where(
        t.entities.c.type == "hamlet", t.entities.c.commune == commune)).scalars())
