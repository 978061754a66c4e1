"""What the follow-up lists read: a hamlet's households, people and visits, in list order
(households in the order they were created, ids being time-ordered; then people in the
order they were added). Which of them need the team is services/followup.py's."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, Select, and_, or_, select

from . import schema as t

Body = tuple[str, str | None, dict[str, Any]]  # (id, parent id, the entity's data)


def _bodies(conn: Connection, query: Select[Any]) -> Iterator[Body]:
    for row in conn.execute(query.execution_options(yield_per=2000)):
        yield row.id, row.parent_id, json.loads(row.body)["data"]


def households(conn: Connection, hamlet_id: str, after: str | None = None) -> Iterator[Body]:
    """A hamlet's households by id, after one (exclusive)."""
    e = t.entities.c
    query = select(e.id, e.parent_id, e.body).where(e.hamlet_id == hamlet_id, e.type == "household")
    if after is not None:
        query = query.where(e.id > after)
    return _bodies(conn, query.order_by(e.id))


def visits_mentioning(conn: Connection, hamlet_id: str, text: str) -> Iterator[Body]:
    """A hamlet's visits whose body holds `text` (a cheap filter: the caller reads them)."""
    e = t.entities.c
    return _bodies(conn, select(e.id, e.parent_id, e.body).where(
        e.hamlet_id == hamlet_id, e.type == "visit", e.body.like(f"%{text}%")))


def visits(conn: Connection, hamlet_id: str) -> Iterator[Body]:
    """A hamlet's visits, every one (the caller leaves out those taken back)."""
    e = t.entities.c
    return _bodies(conn, select(e.id, e.parent_id, e.body).where(e.hamlet_id == hamlet_id, e.type == "visit"))


def people(conn: Connection, hamlet_id: str, after: tuple[str, str] | None = None) -> Iterator[Body]:
    """A hamlet's people by (household, id), after (household id, person id), exclusive."""
    e = t.entities.c
    query = select(e.id, e.parent_id, e.body).where(e.hamlet_id == hamlet_id, e.type == "person")
    if after is not None:
        household_id, person_id = after
        query = query.where(or_(e.parent_id > household_id, and_(e.parent_id == household_id, e.id > person_id)))
    return _bodies(conn, query.order_by(e.parent_id, e.id))


def bookings(conn: Connection, hamlet_id: str) -> Iterator[Body]:
    """A hamlet's capture bookings (their parent: the session)."""
    e = t.entities.c
    return _bodies(conn, select(e.id, e.parent_id, e.body).where(e.hamlet_id == hamlet_id, e.type == "booking"))
