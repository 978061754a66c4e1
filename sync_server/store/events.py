"""The event log: push (exactly once, in order), pull (scoped, paged) and receipts.

A push is one transaction under the write lock: the device's acknowledged seq,
the events, the projection, the conflicts and the totals move together or not
at all. The batch is applied in memory against the entities it touches, which
are read in two queries, then written back with executemany (COPY on
PostgreSQL for the new rows): per-event queries would cap ingest far below
what the database can take.

What needs no database (the canonical form, stateless validation) is done
before the first statement, and the write lock is only taken at that first
statement (db.write_transaction): another process or thread validates its batch
while this one writes.
"""
from __future__ import annotations

import json
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Iterable

from sqlalchemy import Connection, func, select, union, update

from campaign import events as ev
from campaign import projection, totals
from campaign.projection import Entity

from .. import clock
from . import schema as t
from .devices import Device, Scope

CHUNK = 500  # ids per IN (...): well under SQLite's variable limit

# Kinds only a team leader (or an admin) may send.
LEADER_KINDS = frozenset({"review.decided", "assignment.set", "conflict.resolved", "hamlet.updated"})


@dataclass
class PushResult:
    acked_seq: int
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None  # "gap" | "seq_reused"
    expected_seq: int | None = None
    detail: str = ""


# ---- push -----------------------------------------------------------------------

def push(conn: Connection, device: Device, scope: Scope, batch: list[dict[str, Any]]) -> PushResult:
    """Store a device's events in order. `batch` is NFC-normalised and every event's
    device_id is the device's (the API checked both). Call inside a write transaction."""
    prepared = [_prepare(event) for event in batch]  # no database yet: outside the write lock
    acked = _lock_device(conn, device.id)
    held = _held_bodies(conn, device.id, [e["seq"] for e in batch if e["seq"] <= acked])
    fresh: list[tuple[dict[str, Any], str, ev.InvalidEvent | None]] = []
    result = PushResult(acked_seq=acked)
    for event, (body, problem) in zip(batch, prepared):
        seq = event["seq"]
        if seq <= acked:
            stored = held.get(seq)
            if stored is None or stored[0] != body:
                result.error, result.detail = "seq_reused", (
                    f"seq {seq} is already held with different content: this device reused a number")
                break
            if stored[1] == "quarantined":  # the first answer may have been lost: say it again
                result.quarantined.append({"seq": seq, "reason": stored[2]})
            continue
        expected = acked + 1 + len(fresh)
        if seq != expected:
            result.error, result.expected_seq = "gap", expected
            result.detail = f"got seq {seq} but the server expects {expected}"
            break
        fresh.append((event, body, problem))
    if fresh:
        _apply_batch(conn, device, scope, fresh, result)
        result.acked_seq = fresh[-1][0]["seq"]
        conn.execute(update(t.devices).where(t.devices.c.id == device.id).values(
            acked_seq=result.acked_seq, last_push_at=clock.now_iso()))
    return result


def _prepare(event: dict[str, Any]) -> tuple[str, ev.InvalidEvent | None]:
    """The event's canonical body, and why it is invalid (stateless checks), if it is."""
    try:
        ev.check_event(event)
        problem = None
    except ev.InvalidEvent as bad:
        problem = bad
    return canonical(event), problem


def canonical(event: dict[str, Any]) -> str:
    """ev.canonical, byte for byte, without walking the event again when it is NFC already
    (the API normalised it): a string whose JSON text is NFC is NFC in every part."""
    body = json.dumps({key: event[key] for key in ev.ENVELOPE if key in event}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False)
    if body.isascii() or unicodedata.is_normalized("NFC", body):
        return body
    return ev.canonical(event)


def _lock_device(conn: Connection, device_id: str) -> int:
    query = select(t.devices.c.acked_seq).where(t.devices.c.id == device_id)
    if conn.dialect.name != "sqlite":
        query = query.with_for_update()
    return conn.execute(query).scalar_one()


def _held_bodies(conn: Connection, device_id: str, seqs: list[int]) -> dict[int, tuple[str, str, str | None]]:
    """{seq: (body, status, reason)} of the events already held."""
    held: dict[int, tuple[str, str, str | None]] = {}
    for part in _chunks(seqs):
        for seq, body, status, reason in conn.execute(
                select(t.events.c.seq, t.events.c.body, t.events.c.status, t.events.c.reason).where(
                t.events.c.device_id == device_id, t.events.c.seq.in_(part))):
            held[seq] = (body, status, reason)
    return held


class _Batch:
    """The entities a batch touches, as loaded and as changed."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.loaded: dict[str, Entity | None] = {}
        self.original: dict[str, Entity | None] = {}
        self.communes: dict[str, str | None] = {}  # hamlet id -> commune

    def load(self, ids: Iterable[str]) -> None:
        wanted = [i for i in set(ids) if i not in self.loaded]
        for part in _chunks(wanted):
            for row in self.conn.execute(select(t.entities).where(t.entities.c.id.in_(part))):
                self.loaded[row.id] = _entity(row)
        for i in wanted:
            self.loaded.setdefault(i, None)
            self.original.setdefault(i, self.loaded[i])
        hamlets = {e.hamlet_id for e in self.loaded.values() if e is not None and e.hamlet_id}
        for hamlet_id in hamlets - set(self.communes):
            hamlet = self.loaded.get(hamlet_id) or self.get(hamlet_id)
            self.communes[hamlet_id] = hamlet.data["commune"] if hamlet else None

    def get(self, entity_id: str) -> Entity | None:
        if entity_id not in self.loaded:
            self.load([entity_id])
        return self.loaded[entity_id]

    def children(self, household_id: str) -> list[Entity]:
        rows = self.conn.execute(select(t.entities.c.id).where(t.entities.c.parent_id == household_id))
        ids = [r.id for r in rows]
        ids += [e.id for e in self.loaded.values() if e is not None and e.parent_id == household_id]
        self.load(ids)
        return [e for i in dict.fromkeys(ids) if (e := self.loaded[i]) is not None]

    def commune_of(self, hamlet_id: str | None) -> str | None:
        if hamlet_id is None:
            return None
        if hamlet_id not in self.communes:
            hamlet = self.get(hamlet_id)
            self.communes[hamlet_id] = hamlet.data["commune"] if hamlet and hamlet.type == "hamlet" else None
        return self.communes[hamlet_id]


def _apply_batch(conn: Connection, device: Device, scope: Scope,
                 fresh: list[tuple[dict[str, Any], str, ev.InvalidEvent | None]], result: PushResult) -> None:
    state = _Batch(conn)
    state.load(i for event, _, problem in fresh if problem is None for i in projection.needs(event))
    cursor = conn.execute(select(func.coalesce(func.max(t.events.c.cursor), 0))).scalar_one()
    now = clock.now_iso()
    rows, conflict_rows, resolved, move_rows = [], [], [], []
    deltas: Counter[tuple[str, str, str]] = Counter()
    new_team_hamlets: list[str] = []
    for event, body, problem in fresh:
        cursor += 1
        row = {"cursor": cursor, "device_id": device.id, "seq": event["seq"],
               "kind": str(event.get("kind"))[:40], "entity": str(event.get("entity"))[:36],
               "received_at": now, "body": body, "hamlet_id": None, "commune": None,
               "status": "applied", "reason": None}
        try:
            if problem is not None:
                raise problem
            outcome = projection.apply(event, cursor, state.get, state.children)
            _authorise(device, scope, event, outcome, state)
        except ev.InvalidEvent as bad:
            row.update(status="quarantined", reason=f"{bad.code}: {bad.detail}")
            result.quarantined.append({"seq": event["seq"], "reason": row["reason"]})
            rows.append(row)
            continue
        row["hamlet_id"], row["commune"] = outcome.hamlet_id, state.commune_of(outcome.hamlet_id)
        if event["kind"] == "hamlet.created":
            state.communes[outcome.hamlet_id] = event["data"]["commune"]
            row["commune"] = event["data"]["commune"]
            if device.role == "leader":
                new_team_hamlets.append(outcome.hamlet_id)
        rows.append(row)
        if outcome.moved and outcome.moved[1] is not None:
            # Filed under the new hamlet above; filed under the one it left here, so that
            # hamlet's devices pull the move too (docs/sync.md, "Households that move").
            household_id, old_hamlet, _new = outcome.moved
            move_rows.append({"cursor": cursor, "hamlet_id": old_hamlet, "commune": state.commune_of(old_hamlet),
                              "household_id": household_id})
        _record_changes(state, outcome, deltas)
        for c in outcome.conflicts:
            conflict_rows.append({"entity": c.entity, "field": c.field, "hamlet_id": outcome.hamlet_id,
                                  "commune": row["commune"], "earlier": json.dumps(c.earlier, ensure_ascii=False),
                                  "later": json.dumps(c.later, ensure_ascii=False), "opened_cursor": cursor})
        resolved += [(entity, name, cursor) for entity, name in outcome.resolved]
    _insert(conn, t.events, rows)
    if move_rows:
        conn.execute(t.event_moves.insert(), move_rows)
    _write_entities(conn, state)
    _write_totals(conn, state, deltas)
    if conflict_rows:
        conn.execute(t.conflicts.insert(), conflict_rows)
    for entity, name, at_cursor in resolved:
        conn.execute(update(t.conflicts).where(
            t.conflicts.c.entity == entity, t.conflicts.c.field == name,
            t.conflicts.c.resolved_cursor.is_(None)).values(resolved_cursor=at_cursor))
    if new_team_hamlets and device.team_id:
        conn.execute(t.team_hamlets.insert(), [{"team_id": device.team_id, "hamlet_id": h}
                                               for h in new_team_hamlets])


def _authorise(device: Device, scope: Scope, event: dict[str, Any],
               outcome: projection.Outcome, state: _Batch) -> None:
    kind = event["kind"]
    role = device.role
    if kind == "hamlet.created":
        commune = event["data"]["commune"]
        if role == "admin" or (role == "leader" and commune == device.commune):
            return
        raise ev.InvalidEvent("forbidden", "only an admin, or a leader in their own commune, creates hamlets")
    if kind in LEADER_KINDS and role not in ("leader", "admin"):
        raise ev.InvalidEvent("forbidden", f"{kind} is for team leaders")
    places = [outcome.hamlet_id]
    if outcome.moved:
        places.append(outcome.moved[1])
    for hamlet_id in places:
        if not scope.allows(hamlet_id, state.commune_of(hamlet_id)):
            raise ev.InvalidEvent("forbidden", "this household is outside the hamlets this device works in")


def _record_changes(state: _Batch, outcome: projection.Outcome,
                    deltas: Counter[tuple[str, str, str]]) -> None:
    changed = dict(outcome.changed)
    if outcome.moved:
        household_id, _old, new_hamlet = outcome.moved
        for child in state.children(household_id):
            moved = changed.get(child.id, child).copy()
            moved.hamlet_id = new_hamlet
            changed[child.id] = moved
    for entity_id, after in changed.items():
        before = state.loaded.get(entity_id)
        _add_delta(deltas, before, -1)
        _add_delta(deltas, after, +1)
        state.loaded[entity_id] = after
        state.original.setdefault(entity_id, before)


def _add_delta(deltas: Counter[tuple[str, str, str]], entity: Entity | None, sign: int) -> None:
    if entity is None:
        return
    for (day, metric), n in totals.contribution(entity).items():
        deltas[(entity.hamlet_id or "", day, metric)] += sign * n


def _write_entities(conn: Connection, state: _Batch) -> None:
    inserts, updates = [], []
    for entity_id, original in state.original.items():
        now = state.loaded[entity_id]
        if now is None or now is original:
            continue
        row = {"id": now.id, "type": now.type, "hamlet_id": now.hamlet_id, "parent_id": now.parent_id,
               "commune": state.commune_of(now.hamlet_id), "version": now.version,
               "body": json.dumps(now.to_json(), ensure_ascii=False, separators=(",", ":"))}
        (updates if original is not None else inserts).append(row)
    if inserts:
        _insert(conn, t.entities, inserts)
    if updates:
        _many(conn, "UPDATE entities SET type = ?, hamlet_id = ?, parent_id = ?, commune = ?, version = ?, "
                    "body = ? WHERE id = ?",
              list(map(itemgetter("type", "hamlet_id", "parent_id", "commune", "version", "body", "id"), updates)))


def _write_totals(conn: Connection, state: _Batch, deltas: Counter[tuple[str, str, str]]) -> None:
    rows = [(h, d, m, state.commune_of(h) or "", n) for (h, d, m), n in deltas.items() if n]
    if rows:
        _many(conn, "INSERT INTO totals (hamlet_id, day, metric, commune, n) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (hamlet_id, day, metric) DO UPDATE SET n = totals.n + excluded.n", rows)


def _many(conn: Connection, sql: str, values: list[tuple[Any, ...]]) -> None:
    """executemany at the driver, past SQLAlchemy's per-row parameter handling. `sql` is
    written with ? for SQLite; PostgreSQL's drivers take %s."""
    if conn.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    conn.exec_driver_sql(sql, values)


def _insert(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    """Many new rows at once: COPY on PostgreSQL (psycopg), the driver's executemany on SQLite."""
    if not rows:
        return
    names = [c.name for c in table.c]
    values = list(map(itemgetter(*names), rows))
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        quoted = ", ".join(f'"{n}"' for n in names)
        with conn.connection.dbapi_connection.cursor() as cur:  # type: ignore[union-attr]
            with cur.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
                for value in values:
                    copy.write_row(value)
    elif conn.dialect.name == "sqlite":
        quoted = ", ".join(f'"{n}"' for n in names)
        conn.exec_driver_sql(f'INSERT INTO "{table.name}" ({quoted}) VALUES ({", ".join("?" * len(names))})', values)
    else:
        conn.execute(table.insert(), rows)


def _entity(row: Any) -> Entity:
    return Entity.from_json(row.id, row.type, row.hamlet_id, row.parent_id, json.loads(row.body))


def _chunks(items: list[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


# ---- pull -----------------------------------------------------------------------

def pull(conn: Connection, scope: Scope, after: int, limit: int) -> tuple[list[tuple[int, str]], bool]:
    """Applied events after a cursor, in cursor order, within the scope: (cursor, body).

    Each hamlet (or commune) of the scope walks its own (hamlet_id, cursor) index for
    at most limit + 1 cursors, and the page is the first limit + 1 of their union. One
    `hamlet_id IN (...)` would leave the planner two bad choices on a province: walk
    the whole log in cursor order and filter (PostgreSQL did, 0.85 s for a first page),
    or read and sort every remaining event of every hamlet, page after page.

    Moves between hamlets (docs/sync.md, "Households that move"): each scope key also
    walks event_moves' index the same way, so a move reaches the hamlet it left once,
    at its own cursor. A move into the scope from outside it comes with the household's
    history, the earlier events of it and its people and visits (lower cursors, sent
    just before the move, in cursor order): its unit is never split across pages, so a
    page may exceed `limit` when such a unit is its first. The last event of a page is
    always at `next`, the cursor the page reached."""
    applied = (t.events.c.cursor > after, t.events.c.status == "applied")
    if scope.hamlets is None and scope.communes is None:  # everything: one walk of the primary key
        return _page(conn, select(t.events.c.cursor, t.events.c.body).where(*applied), limit)
    keys = [(t.events.c.hamlet_id, t.event_moves.c.hamlet_id, h) for h in sorted(scope.hamlets or ())]
    keys += [(t.events.c.commune, t.event_moves.c.commune, c) for c in sorted(scope.communes or ())]
    if not keys:
        return [], False
    walks = [select(t.events.c.cursor).where(column == value, *applied).order_by(t.events.c.cursor)
             .limit(limit + 1).subquery() for column, _, value in keys]
    walks += [select(t.event_moves.c.cursor).where(column == value, t.event_moves.c.cursor > after)
              .order_by(t.event_moves.c.cursor).limit(limit + 1).subquery() for _, column, value in keys]
    # union, not union all: a move matches its new hamlet's walk and its old hamlet's, an
    # event its hamlet's and its commune's: each is sent once.
    merged = union(*[select(w.c.cursor) for w in walks]).subquery()
    cursors = conn.execute(select(merged.c.cursor).order_by(merged.c.cursor).limit(limit + 1)).scalars().all()
    if not cursors:
        return [], False
    head = list(cursors[:limit])
    bodies: dict[int, str] = {}
    updates: list[int] = []
    for cursor, kind, body in conn.execute(select(t.events.c.cursor, t.events.c.kind, t.events.c.body)
                                           .where(t.events.c.cursor.in_(head))):
        bodies[cursor] = body
        if kind == "household.updated":  # only these can move a household: most pages ask nothing more
            updates.append(cursor)
    histories = _histories(conn, scope, updates) if updates else {}
    page: list[tuple[int, str]] = []
    sent: set[int] = set()
    used = 0
    for position in head:
        unit = [(c, body) for c, body in histories.get(position, ()) if c not in sent] + [(position, bodies[position])]
        if page and len(page) + len(unit) > limit:
            break
        page += unit
        sent.update(c for c, _ in unit)
        used += 1
    return page, used < len(cursors)


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
    for part in _chunks(households):
        for row in conn.execute(select(t.entities.c.id, t.entities.c.parent_id)
                                .where(t.entities.c.parent_id.in_(part))):
            family[row.id] = row.parent_id
        for row in conn.execute(select(t.event_moves.c.household_id, t.event_moves.c.cursor,
                                       t.event_moves.c.hamlet_id).where(t.event_moves.c.household_id.in_(part))):
            former.setdefault(row.household_id, []).append((row.cursor, row.hamlet_id))
    upto = max(m.cursor for m in moves)
    wanted: dict[str, set[str]] = {}  # former hamlet -> the households whose events to find there
    for h in households:
        for at, hamlet_id in former.get(h, ()):
            if at <= upto:
                wanted.setdefault(hamlet_id, set()).add(h)
    found: dict[str, list[tuple[int, str]]] = {}  # household -> [(cursor, body)]
    for hamlet_id, owners in sorted(wanted.items()):
        ids = sorted(e for e, h in family.items() if h in owners)
        for part in _chunks(ids):
            for cursor, entity, body in conn.execute(
                    select(t.events.c.cursor, t.events.c.entity, t.events.c.body).where(
                        t.events.c.hamlet_id == hamlet_id, t.events.c.cursor < upto,
                        t.events.c.status == "applied", t.events.c.entity.in_(part))):
                found.setdefault(family[entity], []).append((cursor, body))
    out: dict[int, list[tuple[int, str]]] = {}
    for m in moves:  # each event of the household is filed under one hamlet: no duplicates
        out[m.cursor] = sorted((c, b) for c, b in found.get(m.household_id, ()) if c < m.cursor)
    return out


def _page(conn: Connection, query: Any, limit: int) -> tuple[list[tuple[int, str]], bool]:
    rows = conn.execute(query.order_by(t.events.c.cursor).limit(limit + 1)).all()
    return list(rows[:limit]), len(rows) > limit


# ---- receipt --------------------------------------------------------------------

def receipt(conn: Connection, device: Device) -> dict[str, Any]:
    acked = conn.execute(select(t.devices.c.acked_seq).where(t.devices.c.id == device.id)).scalar_one()
    counts = dict(conn.execute(select(t.events.c.kind, func.count()).where(
        t.events.c.device_id == device.id, t.events.c.seq <= acked).group_by(t.events.c.kind)).all())
    bodies = conn.execute(select(t.events.c.body).where(
        t.events.c.device_id == device.id, t.events.c.seq <= acked).order_by(t.events.c.seq)).scalars()
    return {"acked_seq": acked, "counts": counts, "digest": ev.digest(bodies)}
