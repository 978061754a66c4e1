"""The writer: every change is one event, written with the state it produces in one transaction.

`record(kind, entity, data)` is the only write path; the screens' commands (add a
household, update a person, record a visit …) go through it. See docs/device.md
("Writing").
"""
from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator
from typing import Any

from campaign.events import SCHEMA, InvalidEvent, canonical, check_event, generic_label, normalize
from campaign.ids import uuid7
from campaign.projection import Entity, apply
from campaign.roles import may_void

from .clock import Clock, stamp
from .entities import Entities
from .errors import NotSignedIn
from .log import last_seq, related
from .meta import Meta
from .rows import FieldChange
from .sealed import SealedDatabase, locked


class Writer:
    def __init__(self, sealed: SealedDatabase, meta: Meta, entities: Entities, clock: Clock) -> None:
        self.sealed = sealed
        self.meta = meta
        self.entities = entities
        self.clock = clock

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Several writes as one: all of them or none (a visit and the statuses it changed)."""
        with self.sealed.lock, self.sealed.db.atomic():
            yield

    @locked
    def record(self, kind: str, entity: str, data: dict[str, Any]) -> dict[str, Any]:
        """Validate, apply and log one change; InvalidEvent leaves the store untouched.
        Returns the event as recorded (its canonical JSON, parsed)."""
        with self.sealed.db.atomic():
            return self._record(kind, entity, data)

    def _record(self, kind: str, entity: str, data: dict[str, Any]) -> dict[str, Any]:
        device_id = self.meta.get("device_id")
        if not device_id:
            raise NotSignedIn("enrol this device before recording")
        try:
            data = json.loads(json.dumps(data))  # tuples to lists; only JSON goes on the wire
        except (TypeError, ValueError):
            raise InvalidEvent("bad_type", "data must be JSON: text, numbers, lists, objects") from None
        current = self.entities.load(entity)
        seq = last_seq(self.sealed) + 1
        event = normalize({"id": uuid7(), "device_id": device_id, "seq": seq, "kind": kind,
                           "entity": entity, "base": current.version if current is not None else None,
                           "at": stamp(self.clock), "data": data, "schema": SCHEMA})
        check_event(event)
        outcome = apply(event, None, self.entities.load, self._children, self._bookings)  # raises before anything is written
        body = canonical(event)
        self.sealed.db.execute(
            "INSERT INTO outbox (seq, id, kind, entity, related, base, at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [seq, event["id"], kind, entity, related(self.sealed, event, {}), event["base"], event["at"],
             self.sealed.seal("outbox", "body", seq, body)])
        for changed in outcome.changed.values():  # a move's people and visits included
            self.entities.put(changed)
        parsed: dict[str, Any] = json.loads(body)
        return parsed

    # ---- the screens' commands ---------------------------------------------------------------

    @locked
    def add_household(self, hamlet_id: str, address: str, consent: str = "unknown") -> str:
        household_id = uuid7()
        self.record("household.created", household_id,
                    {"hamlet_id": hamlet_id, "address": address, "consent": consent})
        return household_id

    def update_household(self, id: str, **changes: Any) -> dict[str, Any] | None:
        """Change address, consent or hamlet_id; unchanged fields are dropped.

        Consent becoming `declined` first renames the household's people "Người 1",
        "Người 2" … (person.updated events), all in one transaction.
        """
        with self.sealed.lock, self.sealed.db.atomic():
            current = self.entities.load(id)
            if current is None or current.type != "household":
                raise InvalidEvent("unknown_household", f"household {id} is not known here")
            changes = {k: val for k, val in changes.items() if current.data.get(k) != val}
            if not changes:
                return None
            if changes.get("consent") == "declined":
                self._anonymise(id)
            return self._record("household.updated", id, changes)

    def _anonymise(self, household_id: str) -> None:
        """Before a household is recorded as declined, its people become "Người 1", "Người 2" …"""
        for n, person in enumerate(self._people_of(household_id), start=1):
            if person.data.get("label") != generic_label(n):
                self._record("person.updated", person.id, {"label": generic_label(n)})

    def _children(self, household_id: str) -> list[Entity]:
        """A household's people and visits as they stand (the projection carries them on a move)."""
        return self.entities.select("WHERE parent_id = ? AND type IN ('person', 'visit')", [household_id])

    def _bookings(self, household_id: str) -> list[Entity]:
        """The capture bookings of a household's people (a move carries them along)."""
        people = {p.id for p in self._people_of(household_id)}
        return [b for b in self.entities.select("WHERE type = 'booking'") if b.data.get("person_id") in people]

    def _people_of(self, household_id: str) -> list[Entity]:
        return self.entities.select("WHERE parent_id = ? AND type = 'person' ORDER BY id", [household_id])

    @locked
    def add_person(self, household_id: str, label: str | None = None, birth_year: int | None = None,
                   presence: str = "home", card: str = "unknown", vneid: str = "unknown") -> str:
        """A person; no label (or a declined household) gets the next "Người n"."""
        person_id = uuid7()
        if label is None or not label.strip():
            label = generic_label(len(self._people_of(household_id)) + 1)
        self.record("person.added", person_id, {"household_id": household_id, "label": label,
                                                "birth_year": birth_year, "presence": presence,
                                                "card": card, "vneid": vneid})
        return person_id

    def update_person(self, id: str, **changes: Any) -> dict[str, Any] | None:
        """Change label, birth_year, presence, card, vneid or blockers; unchanged fields are dropped."""
        with self.sealed.lock:
            current = self.entities.load(id)
            if current is None or current.type != "person":
                raise InvalidEvent("unknown_person", f"person {id} is not known here")
            changes = {k: list(val) if isinstance(val, (tuple, set, frozenset)) else val
                       for k, val in changes.items()}
            changes = {k: val for k, val in changes.items() if current.data.get(k) != val}
            if not changes:
                return None
            return self.record("person.updated", id, changes)

    @locked
    def record_visit(self, household_id: str, outcome: str, actions: Iterable[str] = (),
                     people_helped: Iterable[str] = (), note: str = "",
                     come_back: dict[str, Any] | None = None) -> str:
        """`come_back` ({"window", "on"}) only with not_home; left out when None (as an old phone)."""
        visit_id = uuid7()
        self.record("visit.recorded", visit_id, {"household_id": household_id, "outcome": outcome,
                                                 "actions": list(actions), "people_helped": list(people_helped),
                                                 "note": note, **({"come_back": come_back} if come_back else {})})
        return visit_id

    def void_visit(self, visit_id: str, reason: str = "", restore: Iterable[FieldChange] = ()) -> dict[str, Any]:
        """Take a visit back (visit.voided), in one transaction with the inverse of `restore`:
        the person fields the visit changed go back to their `before`, unless someone changed
        them again since (the field is no longer `after`). Only the device that recorded the
        visit, or a leader or admin, may (campaign.roles.may_void): InvalidEvent("forbidden")."""
        with self.sealed.lock, self.sealed.db.atomic():
            visit = self.entities.load(visit_id)
            if visit is None or visit.type != "visit":
                raise InvalidEvent("unknown_entity", f"visit {visit_id} is not known here")
            if not may_void(self.meta.get("role"), own=visit.data.get("device_id") == self.meta.get("device_id")):
                raise InvalidEvent("forbidden", "a visit is taken back by the device that recorded it or a leader")
            voided = self._record("visit.voided", visit_id, {"reason": reason})
            inverse: dict[str, dict[str, Any]] = {}
            for change in restore:
                person = self.entities.load(change.person_id)
                if person is not None and person.type == "person" and person.data.get(change.field) == change.after:
                    inverse.setdefault(change.person_id, {})[change.field] = change.before
            for person_id, fields in inverse.items():
                self._record("person.updated", person_id, fields)
            return voided

    @locked
    def decide_review(self, visit_id: str, decision: str, comment: str = "") -> dict[str, Any]:
        return self.record("review.decided", visit_id, {"decision": decision, "comment": comment})

    @locked
    def resolve_conflict(self, entity: str, field: str, value: Any) -> dict[str, Any]:
        """Settle a field (a leader's choice); settling consent to declined anonymises first."""
        with self.sealed.db.atomic():
            current = self.entities.load(entity)
            if current is not None and current.type == "household" and field == "consent" \
                    and value == "declined" and current.data.get("consent") != "declined":
                self._anonymise(entity)
            return self._record("conflict.resolved", entity, {"field": field, "value": value})
