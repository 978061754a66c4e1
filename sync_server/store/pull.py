"""Pull: the applied events after a cursor, within a device's scope, page by page."""
from __future__ import annotations

import functools
import json
from typing import Any

from sqlalchemy import Connection, Select, TextClause, and_, select, text

from . import bulk
from . import schema as t
from .devices import Scope


def pull(conn: Connection, scope: Scope, after: int, limit: int,
         skip: tuple[str, int] | None = None) -> tuple[list[tuple[int, str]], bool]:
    """Applied events after a cursor, in cursor order, within the scope: (cursor, body).

    Each hamlet (or commune) of the scope walks its own (hamlet_id, cursor) index for
    at most limit + 1 cursors, and the page is the first limit + 1 of their union. One
    `hamlet_id IN (...)` would leave the planner two bad choices on a province: walk
    the whole log in cursor order and filter (PostgreSQL did, 0.85 s for a first page),
    or read and sort every remaining event of every hamlet, page after page.

    Moves between hamlets (docs/sync.md, "Households that move"): each scope key also
    walks event_moves' index the same way, so a move reaches the hamlet it left once,
    at its own cursor. A move into the scope from outside it comes with the household's
    history, the earlier events of it, its people, their capture bookings and its visits (lower cursors, sent
    just before the move, in cursor order): its unit is never split across pages, so a
    page may exceed `limit` when such a unit is its first. The last event of a page is
    always at `next`, the cursor the page reached.

    `skip` (device id, seq): that device's events up to that seq are left out (it holds
    them already: services/pull.py)."""
    if scope.hamlets is None and scope.communes is None:  # everything: one walk of the primary key
        applied: tuple[Any, ...] = (t.events.c.cursor > after, t.events.c.status == "applied")
        if skip is not None:
            applied += (~and_(t.events.c.device_id == skip[0], t.events.c.seq <= skip[1]),)
        return _page(conn, select(t.events.c.cursor, t.events.c.body).where(*applied), limit)
    hamlets = sorted(scope.hamlets or ())
    communes = sorted(scope.communes or ())
    # a hamlet-scoped device's commune sessions: the events filed under the commune and no hamlet
    sessions = sorted(scope.sessions - (scope.communes or frozenset()))
    if not hamlets and not communes and not sessions:
        return [], False
    values: dict[str, Any] = {"after": after, "walk": limit + 1}
    values |= {f"h{i}": h for i, h in enumerate(hamlets)} | {f"c{i}": c for i, c in enumerate(communes)}
    values |= {f"s{i}": c for i, c in enumerate(sessions)}
    if skip is not None:
        values |= {"skip_device": skip[0], "skip_seq": skip[1]}
    rows = conn.execute(_walks(len(hamlets), len(communes), len(sessions), skip is not None), values).all()
    if not rows:
        return [], False
    head = rows[:limit]
    # only these can move a household: most pages ask nothing more
    updates = [cursor for cursor, kind, _body in head if kind == "household.updated"]
    histories = _histories(conn, scope, updates) if updates else {}
    page: list[tuple[int, str]] = []
    sent: set[int] = set()
    used = 0
    for position, _kind, body in head:
        unit = [(c, b) for c, b in histories.get(position, ()) if c not in sent] + [(position, body)]
        if page and len(page) + len(unit) > limit:
            break
        page += unit
        sent.update(c for c, _ in unit)
        used += 1
    return page, used < len(rows)


@functools.lru_cache(maxsize=256)
def _walks(hamlets: int, communes: int, sessions: int, skip: bool) -> TextClause:
    """The page's first `walk` events (cursor, kind, body), for a scope of this shape: one
    statement, its text made once per shape, so a pull neither builds nor compiles a query
    (building the union as SQLAlchemy constructs cost about as much CPU as the rest of a pull).

    Each walk takes at most `walk` cursors from its own (key, cursor) index; `UNION`, not `UNION
    ALL`: a move matches its new hamlet's walk and its old hamlet's, an event its hamlet's and its
    commune's, and each is sent once. A move's row in event_moves has its event's cursor."""
    applied = "cursor > :after AND status = 'applied'"
    if skip:
        applied += " AND NOT (device_id = :skip_device AND seq <= :skip_seq)"
    walks = [f"SELECT cursor FROM events WHERE hamlet_id = :h{i} AND {applied}" for i in range(hamlets)]
    walks += [f"SELECT cursor FROM events WHERE commune = :c{i} AND {applied}" for i in range(communes)]
    walks += [f"SELECT cursor FROM events WHERE commune = :s{i} AND hamlet_id IS NULL AND {applied}"
              for i in range(sessions)]
    walks += [f"SELECT cursor FROM event_moves WHERE hamlet_id = :h{i} AND cursor > :after" for i in range(hamlets)]
    walks += [f"SELECT cursor FROM event_moves WHERE commune = :c{i} AND cursor > :after" for i in range(communes)]
    # each walk a subquery of its own: SQLite allows ORDER BY and LIMIT only there in a compound
    merged = " UNION ".join(f"SELECT cursor FROM ({w} ORDER BY cursor LIMIT :walk) AS w{i}"
                            for i, w in enumerate(walks))
    return text(f"SELECT e.cursor, e.kind, e.body FROM (SELECT cursor FROM ({merged}) AS merged "
                f"ORDER BY cursor LIMIT :walk) AS page JOIN events AS e ON e.cursor = page.cursor "
                f"ORDER BY e.cursor")


def _histories(conn: Connection, scope: Scope, cursors: list[int]) -> dict[int, list[tuple[int, str]]]:
    """{move cursor: the household's earlier events} for the moves among `cursors` that bring a
    household into the scope from a hamlet outside it.

    The devices there never pulled those events (they were filed under the hamlets the household
    was in), and the household's people and visits cannot be projected without them. They are
    found through the household's former hamlets (event_moves), each walked on its own
    (hamlet_id, cursor) index below the move and filtered to the household and its children: a
    cost of the former hamlets' events, paid only on the page that holds the move."""
    moves = [m for m in conn.execute(select(t.event_moves).where(t.event_moves.c.cursor.in_(cursors))).all()
             if not scope.allows(m.hamlet_id, m.commune)]
    if not moves:
        return {}
    households = sorted({m.household_id for m in moves})
    family: dict[str, str] = {h: h for h in households}  # entity -> its household
    former: dict[str, list[tuple[int, str]]] = {}  # household -> [(move cursor, hamlet it left)]
    for part in bulk.chunks(households):
        for row in conn.execute(select(t.entities.c.id, t.entities.c.parent_id)
                                .where(t.entities.c.parent_id.in_(part))):
            family[row.id] = row.parent_id
        for household_id, cursor, hamlet_id in conn.execute(
                select(t.event_moves.c.household_id, t.event_moves.c.cursor, t.event_moves.c.hamlet_id)
                .where(t.event_moves.c.household_id.in_(part))):
            former.setdefault(household_id, []).append((cursor, hamlet_id))
    _add_bookings(conn, households, family)
    upto = max(m.cursor for m in moves)
    wanted: dict[str, set[str]] = {}  # former hamlet -> the households whose events to find there
    for h in households:
        for at, hamlet_id in former.get(h, ()):
            if at <= upto:
                wanted.setdefault(hamlet_id, set()).add(h)
    found: dict[str, list[tuple[int, str]]] = {}  # household -> [(cursor, body)]
    for hamlet_id, owners in sorted(wanted.items()):
        ids = sorted(e for e, h in family.items() if h in owners)
        for part in bulk.chunks(ids):
            for cursor, entity, body in conn.execute(
                    select(t.events.c.cursor, t.events.c.entity, t.events.c.body).where(
                        t.events.c.hamlet_id == hamlet_id, t.events.c.cursor < upto,
                        t.events.c.status == "applied", t.events.c.entity.in_(part))):
                found.setdefault(family[entity], []).append((cursor, body))
    out: dict[int, list[tuple[int, str]]] = {}
    for m in moves:  # each event of the household is filed under one hamlet: no duplicates
        out[m.cursor] = sorted((c, b) for c, b in found.get(m.household_id, ()) if c < m.cursor)
    return out


def _add_bookings(conn: Connection, households: list[str], family: dict[str, str]) -> None:
    """Into `family`, the capture bookings of the households' people: a booking lives where its
    person lives and moves with the household (campaign.projection), so it comes with the history."""
    people = {e for e, h in family.items() if e != h}
    if not people:
        return
    communes = {c for part in bulk.chunks(households) for c in conn.execute(
        select(t.entities.c.commune).where(t.entities.c.id.in_(part))).scalars() if c}
    for commune in sorted(communes):
        for booking_id, body in conn.execute(select(t.entities.c.id, t.entities.c.body).where(
                t.entities.c.commune == commune, t.entities.c.type == "booking")):
            person = json.loads(body)["data"].get("person_id")
            if person in people:
                family[booking_id] = family[person]


def _page(conn: Connection, query: Select[Any], limit: int) -> tuple[list[tuple[int, str]], bool]:
    rows = conn.execute(query.order_by(t.events.c.cursor).limit(limit + 1)).all()
    return list(rows[:limit]), len(rows) > limit
