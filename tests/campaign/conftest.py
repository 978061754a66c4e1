"""Event builders for the campaign tests.

`event()` spells one event of the wire contract; `example()` is a valid event of
every kind; `World` applies events the way a store does (a server cursor per
event, children follow a moved household, totals kept by delta) so that tests
read as a story: create a hamlet, a household, a person, record a visit.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from campaign import events as ev
from campaign import totals
from campaign.ids import uuid7
from campaign.projection import Entity, Outcome, apply

AT = "2026-11-27T09:30:00+07:00"  # a Friday morning in the campaign
HAI_DUONG = "10525"  # Phường Hải Dương, Thành phố Hải Phòng
ADMIN = "admin-laptop"


def event(kind: str, entity: str | None = None, data: dict[str, Any] | None = None, *,
          device_id: str = "phone-a", seq: int = 1, base: int | None = None,
          at: str = AT) -> dict[str, Any]:
    return {"id": uuid7(), "device_id": device_id, "seq": seq, "kind": kind,
            "entity": entity or uuid7(), "base": base, "at": at, "data": data or {}, "schema": 1}


# ---- data of each kind -------------------------------------------------------------

def hamlet_data(**over: Any) -> dict[str, Any]:
    return {"commune": HAI_DUONG, "name": "Tổ dân phố Lê Lợi", "kind": "to_dan_pho",
            "valid_from": "2025-07-01", "valid_to": None, **over}


def household_data(hamlet_id: str, **over: Any) -> dict[str, Any]:
    return {"hamlet_id": hamlet_id, "address": "Số 12, ngõ 5, phố Lê Lợi", "consent": "given", **over}


def person_data(household_id: str, **over: Any) -> dict[str, Any]:
    return {"household_id": household_id, "label": "Nguyễn Văn An", "birth_year": 1980,
            "presence": "home", "card": "cccd_chip", "vneid": "l1_pending", **over}


def visit_data(household_id: str, **over: Any) -> dict[str, Any]:
    return {"household_id": household_id, "outcome": "met", "actions": ["explained"],
            "people_helped": [], "note": "", **over}


def session_data(**over: Any) -> dict[str, Any]:
    return {"commune": HAI_DUONG, "kind": "mobile_capture", "starts_at": "2026-12-05T08:00:00+07:00",
            "ends_at": "2026-12-05T11:30:00+07:00", "place": "Nhà văn hoá tổ 3", "capacity": 2, **over}


def example(kind: str) -> dict[str, Any]:
    """A valid event of `kind`, as far as a stateless check can tell."""
    data = {
        "hamlet.created": hamlet_data(),
        "hamlet.updated": {"name": "Tổ dân phố số 3"},
        "household.created": household_data(uuid7()),
        "household.updated": {"consent": "declined"},
        "person.added": person_data(uuid7()),
        "person.updated": {"vneid": "l2_active", "blockers": ["no_otp", "sim_not_own"]},
        "visit.recorded": visit_data(uuid7(), people_helped=[uuid7()], note="Hẹn chiều mai quay lại"),
        "review.decided": {"decision": "returned", "comment": "Thiếu năm sinh"},
        "assignment.set": {"device_id": "phone-b"},
        "conflict.resolved": {"field": "address", "value": "Số 14, ngõ 5"},
        "visit.voided": {"reason": "Ghi nhầm hộ bên cạnh"},
        "person.merged": {"into": uuid7()},
        "session.created": session_data(),
        "session.updated": {"capacity": 40, "cancelled": True},
        "booking.made": {"session_id": uuid7(), "person_id": uuid7()},
        "booking.updated": {"status": "no_show"},
    }[kind]
    return event(kind, data=data)


# ---- a store in a few lines --------------------------------------------------------

class Device:
    """A phone: numbers its own events 1, 2, 3 …"""

    def __init__(self, device_id: str) -> None:
        self.id = device_id
        self.seq = 0

    def event(self, kind: str, entity: str | None = None, data: dict[str, Any] | None = None, *,
              base: int | None = None, at: str = AT) -> dict[str, Any]:
        self.seq += 1
        return event(kind, entity, data, device_id=self.id, seq=self.seq, base=base, at=at)


class World:
    """Entities by id, changed only through campaign.projection.apply, as a store does."""

    def __init__(self) -> None:
        self.entities: dict[str, Entity] = {}
        self.cursor = 0
        self.totals: Counter[tuple[str, str, str]] = Counter()  # kept by delta, event by event
        self.admin = Device(ADMIN)

    def apply(self, event: dict[str, Any], *, pending: bool = False) -> Outcome:
        """Validate and apply; a server event gets the next cursor as its version."""
        ev.check_event(event)
        version = None if pending else self.cursor + 1
        outcome = apply(event, version, self.entities.get, self.children)
        if not pending:
            self.cursor = version  # type: ignore[assignment]
        for entity_id, after in outcome.changed.items():
            before = self.entities.get(entity_id)
            if before is not None and before.hamlet_id != after.hamlet_id:
                self._add(before.hamlet_id, totals.delta(before, None))
                self._add(after.hamlet_id, totals.delta(None, after))
            else:
                self._add(after.hamlet_id, totals.delta(before, after))
            self.entities[entity_id] = after
        return outcome

    def children(self, household_id: str) -> list[Entity]:
        """A household's people and visits: the projection carries them when it moves."""
        return [e for e in self.entities.values() if e.parent_id == household_id]

    def _add(self, hamlet_id: str | None, counts: Counter[tuple[str, str]]) -> None:
        for (day, metric), n in counts.items():
            self.totals[(hamlet_id or "", day, metric)] += n

    def running_totals(self) -> dict[tuple[str, str, str], int]:
        return {k: n for k, n in self.totals.items() if n}

    def __getitem__(self, entity_id: str) -> Entity:
        return self.entities[entity_id]

    # the story-telling shortcuts: each creates through an event and returns the id
    def hamlet(self, **over: Any) -> str:
        return self.apply(self.admin.event("hamlet.created", data=hamlet_data(**over))).hamlet_id  # type: ignore[return-value]

    def household(self, hamlet_id: str | None = None, **over: Any) -> str:
        hamlet_id = hamlet_id or self.hamlet()
        outcome = self.apply(self.admin.event("household.created", data=household_data(hamlet_id, **over)))
        return next(iter(outcome.changed))

    def person(self, household_id: str | None = None, *, at: str = AT, **over: Any) -> str:
        household_id = household_id or self.household()
        outcome = self.apply(self.admin.event("person.added", data=person_data(household_id, **over), at=at))
        return next(iter(outcome.changed))

    def visit(self, household_id: str, *, at: str = AT, device: Device | None = None, **over: Any) -> str:
        device = device or self.admin
        outcome = self.apply(device.event("visit.recorded", data=visit_data(household_id, **over), at=at))
        return next(e.id for e in outcome.changed.values() if e.type == "visit")

    def session(self, **over: Any) -> str:
        return next(iter(self.apply(self.admin.event("session.created", data=session_data(**over))).changed))

    def book(self, session_id: str, person_id: str, *, device: Device | None = None) -> str:
        device = device or self.admin
        outcome = self.apply(device.event("booking.made", data={"session_id": session_id, "person_id": person_id}))
        return next(iter(outcome.changed))


@pytest.fixture()
def world() -> World:
    return World()


@pytest.fixture()
def phone_a() -> Device:
    return Device("phone-a")


@pytest.fixture()
def phone_b() -> Device:
    return Device("phone-b")
