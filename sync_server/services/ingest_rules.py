"""Who may send what: the scope and the role of a pushed event (services/ingest.py asks).

Scope first (issue #12, M1), before the event's data, time or rules are looked at, so
that a refusal never tells whether an entity exists; then the role (campaign.roles) and
the places an event lands in. The entity state is read through the batch's lookups, so
a planned push (ingest.plan) and a push under the lock ask the same questions.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from campaign import events as ev
from campaign import projection
from campaign.ids import is_uuid
from campaign.projection import Entity
from campaign.roles import SESSION_KINDS, Capability, can, may_set_booking, may_void, may_write

from ..store.devices import Device, Scope

OUT_OF_SCOPE = "outside the hamlets this device works in"  # the one sentence of every refusal by scope


def out_of_scope() -> ev.InvalidEvent:
    return ev.InvalidEvent("forbidden", OUT_OF_SCOPE)


def authorise_scope(scope: Scope, event: dict[str, Any], get: Callable[[str], Entity | None],
                    commune_of: Callable[[str | None], str | None], checked: bool = False) -> None:
    """Scope first (issue #12, M1): an event about an entity outside the device's hamlets, or
    one that names no entity the device can see, is quarantined `forbidden` with one sentence,
    before its data, its time or any rule is looked at; so a refusal never tells whether the
    entity exists or what it holds. The entity's place is where it stands; a new entity's is
    the hamlet or household it is created under, and a household's move must land in scope
    too. An id that is not an id at all says nothing of anyone: the checks that follow name
    it. An admin's scope holds everything: the rules answer in full. `checked`: the event passed
    campaign.events.check_event, so its entity and the ids its kind names are ids (not asked again)."""
    if scope.everything:
        return
    kind, data, entity_id = event.get("kind"), event.get("data"), event.get("entity")
    data = data if isinstance(data, dict) else {}
    # Each place is checked as it is found (the first outside the scope refuses): a push's
    # events are mostly new entities with one place each, so no list is built (issue #16).
    current = get(str(entity_id)) if checked or is_uuid(entity_id) else None
    if current is not None:
        if not _allows_entity(scope, current, commune_of):
            raise out_of_scope()
    elif kind == "hamlet.created":
        pass  # a new hamlet: its commune is checked with the role (authorise)
    elif kind == "household.created":
        hamlet_id = data.get("hamlet_id")
        if is_uuid(hamlet_id) and not _allows(scope, hamlet_id, commune_of):
            raise out_of_scope()
    elif kind in CREATED_UNDER:
        under = data.get(CREATED_UNDER[kind])
        if (checked or is_uuid(under)) and not _allows_entity(scope, get(str(under)), commune_of):
            raise out_of_scope()
    elif kind == "session.created":
        if isinstance(data.get("commune"), str) and not scope.allows(None, data["commune"]):
            raise out_of_scope()
    elif kind in ev.KINDS and is_uuid(entity_id):
        raise out_of_scope()  # a change to nothing this device can see
    if kind == "household.updated":
        moved_to = data.get("hamlet_id")
        if is_uuid(moved_to) and not _allows(scope, moved_to, commune_of):
            raise out_of_scope()
    elif kind == "person.merged":
        kept = data.get("into")  # the person kept must be within reach too
        if is_uuid(kept) and not _allows_entity(scope, get(str(kept)), commune_of):
            raise out_of_scope()


def _allows(scope: Scope, hamlet_id: str | None, commune_of: Callable[[str | None], str | None]) -> bool:
    """scope.allows(hamlet_id, commune_of(hamlet_id)), the commune looked up only when the hamlet
    is not one of the scope's own: a volunteer's events are in their own hamlets (issue #16)."""
    hamlets = scope.hamlets
    if hamlets is not None and hamlet_id in hamlets:
        return True  # allows is true of any hamlet of the scope's, whatever its commune
    return scope.allows(hamlet_id, commune_of(hamlet_id))


def _allows_entity(scope: Scope, entity: Entity | None, commune_of: Callable[[str | None], str | None]) -> bool:
    """scope.allows(*_place(entity, commune_of)), through _allows where the entity has a hamlet."""
    if entity is not None and entity.hamlet_id is not None:
        return _allows(scope, entity.hamlet_id, commune_of)
    return scope.allows(*_place(entity, commune_of))


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
        if not _allows(scope, hamlet_id, commune_of):
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
    if not _allows(scope, visit.hamlet_id, commune_of):
        raise out_of_scope()
    if not may_void(device.role, own=visit.data.get("device_id") == device.id):
        raise ev.InvalidEvent("forbidden", "a visit is taken back by the device that recorded it or a team leader")
