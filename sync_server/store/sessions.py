"""Capture sessions and their bookings, as projected (campaign.sessions): SQL only.

A session's row is filed under its commune and no hamlet; a booking's under its person's
hamlet and commune, with its session as parent (ix_entities_parent finds a roster)."""
from __future__ import annotations

from sqlalchemy import Connection, select

from campaign.projection import Entity

from . import bulk
from . import schema as t
from .entities import entity


def session(conn: Connection, session_id: str) -> Entity | None:
    row = conn.execute(select(t.entities).where(t.entities.c.id == session_id,
                                                t.entities.c.type == "session")).first()
    return entity(row) if row is not None else None


def sessions(conn: Connection, commune: str) -> list[Entity]:
    """The commune's sessions, in no order."""
    return [entity(r) for r in conn.execute(select(t.entities).where(
        t.entities.c.commune == commune, t.entities.c.type == "session"))]


def bookings(conn: Connection, session_id: str) -> list[Entity]:
    """A session's bookings, in no order."""
    return [entity(r) for r in conn.execute(select(t.entities).where(
        t.entities.c.parent_id == session_id, t.entities.c.type == "booking"))]


def commune_bookings(conn: Connection, commune: str) -> list[Entity]:
    """Every booking of a commune's people, in no order."""
    return [entity(r) for r in conn.execute(select(t.entities).where(
        t.entities.c.commune == commune, t.entities.c.type == "booking"))]


def booking_ids_of(conn: Connection, commune: str, people: set[str]) -> list[str]:
    """The ids of a commune's bookings of these people (a household's, when it moves). The person
    is read from each body by the database's JSON functions, not by parsing every booking of the
    commune in Python: a move asks this in its plan and again under the write lock (5,000
    bookings: 20.5 -> 5.0 ms on SQLite; on PostgreSQL 25.6 -> 19.3 ms, the server's CPU 21.9 -> 0.6
    ms). Not a text search of the bodies: it would depend on how a body was spelt when written."""
    if not people:
        return []
    person = ("body::json -> 'data' ->> 'person_id'" if conn.dialect.name == "postgresql"
              else "json_extract(body, '$.data.person_id')")
    return [i for (i,) in bulk.text_in(conn, "SELECT id FROM entities", person, sorted(people),
                                       where="commune = ? AND type = 'booking'", params=(commune,))]
