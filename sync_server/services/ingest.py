"""Ingest: a device's events, exactly once, in order (POST /sync/push; the import writes
through it too).

A push is one transaction under the write lock: the device's acknowledged seq,
the events, the projection, the conflicts and the totals move together or not
at all. The batch is applied in memory against the entities it touches, which
are read in two queries, then written back in bulk (store/events.py,
store/entities.py, store/totals.py): per-event queries would cap ingest far below
what the database can take.

What needs no database (the body's shape, the canonical form, stateless
validation) is done before the first statement, and the write lock is only taken
at that first statement (db.write_transaction): another process or thread
validates its batch while this one writes.

Per event: validate (campaign.events), apply (campaign.projection), authorise
(`authorise`: campaign.roles for the role's kinds, the scope's hamlets here; a
visit.voided is authorised before it is applied, `authorise_void`), count
(campaign.totals).
An event refused by any of them is quarantined with its reason; the batch goes on.
Of a quarantined event the server keeps its envelope, its reason's code and the
digest of its canonical form (campaign.events.quarantine_record), never its data.
"""
from __future__ import annotations

import json
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from campaign import events as ev
from campaign import projection, totals
from campaign.ids import is_uuid
from campaign.projection import Entity
from campaign.roles import SESSION_KINDS, Capability, can, may_set_booking, may_void, may_write

from .. import jsontext
from ..config import MAX_EVENTS
from ..store import devices as store_devices
from ..store import entities as store_entities
from ..store import events as store
from ..store import sessions as store_sessions
from ..store import totals as store_totals
from ..store.devices import Device, Scope
from ..store.events import ConflictRow, EventRow, MoveRow
from . import clock
from .errors import Forbidden, Invalid, TooLarge


@dataclass(frozen=True)
class Refusal:
    """An event quarantined: its seq and why."""
    seq: int
    reason: str


@dataclass
class PushResult:
    acked_seq: int
    quarantined: list[Refusal] = field(default_factory=list)
    error: str | None = None  # "gap" | "seq_reused"
    expected_seq: int | None = None
    detail: str = ""
    # (seq, cursor) of every event of the push the log holds as applied, new or held already:
    # the device files its own events at their cursors and need not pull them back (docs/sync.md)
    cursors: list[tuple[int, int]] = field(default_factory=list)


# ---- the body, before any database ------------------------------------------------

def validate_body(body: Any, device_id: str, *, nfc: bool = False) -> list[dict[str, Any]]:
    """The events of a push body ({"schema": 1, "events": [...]}), NFC-normalised, each an
    envelope of this device's. Refuses the whole body otherwise: Invalid (its shape, an
    unknown schema, an event without its envelope), TooLarge (too many events), Forbidden
    (an event of another device). `nfc`: the caller knows every text in the body is NFC
    already (api/sync.py checks the request's JSON text once), so no event is walked again."""
    if not isinstance(body, dict) or "events" not in body or "schema" not in body:
        raise Invalid("bad_request", 'the body must be {"schema": 1, "events": [...]}')
    if type(body["schema"]) is not int or body["schema"] != ev.PROTOCOL:  # not 1.0, not true
        raise Invalid("unknown_schema",
                      f"protocol schema {body['schema']!r} is not known: this server speaks {ev.PROTOCOL}")
    events = body["events"]
    if not isinstance(events, list):
        raise Invalid("bad_request", "events must be a list")
    if len(events) > MAX_EVENTS:
        raise TooLarge("too_many", f"at most {MAX_EVENTS} events a push; got {len(events)}")
    for i, event in enumerate(events):
        try:
            ev.check_envelope_keys(event)
        except ev.InvalidEvent as bad:
            raise Invalid(bad.code, f"event {i}: {bad.detail}") from None
        if event["device_id"] != device_id:
            raise Forbidden("wrong_device", f"event {i} belongs to device {event['device_id']!r}, not this one")
    return [_shallow(event) if _too_deep(event) else event if nfc else ev.normalize(event) for event in events]


MAX_DEPTH = 8  # an event's JSON nests 3 levels (event, data, a list of ids): 8 is plenty
TOO_DEEP = f"(nested deeper than {MAX_DEPTH} levels: not read)"


def _too_deep(event: dict[str, Any]) -> bool:
    """Whether the event nests deeper than MAX_DEPTH: walked without recursion, stopping at the
    limit, so a 900-level event costs what an 8-level one does (issue #12, L3)."""
    level: list[Any] = [event]
    for _ in range(MAX_DEPTH):
        level = [c for v in level for c in (v.values() if isinstance(v, dict) else v)
                 if isinstance(c, (dict, list))]
        if not level:
            return False
    return True


def _shallow(event: dict[str, Any]) -> dict[str, Any]:
    """A too deep event as it is kept and refused: its flat envelope values, TOO_DEEP in place of
    anything nested (so its data is not an object: quarantined `bad_type`)."""
    return ev.normalize({key: TOO_DEEP if isinstance(value, (dict, list)) else value
                         for key, value in event.items()})


def canonical(event: dict[str, Any]) -> str:
    """ev.canonical, byte for byte, without walking the event again when it is NFC already
    (validate_body normalised it): a string whose JSON text is NFC is NFC in every part."""
    body = json.dumps({key: event[key] for key in ev.ENVELOPE if key in event}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False)
    if body.isascii() or unicodedata.is_normalized("NFC", body):
        return body
    return ev.canonical(event)


def canonical_of_valid(event: dict[str, Any]) -> str:
    """canonical(event) of an event that passed ev.check_event, not a conflict.resolved: its
    values are texts, whole numbers, booleans, null and lists or objects of those, never a float,
    so orjson writes it byte for byte as `json` does (sync_server/jsontext.py)."""
    body = jsontext.compact_sorted(event)  # check_event: its keys are the envelope's, exactly
    if body.isascii() or unicodedata.is_normalized("NFC", body):
        return body
    return ev.canonical(event)


def _prepare(event: dict[str, Any]) -> tuple[str, ev.InvalidEvent | None]:
    """The event's canonical body, and why it is invalid (stateless checks), if it is."""
    try:
        ev.check_event(event)
    except ev.InvalidEvent as bad:
        return canonical(event), bad
    if event["kind"] == "conflict.resolved":  # its value may be anything, a float too: not for orjson
        return canonical(event), None
    return canonical_of_valid(event), None


# ---- the push -----------------------------------------------------------------------

MAX_REASON = 300  # characters of a refusal's sentence in the answer: a detail may quote what was sent

Fresh = tuple[dict[str, Any], str, ev.InvalidEvent | None]  # (event, canonical body, why it is invalid)


def push(conn: Connection, device: Device, scope: Scope, batch: list[dict[str, Any]]) -> PushResult:
    """Store a device's events in order. `batch` is NFC-normalised and every event's
    device_id is the device's (validate_body). Call inside a write transaction."""
    prepared = [_prepare(event) for event in batch]  # no database yet: outside the write lock
    acked = store.lock_device(conn, device.id)
    held = store.held(conn, device.id, [e["seq"] for e in batch if e["seq"] <= acked])
    fresh: list[Fresh] = []
    result = PushResult(acked_seq=acked)
    for event, (body, problem) in zip(batch, prepared, strict=True):
        seq = event["seq"]
        if seq <= acked:
            stored = held.get(seq)
            if stored is None or stored.body != (body if stored.status == "applied"
                                                 else ev.quarantine_record(event, body)):
                result.error, result.detail = "seq_reused", (
                    f"seq {seq} is already held with different content: this device reused a number")
                break
            if stored.status == "quarantined":  # the first answer may have been lost: say it again
                result.quarantined.append(Refusal(seq, stored.reason or ""))
            elif stored.status == "applied":
                result.cursors.append((seq, stored.cursor))
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
        store.acknowledge(conn, device.id, result.acked_seq, clock.now_iso())
    return result


class _Batch:
    """The entities a batch touches, as loaded and as changed."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.loaded: dict[str, Entity | None] = {}
        self.original: dict[str, Entity | None] = {}
        self.communes: dict[str, str | None] = {}  # hamlet id -> commune

    def load(self, ids: Iterable[str]) -> None:
        wanted = [i for i in set(ids) if i not in self.loaded]
        found = store_entities.load(self.conn, wanted)
        for i in wanted:
            self.loaded[i] = found.get(i)
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
        ids = store_entities.child_ids(self.conn, household_id)
        ids += [e.id for e in self.loaded.values() if e is not None and e.parent_id == household_id]
        self.load(ids)
        return [e for i in dict.fromkeys(ids) if (e := self.loaded[i]) is not None]

    def bookings(self, household_id: str) -> list[Entity]:
        """The capture bookings of a household's people (a move carries them: campaign.projection)."""
        people = {e.id for e in self.children(household_id) if e.type == "person"}
        household = self.get(household_id)
        commune = self.commune_of(household.hamlet_id) if household is not None else None
        if not people or commune is None:
            return []
        ids = store_sessions.booking_ids_of(self.conn, commune, people)
        ids += [e.id for e in self.loaded.values()
                if e is not None and e.type == "booking" and e.data.get("person_id") in people]
        self.load(ids)
        return [e for i in dict.fromkeys(ids) if (e := self.loaded[i]) is not None]

    def commune_of(self, hamlet_id: str | None) -> str | None:
        if hamlet_id is None:
            return None
        if hamlet_id not in self.communes:
            hamlet = self.get(hamlet_id)
            self.communes[hamlet_id] = hamlet.data["commune"] if hamlet and hamlet.type == "hamlet" else None
        return self.communes[hamlet_id]


def _apply_batch(conn: Connection, device: Device, scope: Scope, fresh: list[Fresh], result: PushResult) -> None:
    state = _Batch(conn)
    state.load(i for event, _, problem in fresh if problem is None for i in projection.needs(event))
    cursor = store.last_cursor(conn)
    now_at = clock.now()
    now = clock.iso(now_at)
    rows: list[EventRow] = []
    conflict_rows: list[ConflictRow] = []
    move_rows: list[MoveRow] = []
    resolved: list[tuple[str, str, int]] = []
    new_team_hamlets: list[str] = []
    for event, body, problem in fresh:
        cursor += 1
        kind, entity = ev.storable(str(event.get("kind"))[:40]), ev.storable(str(event.get("entity"))[:36])
        try:
            authorise_scope(scope, event, state.get, state.commune_of)
            if problem is not None:
                raise problem
            ev.check_time_window(event["at"], now_at)
            if event["kind"] == "visit.voided":
                authorise_void(device, scope, state.get(event["entity"]), state.commune_of)
            outcome = projection.apply(event, cursor, state.get, state.children, state.bookings)
            authorise(device, scope, event, outcome, state.commune_of)
        except ev.InvalidEvent as bad:
            # The sender hears why; the server keeps the envelope, the code and a digest (M2, M3).
            result.quarantined.append(Refusal(event["seq"], ev.storable(f"{bad.code}: {bad.detail}"[:MAX_REASON])))
            rows.append(EventRow(cursor, device.id, event["seq"], kind, entity, None, None, "quarantined",
                                 bad.code[:40], now, ev.quarantine_record(event, body)))
            continue
        commune = state.commune_of(outcome.hamlet_id)
        if event["kind"] in SESSION_KINDS:  # a session is its commune's, filed under no hamlet
            commune = outcome.changed[event["entity"]].data["commune"]
        if event["kind"] == "hamlet.created":
            hamlet_id = event["entity"]  # a hamlet is its own
            state.communes[hamlet_id] = commune = event["data"]["commune"]
            if device.role == "leader":
                new_team_hamlets.append(hamlet_id)
        rows.append(EventRow(cursor, device.id, event["seq"], kind, entity, outcome.hamlet_id, commune, "applied",
                             None, now, body))
        result.cursors.append((event["seq"], cursor))
        if outcome.moved:
            household_id, old_hamlet, _new = outcome.moved
            if old_hamlet is not None:
                # Filed under the new hamlet above; filed under the one it left here, so that
                # hamlet's devices pull the move too (docs/sync.md, "Households that move").
                move_rows.append(MoveRow(cursor, old_hamlet, state.commune_of(old_hamlet), household_id))
        _record_changes(state, outcome)
        conflict_rows += [ConflictRow(c.entity, c.field, outcome.hamlet_id, commune,
                                      json.dumps(c.earlier, ensure_ascii=False),
                                      json.dumps(c.later, ensure_ascii=False), cursor) for c in outcome.conflicts]
        resolved += [(entity_id, name, cursor) for entity_id, name in outcome.resolved]
    store.insert(conn, rows)
    store.insert_moves(conn, move_rows)
    _write_entities(conn, state)
    store_totals.add(conn, [(h, d, m, state.commune_of(h) or "", n) for (h, d, m), n in _deltas(state).items() if n])
    store.insert_conflicts(conn, conflict_rows)
    store.resolve_conflicts(conn, resolved)
    if new_team_hamlets and device.team_id:
        store_devices.add_team_hamlets(conn, device.team_id, new_team_hamlets)


OUT_OF_SCOPE = "outside the hamlets this device works in"  # the one sentence of every refusal by scope


def out_of_scope() -> ev.InvalidEvent:
    return ev.InvalidEvent("forbidden", OUT_OF_SCOPE)


def authorise_scope(scope: Scope, event: dict[str, Any], get: Callable[[str], Entity | None],
                    commune_of: Callable[[str | None], str | None]) -> None:
    """Scope first (issue #12, M1): an event about an entity outside the device's hamlets, or
    one that names no entity the device can see, is quarantined `forbidden` with one sentence,
    before its data, its time or any rule is looked at; so a refusal never tells whether the
    entity exists or what it holds. The entity's place is where it stands; a new entity's is
    the hamlet or household it is created under, and a household's move must land in scope
    too. An id that is not an id at all says nothing of anyone: the checks that follow name
    it. An admin's scope holds everything: the rules answer in full."""
    if scope.everything:
        return
    kind, data, entity_id = event.get("kind"), event.get("data"), event.get("entity")
    data = data if isinstance(data, dict) else {}
    allows = scope.allows
    # Each place is checked as it is found (the first outside the scope refuses): a push's
    # events are mostly new entities with one place each, so no list is built (issue #16).
    current = get(str(entity_id)) if is_uuid(entity_id) else None
    if current is not None:
        if not allows(*_place(current, commune_of)):
            raise out_of_scope()
    elif kind == "hamlet.created":
        pass  # a new hamlet: its commune is checked with the role (authorise)
    elif kind == "household.created":
        hamlet_id = data.get("hamlet_id")
        if is_uuid(hamlet_id) and not allows(hamlet_id, commune_of(hamlet_id)):
            raise out_of_scope()
    elif kind in CREATED_UNDER:
        under = data.get(CREATED_UNDER[kind])
        if is_uuid(under) and not allows(*_place(get(str(under)), commune_of)):
            raise out_of_scope()
    elif kind == "session.created":
        if isinstance(data.get("commune"), str) and not allows(None, data["commune"]):
            raise out_of_scope()
    elif kind in ev.KINDS and is_uuid(entity_id):
        raise out_of_scope()  # a change to nothing this device can see
    moved_to = data.get("hamlet_id") if kind == "household.updated" else None
    if is_uuid(moved_to) and not allows(moved_to, commune_of(moved_to)):
        raise out_of_scope()
    kept = data.get("into") if kind == "person.merged" else None  # the person kept must be within reach too
    if is_uuid(kept) and not allows(*_place(get(str(kept)), commune_of)):
        raise out_of_scope()


def _place(entity: Entity | None, commune_of: Callable[[str | None], str | None]) -> tuple[str | None, str | None]:
    """(hamlet, commune) where an entity stands; a session's is its commune alone
    (campaign/sessions.py); nothing's is (None, None), which no hamlet scope allows."""
    if entity is None:
        return None, None
    if entity.hamlet_id is None:
        commune = entity.data.get("commune")
        return None, commune if isinstance(commune, str) else None
    return entity.hamlet_id, commune_of(entity.hamlet_id)


# A new entity is placed where the entity it is created under stands.
CREATED_UNDER = {"person.added": "household_id", "visit.recorded": "household_id", "booking.made": "person_id"}


def authorise(device: Device, scope: Scope, event: dict[str, Any], outcome: projection.Outcome,
              commune_of: Callable[[str | None], str | None]) -> None:
    """May this device send this event? Quarantined (InvalidEvent "forbidden") if not. The
    role part is campaign.roles.may_write's (hamlets are created by admins and leaders, the
    leaders' kinds sent by leaders and admins); the scope part is here: a leader creates
    hamlets in their own commune only, and anything else stays within the device's hamlets,
    both where a household was and where it moves to."""
    kind = event["kind"]
    role = device.role
    if kind == "hamlet.created":
        if may_write(role, kind) and (can(role, Capability.ANY_COMMUNE)
                                      or event["data"]["commune"] == device.commune):
            return
        raise ev.InvalidEvent("forbidden", "only an admin, or a leader in their own commune, creates hamlets")
    if kind in SESSION_KINDS:
        commune = outcome.changed[event["entity"]].data["commune"]
        if may_write(role, kind) and (can(role, Capability.ANY_COMMUNE) or commune == device.commune):
            return
        raise ev.InvalidEvent("forbidden", "capture sessions are made by the commune's police")
    if not may_write(role, kind):
        raise ev.InvalidEvent("forbidden", f"{kind} is for team leaders")
    if kind == "booking.updated" and not may_set_booking(role, event["data"]["status"]):
        raise ev.InvalidEvent("forbidden", "attendance is recorded by officers and team leaders")
    places = [outcome.hamlet_id]
    if outcome.moved:
        places.append(outcome.moved[1])
    for hamlet_id in places:
        if not scope.allows(hamlet_id, commune_of(hamlet_id)):
            raise out_of_scope()


def authorise_void(device: Device, scope: Scope, visit: Entity | None,
                   commune_of: Callable[[str | None], str | None]) -> None:
    """May this device take this visit back (visit.voided)? Asked before the projection reads
    the visit, scope first: a visit outside the device's hamlets is refused `forbidden` alike
    whether it exists, was voided already or not (the projection would say which). Then whose
    it is: the device that recorded it, or a leader or admin (campaign.roles.may_void)."""
    if visit is None or visit.type != "visit":
        if scope.everything:
            return  # nothing to hide from an admin: the projection names the problem
        raise out_of_scope()
    if not scope.allows(visit.hamlet_id, commune_of(visit.hamlet_id)):
        raise out_of_scope()
    if not may_void(device.role, own=visit.data.get("device_id") == device.id):
        raise ev.InvalidEvent("forbidden", "a visit is taken back by the device that recorded it or a team leader")


def _record_changes(state: _Batch, outcome: projection.Outcome) -> None:
    """The outcome's changes (a moved household's people and visits among them: the projection
    carries them) into the batch's state."""
    for entity_id, after in outcome.changed.items():
        state.original.setdefault(entity_id, state.loaded.get(entity_id))
        state.loaded[entity_id] = after


def _deltas(state: _Batch) -> Counter[tuple[str, str, str]]:
    """The batch's totals deltas, summed once per entity it changed: contribution(as it ends)
    - contribution(as it was loaded), the sum of each event's after - before."""
    deltas: Counter[tuple[str, str, str]] = Counter()
    for entity_id, original in state.original.items():
        now = state.loaded[entity_id]
        if now is not original:
            _add_delta(deltas, original, -1)
            _add_delta(deltas, now, +1)
    return deltas


def _add_delta(deltas: Counter[tuple[str, str, str]], entity: Entity | None, sign: int) -> None:
    if entity is None:
        return
    for (day, metric), n in totals.contribution(entity).items():
        deltas[(entity.hamlet_id or "", day, metric)] += sign * n


def _write_entities(conn: Connection, state: _Batch) -> None:
    inserts: list[store_entities.EntityRow] = []
    updates: list[store_entities.EntityRow] = []
    for entity_id, original in state.original.items():
        now = state.loaded[entity_id]
        if now is None or now is original:
            continue
        commune = now.data["commune"] if now.type == "session" else state.commune_of(now.hamlet_id)
        row = store_entities.row_of(now, commune)
        (updates if original is not None else inserts).append(row)
    store_entities.insert(conn, inserts)
    store_entities.update(conn, updates)
