"""Ingest: a device's events, exactly once, in order (POST /sync/push; the import writes
through it too).

A push is one transaction under the write lock: the device's acknowledged seq,
the events, the projection, the conflicts and the totals move together or not
at all. The batch is applied in memory against the entities it touches, which
are read in two queries, then written back in bulk (store/events.py,
store/entities.py, store/totals.py): per-event queries would cap ingest far below
what the database can take.

The API's push is worked out before the write lock (`plan`, on a read
transaction: everything but the writes, at provisional cursors), and under the
lock only checked and written (`push` with the plan): if another push changed
anything the plan read in between, the batch is worked out again under the
lock (docs/sync.md, "The write lock"). Without a plan (the import, the relay)
the stateless work is still done before the first statement, where the lock
is taken (db.write_transaction).

Per event: validate (campaign.events), apply (campaign.projection), authorise
(services/ingest_rules.py: campaign.roles for the role's kinds, the scope's
hamlets; a visit.voided is authorised before it is applied), count
(campaign.totals). The touched entities are services/ingest_state.py's.
An event refused by any of them is quarantined with its reason; the batch goes on.
Of a quarantined event the server keeps its envelope, its reason's code and the
digest of its canonical form (campaign.events.quarantine_record), never its data.
"""
from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from campaign import events as ev
from campaign import projection
from campaign.projection import Entity
from campaign.roles import SESSION_KINDS

from .. import jsontext
from ..config import MAX_EVENTS
from ..store import devices as store_devices
from ..store import entities as store_entities
from ..store import events as store
from ..store import totals as store_totals
from ..store.devices import Device, Scope
from ..store.events import ConflictRow, EventRow, MoveRow
from . import clock
from .errors import Forbidden, Invalid, TooLarge
from .ingest_rules import authorise, authorise_scope, authorise_void
from .ingest_state import PROVISIONAL, BatchState


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
    already (api/sync.py checks the request's JSON text once), so no event is walked again, and
    its events are for `plan` only: their depth is checked there (`_prepare`), where a valid
    event is known to be shallow."""
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
    if nfc:
        return events
    return [_shallow(event) if _too_deep(event) else ev.normalize(event) for event in events]


MAX_DEPTH = 8  # an event's JSON nests 3 levels (event, data, a list of ids): 8 is plenty
TOO_DEEP = f"(nested deeper than {MAX_DEPTH} levels: not read)"


def _too_deep(event: dict[str, Any]) -> bool:
    """Whether the event nests deeper than MAX_DEPTH (issue #12, L3). An event nests 3 levels
    (the event, its data, a list or an object in it) and that is all looked at first, without
    building a list (issue #16: this ran for every event); anything deeper is walked in full."""
    for value in event.values():
        if isinstance(value, dict):
            for inner in value.values():
                if isinstance(inner, (dict, list)):
                    for leaf in inner.values() if isinstance(inner, dict) else inner:
                        if isinstance(leaf, (dict, list)):
                            return _walked_too_deep(event)
        elif isinstance(value, list):
            return _walked_too_deep(event)
    return False


def _walked_too_deep(event: dict[str, Any]) -> bool:
    """_too_deep walked level by level without recursion, stopping at the limit, so a 900-level
    event costs what an 8-level one does."""
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


def _checked_shallow(event: dict[str, Any]) -> ev.InvalidEvent | None:
    """Why a validate_body(nfc=True) event is invalid (ev.check_past_envelope), if it is, its
    depth checked as validate_body checks it otherwise: an event that passes, not a
    conflict.resolved, nests 3 levels at most (every field accepts texts, numbers, booleans,
    null, lists of texts, come_back's flat object), so only the others are looked at. A too deep
    one is made `_shallow` in place (the batch holds it: it is stored and answered as such) and
    checked again: the reason and digest it always had."""
    try:
        ev.check_past_envelope(event)
    except ev.InvalidEvent as bad:
        if not _too_deep(event):
            return bad
    except RecursionError:  # a refusal spelling (repr) a value nested about 1,000 levels deep
        if not _too_deep(event):
            raise
    else:
        if event["kind"] != "conflict.resolved" or not _too_deep(event):
            return None
    shallow = _shallow(event)
    event.clear()
    event.update(shallow)
    try:
        ev.check_past_envelope(event)
    except ev.InvalidEvent as bad:
        return bad
    return None  # not reached: a shallow event's data, or another field of it, is TOO_DEEP


def canonical(event: dict[str, Any]) -> str:
    """ev.canonical, byte for byte, without walking the event again when it is NFC already
    (validate_body normalised it): a string whose JSON text is NFC is NFC in every part."""
    body = json.dumps({key: event[key] for key in ev.ENVELOPE if key in event}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False)
    if body.isascii() or unicodedata.is_normalized("NFC", body):
        return body
    return ev.canonical(event)


def canonical_of_valid(event: dict[str, Any], nfc: bool = False) -> str:
    """canonical(event) of an event that passed ev.check_event, not a conflict.resolved: its
    values are texts, whole numbers, booleans, null and lists or objects of those, never a float,
    so orjson writes it byte for byte as `json` does (sync_server/jsontext.py). `nfc`: every
    text in the event is NFC (validate_body's), and so is their JSON text, which joins them with
    quotes and ASCII escapes only (no mark combines with those): not looked at again."""
    body = jsontext.compact_sorted(event)  # check_event: its keys are the envelope's, exactly
    if nfc or body.isascii() or unicodedata.is_normalized("NFC", body):
        return body
    return ev.canonical(event)


def _prepare(event: dict[str, Any], from_body: bool = False) -> tuple[str, ev.InvalidEvent | None]:
    """The event's canonical body, and why it is invalid (stateless checks), if it is.
    `from_body`: the event is validate_body's (a plan's batch): its envelope is checked and
    every text in it is NFC already."""
    if from_body:
        problem = _checked_shallow(event)
    else:
        try:
            ev.check_event(event)
            problem = None
        except ev.InvalidEvent as bad:
            problem = bad
    if problem is not None:
        return canonical(event), problem
    if event["kind"] == "conflict.resolved":  # its value may be anything, a float too: not for orjson
        return canonical(event), None
    return canonical_of_valid(event, nfc=from_body), None


# ---- the push -----------------------------------------------------------------------

MAX_REASON = 300  # characters of a refusal's sentence in the answer: a detail may quote what was sent

Fresh = tuple[dict[str, Any], str, ev.InvalidEvent | None]  # (event, canonical body, why it is invalid)


@dataclass
class _Applied:
    """A batch's new events applied in memory, ready to be written; its cursors follow the
    last one it was given (provisional ones for a plan: ingest_state.PROVISIONAL)."""
    state: BatchState
    rows: list[EventRow]
    moves: list[MoveRow]
    conflicts: list[tuple[projection.Conflict, str | None, str | None, int]]  # (…, hamlet, commune, cursor)
    resolved: list[tuple[str, str, int]]
    new_team_hamlets: list[str]
    entities: list[tuple[bool, Entity, str | None]] = field(default_factory=list)  # (new?, as it ends, commune)
    deltas: list[tuple[str, str, str, str, int]] = field(default_factory=list)


@dataclass
class Plan:
    """A push worked out before the write lock (`plan`): `push` writes it as it is when nothing
    it read has changed since, and works the batch out again under the lock otherwise."""
    acked: int
    prepared: list[tuple[str, ev.InvalidEvent | None]]
    result: PushResult
    fresh: list[Fresh]
    applied: _Applied | None
    written: bool = False  # set by `push` when it wrote the plan as it was (not worked out again)


def plan(conn: Connection, device: Device, scope: Scope, batch: list[dict[str, Any]],
         courtesy: Callable[[], None] = lambda: None) -> Plan:
    """The push of `batch` worked out on `conn`, a read transaction, without the write lock:
    validation, the projection, scope and role, the totals deltas, at provisional cursors.
    Another push may write meanwhile: `push(…, planned)` checks, under the lock, that every
    answer the database gave here is still its answer (docs/sync.md, "The write lock").
    `batch` is validate_body's: every event's envelope is checked already. `courtesy` is called
    before each event is worked out (store/db.py `make_way`: the process's writer goes first)."""
    prepared = []
    for event in batch:
        courtesy()
        prepared.append(_prepare(event, from_body=True))
    acked = store.acked_seq(conn, device.id)
    result, fresh = _order(conn, device, batch, prepared, acked)
    applied = (_apply(BatchState(conn), device, scope, fresh, PROVISIONAL, clock.now(), result, courtesy)
               if fresh else None)
    return Plan(acked, prepared, result, fresh, applied)


def push(conn: Connection, device: Device, scope: Scope, batch: list[dict[str, Any]],
         planned: Plan | None = None) -> PushResult:
    """Store a device's events in order. `batch` is NFC-normalised and every event's
    device_id is the device's (validate_body). Call inside a write transaction; `planned`,
    if given, is `plan(…)` of this very batch, device and scope, made before the transaction."""
    if planned is not None:
        done = _write_planned(conn, device, planned)
        if done is not None:
            planned.written = True
            return done
    # no database yet: outside the write lock
    prepared = planned.prepared if planned is not None else [_prepare(event) for event in batch]
    acked, last = store.lock_device(conn, device.id)
    result, fresh = _order(conn, device, batch, prepared, acked)
    if fresh:
        applied = _apply(BatchState(conn), device, scope, fresh, last, clock.now(), result)
        _write(conn, device, applied)
        result.acked_seq = fresh[-1][0]["seq"]
        store.acknowledge(conn, device.id, result.acked_seq, clock.now_iso())
    return result


def _write_planned(conn: Connection, device: Device, planned: Plan) -> PushResult | None:
    """Under the write lock: the plan written, its cursors made real, if the database still
    answers what the plan read; None if not (the caller works the batch out again)."""
    acked, last = store.lock_device(conn, device.id)
    if acked != planned.acked:
        return None  # another push of this device's came in between
    applied, result = planned.applied, planned.result
    if applied is None:
        return result  # nothing new: every event held already, or the batch refused whole
    if not applied.state.unchanged(conn):
        return None
    # A base above the last cursor (no device has seen such a version: a bad one) could
    # compare with the provisional versions otherwise than with the real ones.
    if any(type(base := event.get("base")) is int and base > last for event, _body, _problem in planned.fresh):
        return None
    _renumber(applied, result, last - PROVISIONAL)
    _write(conn, device, applied)
    result.acked_seq = planned.fresh[-1][0]["seq"]
    store.acknowledge(conn, device.id, result.acked_seq, clock.now_iso())
    return result


def _order(conn: Connection, device: Device, batch: list[dict[str, Any]],
           prepared: list[tuple[str, ev.InvalidEvent | None]], acked: int) -> tuple[PushResult, list[Fresh]]:
    """The batch against what the server holds of the device: events held already (answered
    again, or `seq_reused` if they differ), then the new ones in seq order (a `gap` stops)."""
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
    return result, fresh


def _apply(state: BatchState, device: Device, scope: Scope, fresh: list[Fresh], cursor: int,
           now_at: datetime, result: PushResult, courtesy: Callable[[], None] = lambda: None) -> _Applied:
    """The new events applied in memory after `cursor`; refusals and cursors into `result`.
    Reads through `state` only, so that a plan's reads are all known (BatchState.unchanged)."""
    needs = projection.needs
    state.load([i for event, _, problem in fresh if problem is None for i in needs(event)])
    now = clock.iso(now_at)
    out = _Applied(state, [], [], [], [], [])
    # Looked up once a batch, not once an event (issue #16): the loop runs for every event.
    get, children, bookings, commune_of = state.get, state.children, state.bookings, state.commune_of
    apply, check_time_window, record = projection.apply, ev.check_time_window, state.record
    rows, cursors = out.rows, result.cursors
    device_id = device.id
    make = tuple.__new__  # an EventRow without its Python-level __new__ (a row an event)
    for event, body, problem in fresh:
        courtesy()
        cursor += 1
        if problem is None:  # a valid event's kind is a known one and its entity an id: stored as they are
            kind, entity = event["kind"], event["entity"]
        else:
            kind, entity = ev.storable(str(event.get("kind"))[:40]), ev.storable(str(event.get("entity"))[:36])
        try:
            authorise_scope(scope, event, get, commune_of, checked=problem is None)
            if problem is not None:
                raise problem
            check_time_window(event["at"], now_at)
            if kind == "visit.voided":
                authorise_void(device, scope, get(entity), commune_of)
            outcome = apply(event, cursor, get, children, bookings)
            authorise(device, scope, event, outcome, commune_of)
        except ev.InvalidEvent as bad:
            # The sender hears why; the server keeps the envelope, the code and a digest (M2, M3).
            result.quarantined.append(Refusal(event["seq"], ev.storable(f"{bad.code}: {bad.detail}"[:MAX_REASON])))
            rows.append(EventRow(cursor, device_id, event["seq"], kind, entity, None, None, "quarantined",
                                 bad.code[:40], now, ev.quarantine_record(event, body)))
            continue
        hamlet_id = outcome.hamlet_id
        commune = commune_of(hamlet_id)
        if kind in SESSION_KINDS:  # a session is its commune's, filed under no hamlet
            commune = outcome.changed[entity].data["commune"]
        elif kind == "hamlet.created":
            # a hamlet is its own
            state.communes[entity] = commune = event["data"]["commune"]
            if device.role == "leader":
                out.new_team_hamlets.append(entity)
        seq = event["seq"]
        rows.append(make(EventRow, (cursor, device_id, seq, kind, entity, hamlet_id, commune, "applied", None,
                                    now, body)))
        cursors.append((seq, cursor))
        if outcome.moved:
            household_id, old_hamlet, _new = outcome.moved
            if old_hamlet is not None:
                # Filed under the new hamlet above; filed under the one it left here, so that
                # hamlet's devices pull the move too (docs/sync.md, "Households that move").
                out.moves.append(MoveRow(cursor, old_hamlet, commune_of(old_hamlet), household_id))
        record(outcome)
        if outcome.conflicts:  # most events have none: no list built for them
            out.conflicts += [(c, hamlet_id, commune, cursor) for c in outcome.conflicts]
        if outcome.resolved:
            out.resolved += [(entity_id, name, cursor) for entity_id, name in outcome.resolved]
    out.entities = [(original is None, now_entity,
                     now_entity.data["commune"] if now_entity.type == "session"
                     else state.commune_of(now_entity.hamlet_id))
                    for original, now_entity in state.changed()]
    out.deltas = [(h, d, m, state.commune_of(h) or "", n) for (h, d, m), n in state.deltas().items() if n]
    return out


def _renumber(applied: _Applied, result: PushResult, shift: int) -> None:
    """A plan's provisional cursors moved by `shift` to the real ones, everywhere they went."""
    def real(cursor: int) -> int:
        return cursor + shift if cursor >= PROVISIONAL else cursor

    # Every row of a plan is at a provisional cursor; made with tuple.__new__, not EventRow's
    # __new__ and real() (two Python calls a row: a row an event, issue #16).
    make = tuple.__new__
    applied.rows = [make(EventRow, (row[0] + shift, *row[1:])) for row in applied.rows]
    applied.moves = [MoveRow(real(row.cursor), *row[1:]) for row in applied.moves]
    applied.resolved = [(entity_id, name, real(cursor)) for entity_id, name, cursor in applied.resolved]
    for conflict, _hamlet, _commune, _cursor in applied.conflicts:
        for side in (conflict.earlier, conflict.later):
            if type(side.get("version")) is int:
                side["version"] = real(side["version"])
    applied.conflicts = [(c, hamlet, commune, real(cursor)) for c, hamlet, commune, cursor in applied.conflicts]
    result.cursors = [(seq, cursor + shift if cursor >= PROVISIONAL else cursor) for seq, cursor in result.cursors]
    applied.state.renumber(shift)


def _write(conn: Connection, device: Device, applied: _Applied) -> None:
    """The applied batch into the database: a few statements, each for many rows."""
    store.insert(conn, applied.rows)
    store.insert_moves(conn, applied.moves)
    inserts: list[store_entities.EntityRow] = []
    updates: list[store_entities.EntityRow] = []
    for new, entity, commune in applied.entities:
        (inserts if new else updates).append(store_entities.row_of(entity, commune))
    store_entities.insert(conn, inserts)
    store_entities.update(conn, updates)
    store_totals.add(conn, applied.deltas)
    store.insert_conflicts(conn, [
        ConflictRow(c.entity, c.field, hamlet, commune, json.dumps(c.earlier, ensure_ascii=False),
                    json.dumps(c.later, ensure_ascii=False), cursor)
        for c, hamlet, commune, cursor in applied.conflicts])
    store.resolve_conflicts(conn, applied.resolved)
    if applied.new_team_hamlets and device.team_id:
        store_devices.add_team_hamlets(conn, device.team_id, applied.new_team_hamlets)
