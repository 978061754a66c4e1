"""A pulled page applied on top of the stored state, where that is what the full replay would give.

The state of a household unit is the projection of its inbox events in cursor order, then this
device's pending own events on top (replay.py). When the unit has no pending own events, the
page's events for it all come after every stored one (cursor order), none is a duplicate or
this device's own, and every kind in the page is one whose outcome reads only the unit itself,
then replaying the unit from nothing would apply exactly the stored prefix again (giving the
stored entities) and then the page's events: so those are applied on the stored entities, and
only what they change is written. Anything else is left to the full replay. See docs/device.md
("State: server order, own pending events on top", "A page in order").
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, NamedTuple

from campaign.events import SCHEMA
from campaign.projection import Entity

from .entities import Entities
from .replay import Replay, attempt
from .sealed import SealedDatabase

# Kinds whose projection reads only the event's own household, its people and visits (visit.recorded's
# people_helped of another household is caught by the lookup below). A page holding any other kind
# (hamlets, moves, merges, voids, reviews, sessions and bookings, conflicts…) is replayed in full:
# their outcomes read across units, and the full replay is the one that orders those reads.
IN_ORDER_KINDS = frozenset({"household.created", "household.updated", "person.added", "person.updated",
                            "visit.recorded"})


class Pulled(NamedTuple):
    """One event of a pulled page as apply_pulled stored it."""
    cursor: int
    event: dict[str, Any]
    unit: str  # the household (or other entity) it is filed under: `related`, else its entity
    new: bool  # inserted now (False: the inbox held that cursor or id already)


class _NotInOrder(Exception):
    """The unit needs what only the full replay handles: it is replayed instead."""


def page_in_order(events: list[Pulled]) -> bool:
    """Whether the page holds only kinds the in-order apply handles (no move among them)."""
    for p in events:
        kind, data = p.event.get("kind"), p.event.get("data")
        if kind not in IN_ORDER_KINDS or p.event.get("schema") != SCHEMA or not isinstance(data, dict):
            return False
        if kind == "household.updated" and "hamlet_id" in data:
            return False
    return True


def apply_in_order(sealed: SealedDatabase, entities: Entities, replay: Replay, events: list[Pulled],
                   me: str | None) -> set[str]:
    """Apply the page's events unit by unit on the stored state where that equals the full replay;
    return the units left for `Replay.recompute`. Callers hold the lock and a transaction."""
    if not page_in_order(events):
        return {p.unit for p in events}
    by_unit: dict[str, list[Pulled]] = defaultdict(list)
    for p in events:
        by_unit[p.unit].append(p)
    rest: set[str] = set()
    for unit, mine in sorted(by_unit.items()):
        if not _applies_in_order(sealed, entities, replay, unit, sorted(mine, key=lambda p: p.cursor), me):
            rest.add(unit)
    return rest


def _applies_in_order(sealed: SealedDatabase, entities: Entities, replay: Replay, unit: str,
                      mine: list[Pulled], me: str | None) -> bool:
    db = sealed.db
    if any(not p.new or p.event.get("device_id") == me for p in mine):
        return False  # a duplicate, or this device's own event coming back: it stood on top of the state
    household = entities.load(unit)
    if household is None or household.type != "household":
        return False
    if db.execute("SELECT 1 FROM outbox WHERE (entity = ? OR related = ?) AND pulled = 0 "
                  "AND status != 'quarantined' LIMIT 1", [unit, unit]).fetchone() is not None:
        return False  # own pending events: they were on top of the stored state, the page goes under them
    cursors = {p.cursor for p in mine}
    later = {r[0] for r in db.execute("SELECT cursor FROM inbox WHERE (entity = ? OR related = ?) AND cursor > ?",
                                      [unit, unit, min(cursors)])}
    if not later <= cursors:
        return False  # an event of the page goes before one already stored: out of order
    working: dict[str, Entity | None] = {e.id: e for e in entities.select(
        "WHERE parent_id = ? AND type IN ('person', 'visit')", [unit])}
    working[unit] = household
    for p in mine:
        entity = p.event.get("entity")
        if isinstance(entity, str) and entity not in working:
            if entities.load(entity) is not None:
                return False  # stored under another unit: the full replay decides
            working[entity] = None

    def lookup(entity_id: str) -> Entity | None:
        if entity_id not in working:
            raise _NotInOrder(entity_id)
        return working[entity_id]

    def children(household_id: str) -> list[Entity]:
        return [e for e in working.values()
                if e is not None and e.parent_id == household_id and e.type in ("person", "visit")]

    changed: set[str] = set()
    problems: dict[tuple[str, int], str | None] = {}
    try:
        for p in mine:
            outcome = attempt(p.event, p.cursor, lookup, children, lambda _household: [])
            if isinstance(outcome, str):
                problems[("inbox", p.cursor)] = outcome
                continue
            for entity_id, entity in outcome.changed.items():
                if entity_id not in working:
                    raise _NotInOrder(entity_id)
                working[entity_id] = entity
                changed.add(entity_id)
    except _NotInOrder:
        return False
    for entity_id in sorted(changed):
        final = working[entity_id]
        if final is not None:
            entities.put(final)
    replay.note_problems(problems, {})  # the page's rows are new: no problem stored yet
    return True
