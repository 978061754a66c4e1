"""The state as a projection of the two logs, recomputed per unit when the server's order arrives.

The state is the inbox in cursor order, then this device's own events that have not
come back from the server and were not quarantined, in seq order, each applied with
campaign.projection.apply; an event the projection refuses is skipped and its row gets
`problem`. The unit of recomputation is a household with its people and visits (or a
hamlet on its own): a person's events are checked against their household as it was
then, and the unit's people and visits are what the projection carries on a move and
checks a refusal against, as on the server. See docs/device.md ("State: server order,
own pending events on top").
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from campaign.events import KINDS, SCHEMA, InvalidEvent
from campaign.projection import Children, Entity, Lookup, Outcome, apply

from .entities import Entities
from .log import events_of, filed_under
from .sealed import SealedDatabase
from .sql import chunks, marks


class Replay:
    """Callers hold the database's lock and a transaction."""

    def __init__(self, sealed: SealedDatabase, entities: Entities) -> None:
        self.sealed = sealed
        self.entities = entities

    def recompute(self, ids: Iterable[str]) -> None:
        """Rebuild the touched entities from scratch, a household at a time (with its
        people and visits, whose checks read the household as it was at each event)."""
        for chunk in chunks(sorted(self._with_dependants(self._units(ids)))):
            self._replay(set(chunk))

    def _units(self, ids: Iterable[str]) -> set[str]:
        """The household (or hamlet) whose events decide each entity's state."""
        units = set()
        for entity_id in ids:
            row = self.sealed.db.execute("SELECT type, parent_id FROM entities WHERE id = ?", [entity_id]).fetchone()
            if row is not None:
                units.add(row[1] if row[0] in ("person", "visit") and row[1] else entity_id)
            else:
                units.add(filed_under(self.sealed, entity_id) or entity_id)
        return units

    def _with_dependants(self, units: set[str]) -> set[str]:
        """A hamlet's change may invalidate this device's pending events in its households."""
        db = self.sealed.db
        hamlets = [u for u in units if db.execute("SELECT 1 FROM entities WHERE id = ? AND type = 'hamlet'",
                                                  [u]).fetchone()]
        extra: set[str] = set()
        for chunk in chunks(hamlets):
            rows = db.execute(
                "SELECT DISTINCT coalesce(o.related, o.entity) FROM outbox o "
                "WHERE o.pulled = 0 AND o.status != 'quarantined' AND coalesce(o.related, o.entity) IN "
                f"(SELECT id FROM entities WHERE type = 'household' AND hamlet_id IN ({marks(chunk)}))",
                chunk).fetchall()
            extra.update(r[0] for r in rows)
        return units | extra

    def _replay(self, units: set[str]) -> None:
        db = self.sealed.db
        rows = events_of(self.sealed, sorted(units), with_related=True)
        family = set(units) | {r.event["entity"] for r in rows if isinstance(r.event.get("entity"), str)}
        # A household's people and visits (their events are filed under it, `related`). Not a
        # session's bookings: each booking is its own unit, its events are not among `rows`, and
        # taking it into the family would replay it from nothing, deleting it.
        for chunk in chunks(sorted(units)):
            family.update(r[0] for r in db.execute(
                f"SELECT id FROM entities WHERE parent_id IN ({marks(chunk)}) AND type IN ('person', 'visit')", chunk))
        # Hamlets a household named are replayed alongside (their closing date matters), not written.
        context = {r.event["data"]["hamlet_id"] for r in rows
                   if r.event.get("kind") in ("household.created", "household.updated")
                   and isinstance(r.event.get("data"), dict) and isinstance(r.event["data"].get("hamlet_id"), str)}
        context -= family
        context_rows = events_of(self.sealed, sorted(context), with_related=False) if context else []
        timeline = sorted([(r, True) for r in rows] + [(r, False) for r in context_rows],
                          key=lambda item: item[0].order)
        working: dict[str, Entity | None] = {entity_id: None for entity_id in family | context}
        outside: dict[str, Entity | None] = {}
        # A household that moved here from a hamlet outside this device's comes with its history
        # (docs/sync.md, "Households that move"), which names hamlets this device never held.
        # The server applied those events already: for them, such a hamlet is taken as open, and
        # of the commune of the session a booking in the history names (a person is booked in
        # their own commune: the server checked it when the booking was made).
        named = {r.event.get("entity") for r in context_rows}
        unheld = {h for h in context if h not in named and self.entities.load(h) is None}
        from_server = False
        booked_in: str | None = None  # the commune of the session the event being replayed books into

        def children(household_id: str) -> list[Entity]:
            return [e for e in working.values()
                    if e is not None and e.parent_id == household_id and e.type in ("person", "visit")]

        def bookings(household_id: str) -> list[Entity]:  # its people's: a move carries them (projection)
            people = {e.id for e in children(household_id) if e.type == "person"}
            return [e for e in working.values()
                    if e is not None and e.type == "booking" and e.data.get("person_id") in people]

        def lookup(entity_id: str) -> Entity | None:
            if entity_id in working:
                if working[entity_id] is None and entity_id in unheld and from_server:
                    return Entity(entity_id, "hamlet", entity_id, None, {"valid_to": None, "commune": booked_in})
                return working[entity_id]
            if entity_id not in outside:
                outside[entity_id] = self.entities.load(entity_id)
            return outside[entity_id]

        problems: dict[tuple[str, int], str | None] = {}
        for logged, own in timeline:
            event = logged.event
            version = logged.key if logged.source == "inbox" else None
            from_server = logged.source == "inbox"
            booked_in = _session_commune(event, lookup) if from_server else None
            outcome = attempt(event, version, lookup, children, bookings)
            if isinstance(outcome, str):
                if own:
                    problems[(logged.source, logged.key)] = outcome
                continue
            if own:
                problems[(logged.source, logged.key)] = None
            for entity_id, entity in outcome.changed.items():
                if entity_id in working:
                    working[entity_id] = entity
        for entity_id in family:
            final = working[entity_id]
            if final is None:
                self.entities.delete([entity_id])
            else:
                self.entities.put(final)
        self.note_problems(problems, {(r.source, r.key): r.problem for r in rows})

    def note_problems(self, problems: dict[tuple[str, int], str | None],
                       stored: dict[tuple[str, int], bytes | None]) -> None:
        """Keep why each own event was skipped (None: it applied), rewriting only what changed."""
        for (source, key), problem in problems.items():
            before = stored.get((source, key))
            if before is None and problem is None:
                continue
            if before is not None and problem is not None \
                    and self.sealed.unseal(source, "problem", key, before) == problem:
                continue  # unchanged: no rewrite (a new nonce would change the row for nothing)
            column = "cursor" if source == "inbox" else "seq"
            self.sealed.db.execute(f"UPDATE {source} SET problem = ? WHERE {column} = ?",
                                   [self.sealed.seal_or_null(source, "problem", key, problem), key])


def attempt(event: dict[str, Any], version: int | None, lookup: Lookup, children: Children,
            bookings: Children) -> Outcome | str:
    """Apply one event (campaign.projection.apply), or why it was refused: the one place both the
    full replay and the in-order page (pagefast.py) decide it, so a refusal reads the same."""
    try:
        if event.get("kind") not in KINDS or event.get("schema") != SCHEMA:
            raise InvalidEvent("unknown_kind", f"{event.get('kind')!r} (schema {event.get('schema')!r}) "
                               "is not known to this app version")
        return apply(event, version, lookup, children, bookings)
    except (InvalidEvent, KeyError, TypeError, ValueError, AttributeError) as exc:
        return getattr(exc, "detail", None) or str(exc) or type(exc).__name__


def _session_commune(event: dict[str, Any], lookup: Callable[[str], Entity | None]) -> str | None:
    """The commune of the session a booking.made books into (None for any other event)."""
    data = event.get("data")
    if event.get("kind") != "booking.made" or not isinstance(data, dict) or not isinstance(data.get("session_id"), str):
        return None
    session = lookup(data["session_id"])
    commune = session.data.get("commune") if session is not None and session.type == "session" else None
    return commune if isinstance(commune, str) else None
