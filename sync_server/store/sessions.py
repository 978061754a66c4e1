"""Capture sessions and their bookings, as projected (campaign.sessions): SQL only.

A session's row is filed under its commune and no hamlet; a booking's under its person's
hamlet and commune, with its session as parent (ix_entities_parent finds a roster)."""
from __future__ import annotations

import json

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
    """The ids of a commune's bookings of these people (a household's, when it moves)."""
    found = bulk.one(conn, "SELECT id, body FROM entities WHERE commune = ? AND type = 'booking'", (commune,))
    return [i for i, body in found if json.loads(body)["data"].get("person_id") in people]
