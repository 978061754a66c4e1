"""Capture sessions: their list, a session's roster (screen and workbook) and the bookings
past capacity (GET /api/v1/conflicts' `overbooked`).

Sessions and bookings are written through the push like everything else (session.*,
booking.*: campaign.sessions); this module only reads. A roster names people, so every
view and download is audited before it leaves. Leaders see their hamlets' bookings;
positions and `overbooked` are counted over the whole session, as the officer sees them.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import IO

from sqlalchemy import Connection, Engine

from campaign import sessions as rules
from campaign.projection import Entity

from ..render import roster as render_roster
from ..render.rows import Roster, RosterRow, SessionSummary
from ..store import entities as store_entities
from ..store import sessions as store
from ..store.db import read_transaction
from ..store.devices import Scope
from .access import checked_commune, scope_hamlets
from .audit import log_read
from .enrolment import Caller
from .errors import NotFound


@dataclass(frozen=True)
class Overbooked:
    booking: str
    session: str
    place: str
    starts_at: str
    capacity: int
    position: int
    person: str
    label: str
    hamlet_id: str | None


def _summary(session: Entity, bookings: list[Entity]) -> SessionSummary:
    d = session.data
    holding = sum(1 for b in bookings if b.data.get("status") in rules.HOLDING)
    return SessionSummary(session.id, d["commune"], d["kind"], d["starts_at"], d["ends_at"], d["place"],
                          d["capacity"], bool(d.get("cancelled")), holding,
                          len(rules.overbooked(d["capacity"], bookings)))


def list_sessions(engine: Engine, who: Caller, commune: str) -> list[SessionSummary]:
    """The commune's sessions, soonest first, with how many are booked and overbooked."""
    with read_transaction(engine) as conn:
        checked_commune(who, commune, conn)
        by_session: dict[str, list[Entity]] = defaultdict(list)
        for booking in store.commune_bookings(conn, commune):
            by_session[booking.parent_id or ""].append(booking)
        found = [_summary(s, by_session.get(s.id, [])) for s in store.sessions(conn, commune)]
    return sorted(found, key=lambda s: (s.starts_at, s.place, s.id))


def _rows(conn: Connection, session: Entity, bookings: list[Entity], scope: Scope) -> list[RosterRow]:
    commune = session.data["commune"]
    late = rules.overbooked(session.data["capacity"], bookings)
    people = store_entities.load(conn, [b.data["person_id"] for b in bookings])
    loaded = dict(people)

    def lookup(entity_id: str) -> Entity | None:
        if entity_id not in loaded:
            loaded.update(store_entities.load(conn, [entity_id]))
        return loaded.get(entity_id)

    kept = {b.id: rules.person_of(b.data, lookup) for b in bookings}
    households = store_entities.load(conn, [p.parent_id for i in kept.values() if (p := lookup(i)) and p.parent_id])
    names = store_entities.hamlet_names(conn, commune)
    rows: list[RosterRow] = []
    position = 0
    for booking in rules.hold_order(bookings):
        holds = booking.data.get("status") in rules.HOLDING
        position += holds
        if not scope.allows(booking.hamlet_id, commune):
            continue
        person = lookup(kept[booking.id])
        household = households.get(person.parent_id or "") if person is not None else None
        rows.append(RosterRow(
            booking.id, position if holds else None, booking.data["status"], booking.id in late, kept[booking.id],
            str(person.data.get("label", "")) if person else "", person.data.get("birth_year") if person else None,
            str(household.data.get("address", "")) if household else "",
            booking.hamlet_id, names.get(booking.hamlet_id or "", "")))
    return rows


def _roster(conn: Connection, who: Caller | None, session_id: str) -> Roster:
    session = store.session(conn, session_id)
    if session is None:
        raise NotFound("not_found", f"no capture session {session_id}")
    if who is not None:
        checked_commune(who, session.data["commune"], conn)
    bookings = store.bookings(conn, session_id)
    scope = who.scope if who is not None else Scope(hamlets=None)
    return Roster(_summary(session, bookings), _rows(conn, session, bookings, scope))


def roster(engine: Engine, who: Caller, session_id: str) -> Roster:
    """A session's roster for the app's screen; audited (roster.view: how many rows)."""
    with read_transaction(engine) as conn:
        found = _roster(conn, who, session_id)
        hamlets = scope_hamlets(conn, who, found.session.commune)
    log_read(engine, who, "roster.view", found.session.commune,
             {"session": session_id, "rows": len(found.rows)}, hamlets)
    return found


def roster_workbook(engine: Engine, who: Caller | None, session_id: str, out: IO[bytes]) -> Roster:
    """A session's roster as a workbook (render/roster.py) into `out`; audited
    (export.roster.xlsx, with its rows and size in bytes)."""
    with read_transaction(engine) as conn:
        found = _roster(conn, who, session_id)
        hamlets = scope_hamlets(conn, who, found.session.commune)
    render_roster.workbook(out, found)
    log_read(engine, who, "export.roster.xlsx", found.session.commune,
             {"session": session_id, "rows": len(found.rows), "bytes": out.tell()}, hamlets)
    return found


def overbooked(conn: Connection, commune: str, scope: Scope) -> list[Overbooked]:
    """Bookings past their session's capacity, within the scope: for a leader or officer to move
    (GET /api/v1/conflicts). Cancelled sessions are left out: nobody goes."""
    by_session: dict[str, list[Entity]] = defaultdict(list)
    for booking in store.commune_bookings(conn, commune):
        by_session[booking.parent_id or ""].append(booking)
    out: list[Overbooked] = []
    late_people: list[tuple[Entity, Entity, int]] = []
    for session in store.sessions(conn, commune):
        d = session.data
        bookings = by_session.get(session.id, [])
        late = rules.overbooked(d["capacity"], bookings)
        if d.get("cancelled") or not late:
            continue
        holding = [b for b in rules.hold_order(bookings) if b.data.get("status") in rules.HOLDING]
        for position, booking in enumerate(holding, start=1):
            if booking.id in late and scope.allows(booking.hamlet_id, commune):
                late_people.append((session, booking, position))
    people = store_entities.load(conn, [b.data["person_id"] for _s, b, _p in late_people])
    for session, booking, position in late_people:
        person = people.get(booking.data["person_id"])
        out.append(Overbooked(booking.id, session.id, session.data["place"], session.data["starts_at"],
                              session.data["capacity"], position, booking.data["person_id"],
                              str(person.data.get("label", "")) if person else "", booking.hamlet_id))
    return sorted(out, key=lambda o: (o.starts_at, o.session, o.position))

