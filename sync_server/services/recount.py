"""Proving the maintained totals: replay the event log from nothing and count again
(`gocua-server recount`, and `--fix` to replace them)."""
from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Connection

from campaign import projection
from campaign import totals as rules

from ..store import events as store_events
from ..store import totals as store


@dataclass(frozen=True)
class Difference:
    """A counter the log and the maintained totals disagree on."""
    hamlet_id: str
    day: str
    metric: str
    stored: int
    recounted: int


def replay(conn: Connection) -> dict[str, projection.Entity]:
    """Every applied event again, in cursor order, from nothing."""
    state: dict[str, projection.Entity] = {}

    def children(household_id: str) -> list[projection.Entity]:  # asked on moves and refusals only
        return [e for e in state.values() if e.parent_id == household_id]

    def bookings(household_id: str) -> list[projection.Entity]:  # asked on moves only
        people = {e.id for e in children(household_id) if e.type == "person"}
        return [e for e in state.values() if e.type == "booking" and e.data.get("person_id") in people]

    for cursor, body in store_events.applied(conn):
        outcome = projection.apply(json.loads(body), cursor, state.get, children, bookings)
        state.update(outcome.changed)
    return state


def recount(conn: Connection) -> list[Difference]:
    """Differences between the maintained totals and a replay: empty when they agree."""
    expected = rules.recount(replay(conn).values())
    stored = {(c.hamlet_id, c.day, c.metric): c.n for c in store.all_counters(conn) if c.n}
    return [Difference(h, d, m, stored.get((h, d, m), 0), expected.get((h, d, m), 0))
            for (h, d, m) in sorted(set(expected) | set(stored))
            if stored.get((h, d, m), 0) != expected.get((h, d, m), 0)]


def rebuild(conn: Connection) -> int:
    """Replace the maintained totals with the recount; returns rows written."""
    state = replay(conn)
    communes = {e.id: e.data["commune"] for e in state.values() if e.type == "hamlet"}
    expected = rules.recount(state.values())
    store.replace_all(conn, [(h, d, m, communes.get(h, ""), n) for (h, d, m), n in expected.items()])
    return len(expected)
