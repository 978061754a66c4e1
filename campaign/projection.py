"""State as a projection of events.

The server applies events in cursor order; a device applies the server's events
in cursor order and then its own pending ones on top, entity by entity. Both run
this one function, so they compute the same state from the same events.

Field-level conflicts (after ODK Entities): an update of a field that another
device changed at a version the updater had not seen (its `base` is older) is
applied in arrival order and *also* reported as a Conflict for a leader to
settle. Updates of different fields merge silently.

Derived fields (events.DERIVED) are kept by this module alone, never sent: a
household's visit aggregates, a person's `vneid_active_at`, when the team
recorded their VNeID as active (the day the totals count an activation on), and
a visit's `voided_at` (with who took it back and why): a voided visit stays in
the state, so that a late review of it can be refused, but counts nowhere.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from . import come_back as come_back_rules
from . import sessions
from . import vocabulary as v
from .entity import Children as Children
from .entity import Conflict as Conflict
from .entity import Entity as Entity
from .entity import Event as Event
from .entity import Lookup as Lookup
from .entity import Outcome as Outcome
from .entity import require as _require
from .entity import stamp as _stamp
from .events import (
    GENERIC_LABEL,
    ID_FIELDS,
    KINDS,
    MIN_BIRTH_YEAR,
    UPDATABLE,
    InvalidEvent,
    birth_year_problem,
    instant,
    parse_at,
)
from .time import local_date, local_day

CREATES = frozenset({"hamlet.created", "household.created", "person.added", "visit.recorded"}) | sessions.CREATES
VNEID_ACTIVE_AT = "vneid_active_at"  # derived (events.DERIVED): see activation_time()
VOIDED_AT = "voided_at"  # derived (events.DERIVED): see is_voided()
MERGED_INTO = "merged_into"  # derived (events.DERIVED): see is_merged()
COME_BACK = "last_come_back"  # derived on a household (events.DERIVED): its latest visit's, when nobody was home


def needs(event: dict[str, Any]) -> set[str]:
    """The entity ids apply() will look up, of a valid event (events.check_event): a store loads
    them in one query per batch. Its kind's id fields only (events.ID_FIELDS), not every field that
    could hold an id asked of every event: this runs for every event of a push (issue #16: -1.2 %
    of the profile's instructions)."""
    ids = {event["entity"]}
    one, many = ID_FIELDS[event["kind"]]
    if one or many:
        data = event["data"]
        for key in one:
            if key in data:  # valid: an id, or (an update) absent
                ids.add(data[key])
        for key in many:
            ids.update(data[key])
    return ids


def apply(event: dict[str, Any], version: int | None, lookup: Lookup,
          children: Children | None = None, bookings: Children | None = None) -> Outcome:
    """Apply one validated event; raise InvalidEvent when the state forbids it.

    `version` is the event's server cursor, or None for a device's pending event.
    Entities returned are copies: the caller's state is untouched on rejection.
    `children`, when given (the server), also checks that a household recorded as
    declined has no named people left, and carries a moved household's people and
    visits: a copy of each, as it stands, with the new `hamlet_id`, is in
    `changed` next to the household (`moved` still names the move). A caller that
    applies without `children` carries them itself. `visit.voided` needs it: the
    household's visit aggregates are counted again from the visits that remain.
    `bookings`, when given with `children` (the server), names the capture bookings of a
    household's people (a household id -> those bookings, as they stand): a move carries them
    too, so they stay filed where their person lives (campaign.sessions).
    """
    kind = event["kind"]
    current = lookup(event["entity"])
    if kind in CREATES:
        if current is not None:
            raise InvalidEvent("exists", f"{kind}: entity {event['entity']} already exists")
    elif current is None:
        raise InvalidEvent("unknown_entity", f"{kind}: entity {event['entity']} does not exist here")
    else:
        expected = KINDS[kind].entity_type
        if expected and current.type != expected:
            raise InvalidEvent("wrong_entity", f"{kind} applies to a {expected}, not a {current.type}")
    if current is not None and current.type == "person" and is_merged(current.data):
        raise InvalidEvent("merged", f"person {current.id} was merged into {current.data[MERGED_INTO]}")
    if kind == "visit.voided":  # the only kind that reads the household's other visits
        assert current is not None  # checked above: not a creating kind
        outcome = _visit_voided(event, version, current, lookup, children)
    else:
        outcome = _APPLY[kind](event, version, current, lookup)
    if children is not None:
        if kind in _DECLINING:
            _check_declined_unnamed(event, children)
        if outcome.moved is not None:
            _carry_children(outcome, children, bookings)
    return outcome


# ---- helpers --------------------------------------------------------------------

def _check_hamlet_open(hamlet: Entity, at: str) -> None:
    valid_to = hamlet.data.get("valid_to")
    if valid_to and parse_at(at).date() > date.fromisoformat(valid_to):
        raise InvalidEvent("hamlet_closed", f"hamlet {hamlet.data['name']} closed on {valid_to}")


def _check_label(label: str, household: Entity) -> None:
    if household.data.get("consent") == "declined" and not GENERIC_LABEL.match(label):
        raise InvalidEvent("consent_declined",
                           "this household declined: its people are counted as 'Người 1', 'Người 2' …, never named")


_DECLINING = frozenset({"household.updated", "conflict.resolved"})  # the kinds _check_declined_unnamed reads


def _check_declined_unnamed(event: dict[str, Any], children: Children) -> None:
    """A household recorded as declined keeps no names: its people are renamed "Người N" first,
    in this push or before (the device does: field_app/store.py _anonymise)."""
    data = event["data"]
    if event["kind"] == "household.updated":
        declines = data.get("consent") == "declined"
    elif event["kind"] == "conflict.resolved":
        declines = data.get("field") == "consent" and data.get("value") == "declined"
    else:
        return
    if not declines:
        return
    named = [p for p in children(event["entity"])
             if p.type == "person" and not GENERIC_LABEL.match(str(p.data.get("label", "")))]
    if named:
        raise InvalidEvent("consent_declined", "this household declined but some of its people still carry "
                           "names: rename them 'Người 1', 'Người 2' … before recording the refusal")


def _carry_children(outcome: Outcome, children: Children, bookings: Children | None) -> None:
    """A household's people and visits live in its hamlet: they move with it, and so do its
    people's capture bookings (a booking lives where its person lives)."""
    assert outcome.moved is not None
    household_id, _old, new_hamlet = outcome.moved
    for child in [*children(household_id), *(bookings(household_id) if bookings is not None else [])]:
        carried = child.copy()
        carried.hamlet_id = new_hamlet
        outcome.changed[child.id] = carried


def _check_age_rules(person: Entity, at: str) -> None:
    year = person.data.get("birth_year")
    if year is None:
        return
    this_year = int(local_day(at)[:4])  # Vietnam's year at the event's time (local_day is remembered)
    age = this_year - year
    if age < v.VNEID_L2_MIN_AGE and str(person.data.get("vneid", "")).startswith("l2_"):
        raise InvalidEvent("too_young", f"under {v.VNEID_L2_MIN_AGE}: VNeID level 1 only, through a parent")
    if birth_year_problem(year, this_year) is not None:
        raise InvalidEvent("out_of_range", f"birth_year must be from {MIN_BIRTH_YEAR} to {this_year}")


def _same(a: object, b: object) -> bool:
    """Lists on the wire are sets (no duplicates, order carries nothing)."""
    if isinstance(a, list) and isinstance(b, list):
        return sorted(map(str, a)) == sorted(map(str, b))
    return a == b


def _update_fields(entity: Entity, event: dict[str, Any], version: int | None,
                   changes: dict[str, Any], detect: bool) -> list[Conflict]:
    conflicts = []
    base = event["base"]
    if base is not None and base > (entity.version or 0):  # 10**40 would switch detection off
        raise InvalidEvent("bad_base", "base is a version this entity never had")
    for name, value in changes.items():
        seen = entity.meta.get(name)
        if detect and seen is not None and seen[0] is not None and seen[1] != event["device_id"] \
                and (base is None or seen[0] > base) and not _same(entity.data.get(name), value):
            conflicts.append(Conflict(
                entity.id, name,
                earlier={"value": entity.data.get(name), "version": seen[0], "device_id": seen[1], "event": seen[2]},
                later={"value": value, "version": version, "device_id": event["device_id"], "event": event["id"]}))
        entity.data[name] = value
    _stamp(entity, event, version, list(changes))
    return conflicts


# ---- one function per kind ------------------------------------------------------

def _hamlet_created(event: Event, version: int | None, current: None, lookup: Lookup) -> Outcome:
    data = event["data"]
    if data["valid_to"] is not None and data["valid_to"] < data["valid_from"]:
        raise InvalidEvent("bad_date", "valid_to is before valid_from")
    hamlet = Entity(event["entity"], "hamlet", event["entity"], None, dict(data))
    _stamp(hamlet, event, version, list(data))
    return Outcome(hamlet.id, {hamlet.id: hamlet})


def _hamlet_updated(event: Event, version: int | None, current: Entity, lookup: Lookup) -> Outcome:
    hamlet = current.copy()
    conflicts = _update_fields(hamlet, event, version, event["data"], detect=True)
    if hamlet.data.get("valid_to") and hamlet.data["valid_to"] < hamlet.data["valid_from"]:
        raise InvalidEvent("bad_date", "valid_to is before valid_from")
    return Outcome(hamlet.id, {hamlet.id: hamlet}, conflicts)


def _household_created(event: Event, version: int | None, current: None, lookup: Lookup) -> Outcome:
    data = event["data"]
    hamlet = _require(lookup, data["hamlet_id"], "hamlet", "hamlet_id")
    _check_hamlet_open(hamlet, event["at"])
    household = Entity(event["entity"], "household", hamlet.id, None, {
        **data, "assigned_to": None, "visits": 0, "first_visit_at": None,
        "last_visit_at": None, "last_outcome": None, "last_visit_id": None})
    _stamp(household, event, version, list(data))
    return Outcome(hamlet.id, {household.id: household})


def _household_updated(event: Event, version: int | None, current: Entity, lookup: Lookup) -> Outcome:
    household = current.copy()
    moved = None
    new_hamlet = event["data"].get("hamlet_id")
    if new_hamlet is not None and new_hamlet != current.hamlet_id:
        hamlet = _require(lookup, new_hamlet, "hamlet", "hamlet_id")
        _check_hamlet_open(hamlet, event["at"])
        moved = (household.id, current.hamlet_id, hamlet.id)
        household.hamlet_id = hamlet.id
    conflicts = _update_fields(household, event, version, event["data"], detect=True)
    return Outcome(household.hamlet_id, {household.id: household}, conflicts, moved=moved)


def _person_added(event: Event, version: int | None, current: None, lookup: Lookup) -> Outcome:
    data = event["data"]
    household = _require(lookup, data["household_id"], "household", "household_id")
    _check_label(data["label"], household)
    person = Entity(event["entity"], "person", household.hamlet_id, household.id, {
        **data, "blockers": [], VNEID_ACTIVE_AT: activation_time(data["vneid"], None, event["at"])})
    _check_age_rules(person, event["at"])
    _stamp(person, event, version, list(data))
    return Outcome(household.hamlet_id, {person.id: person})


def _person_updated(event: Event, version: int | None, current: Entity, lookup: Lookup) -> Outcome:
    person = current.copy()
    if "label" in event["data"]:
        _check_label(event["data"]["label"], _require(lookup, person.parent_id, "household", "household_id"))
    conflicts = _update_fields(person, event, version, event["data"], detect=True)
    if "vneid" in event["data"]:
        _record_activation(person, event["at"])
    _check_age_rules(person, event["at"])
    return Outcome(person.hamlet_id, {person.id: person}, conflicts)


def _visit_recorded(event: Event, version: int | None, current: None, lookup: Lookup) -> Outcome:
    data = event["data"]
    household = _require(lookup, data["household_id"], "household", "household_id").copy()
    if household.data.get("consent") == "declined" and str(data.get("note", "")).strip():
        # a note could name the people the household declined to give (issue #12, L1); the address stays
        raise InvalidEvent("note_declined", "this household declined: its visits carry no note")
    if data["outcome"] in ("not_home", "moved") and (data["people_helped"] or data["actions"]):
        raise InvalidEvent("bad_visit", f"a visit with outcome {data['outcome']} helps nobody: no actions or people")
    if data.get("come_back") is not None and data["outcome"] != "not_home":
        raise InvalidEvent("bad_visit", "only a visit that found nobody home says when to come back")
    _check_come_back_date(data.get("come_back"), event["at"])
    for person_id in data["people_helped"]:
        person = lookup(person_id)  # unknown or elsewhere: one answer, which says nothing of elsewhere
        if person is None or person.type != "person" or person.parent_id != household.id:
            raise InvalidEvent("bad_visit", f"person {person_id} is not of this household")
        if is_merged(person.data):
            raise InvalidEvent("merged", f"person {person_id} was merged into {person.data[MERGED_INTO]}")
    visit = Entity(event["entity"], "visit", household.hamlet_id, household.id, {
        **data, "at": event["at"], "device_id": event["device_id"],
        "review": None, "review_comment": None, "reviewed_by": None, "reviewed_at": None})
    _stamp(visit, event, version, list(data))
    _count_visit(household, visit.id, event["at"], data["outcome"], data.get("come_back"))
    if version is not None:
        household.version = version
    return Outcome(household.hamlet_id, {visit.id: visit, household.id: household})


def _check_come_back_date(come_back: dict[str, Any] | None, at: str) -> None:
    """A come-back's date is not before the visit's day, nor too far after it (campaign.come_back)."""
    on = come_back_rules.on_date(come_back) if come_back is not None else None
    if on is None:
        return
    problem = come_back_rules.date_problem(on, local_date(parse_at(at)))
    if problem == "past":
        raise InvalidEvent("bad_date", "come_back.on is before the day of the visit")
    if problem == "too_far":
        raise InvalidEvent("bad_date", f"come_back.on is more than {come_back_rules.MAX_DAYS_AHEAD} days after the visit")


def _count_visit(household: Entity, visit_id: str, at: str, outcome: str,
                 come_back: dict[str, Any] | None = None) -> None:
    """Order-free aggregates, so every device gets the same whatever the arrival order.
    `come_back` (the latest visit's, set only by a not-home visit) rides with `last_outcome`."""
    h = household.data
    h["visits"] += 1
    when = instant(at)  # in UTC: instants compared without each one's offset asked (issue #16)
    # The same instant may be spelled in two offsets: the spelling breaks the tie.
    if h["first_visit_at"] is None or (when, at) < (instant(h["first_visit_at"]), h["first_visit_at"]):
        h["first_visit_at"] = at
    if h["last_visit_at"] is None or (when, visit_id) > (instant(h["last_visit_at"]), h["last_visit_id"]):
        h["last_visit_at"], h["last_outcome"], h["last_visit_id"] = at, outcome, visit_id
        h[COME_BACK] = come_back


def activation_time(vneid: object, current: str | None, at: str) -> str | None:
    """A person's `vneid_active_at` after an event recorded (at `at`) their VNeID status as `vneid`.

    `current` is the value before: None when they were not active (or the body predates the
    field: an old device row, which then gets this event's time, the best known). Active
    (vocabulary.ACTIVE_VNEID) → the time the team recorded it; still active (l1_active →
    l2_active, or the same status recorded again) → the earlier of the two recordings, so two
    phones that both record an activation offline give the same time whatever order they sync
    in; not active → None. Instants are compared, the spelling breaking a tie, as a household's
    first visit: one instant in two offsets gives one answer in either order.
    store/migrations 0003 walks the log with this same function.
    """
    if vneid not in v.ACTIVE_VNEID:
        return None
    if current is None or (instant(at), at) < (instant(current), current):
        return at
    return current


def _record_activation(person: Entity, at: str) -> None:
    """After an event that set the person's vneid: derived, so not stamped in meta (no conflicts)."""
    person.data[VNEID_ACTIVE_AT] = activation_time(person.data.get("vneid"), person.data.get(VNEID_ACTIVE_AT), at)


def is_merged(person: dict[str, Any]) -> bool:
    """A person's data (as projected) that a `person.merged` folded into another: counts nowhere."""
    return bool(person.get(MERGED_INTO))


def _person_merged(event: Event, version: int | None, current: Entity, lookup: Lookup) -> Outcome:
    into_id = event["data"]["into"]
    if into_id == current.id:
        raise InvalidEvent("bad_merge", "a person cannot be merged into themselves")
    into = lookup(into_id)
    if into is None or into.type != "person":
        raise InvalidEvent("bad_merge", f"into: {into_id} is not a person here")
    if is_merged(into.data):
        raise InvalidEvent("merged", f"into: person {into_id} was merged into {into.data[MERGED_INTO]}")
    here, there = (lookup(h) if h else None for h in (current.hamlet_id, into.hamlet_id))
    if here is None or there is None or here.data.get("commune") != there.data.get("commune"):
        raise InvalidEvent("bad_merge", "into: a person of another commune")
    person = current.copy()
    person.data.update({MERGED_INTO: into_id, "merged_at": event["at"], "merged_by": event["device_id"]})
    _stamp(person, event, version, [])
    return Outcome(person.hamlet_id, {person.id: person})


def is_voided(visit: dict[str, Any]) -> bool:
    """A visit's data (as projected) that a `visit.voided` took back: it counts nowhere."""
    return visit.get(VOIDED_AT) is not None


def _visit_voided(event: Event, version: int | None, current: Entity, lookup: Lookup,
                  children: Children | None) -> Outcome:
    if children is None:
        raise TypeError("visit.voided is applied with the household's children: its aggregates are recounted")
    if is_voided(current.data):
        raise InvalidEvent("voided", "this visit was taken back already")
    household = _require(lookup, current.parent_id, "household", "household_id").copy()
    visit = current.copy()
    visit.data.update({VOIDED_AT: event["at"], "voided_by": event["device_id"],
                       "void_reason": event["data"]["reason"]})
    _stamp(visit, event, version, [])
    remaining = [v for v in children(household.id)
                 if v.type == "visit" and v.id != visit.id and not is_voided(v.data)]
    h = household.data
    h.update(visits=0, first_visit_at=None, last_visit_at=None, last_outcome=None, last_visit_id=None)
    h[COME_BACK] = None
    for other in remaining:
        _count_visit(household, other.id, other.data["at"], other.data["outcome"], other.data.get("come_back"))
    if version is not None:
        household.version = version
    return Outcome(household.hamlet_id, {visit.id: visit, household.id: household})


def _review_decided(event: Event, version: int | None, current: Entity, lookup: Lookup) -> Outcome:
    data = event["data"]
    if is_voided(current.data):
        raise InvalidEvent("voided", "this visit was taken back: there is nothing to review")
    if data["decision"] == "returned" and not data["comment"].strip():
        raise InvalidEvent("empty", "a returned visit needs a comment for the volunteer")
    visit = current.copy()
    visit.data.update(review=data["decision"], review_comment=data["comment"],
                      reviewed_by=event["device_id"], reviewed_at=event["at"])
    _stamp(visit, event, version, ["review"])
    return Outcome(visit.hamlet_id, {visit.id: visit})


def _assignment_set(event: Event, version: int | None, current: Entity, lookup: Lookup) -> Outcome:
    household = current.copy()
    household.data["assigned_to"] = event["data"]["device_id"]
    household.data["assigned_at"] = event["at"]  # campaign.assignments: when an assignment lapses
    _stamp(household, event, version, ["assigned_to"])
    return Outcome(household.hamlet_id, {household.id: household})


def _conflict_resolved(event: Event, version: int | None, current: Entity, lookup: Lookup) -> Outcome:
    name, value = event["data"]["field"], event["data"]["value"]
    fields = UPDATABLE.get(current.type, {})
    if name not in fields:
        raise InvalidEvent("bad_field", f"a {current.type} has no field {name!r} to settle")
    fields[name](name, value)
    if name == "hamlet_id":
        raise InvalidEvent("bad_field", "a move between hamlets is settled with household.updated")
    entity = current.copy()
    if current.type == "person" and name == "label":
        _check_label(value, _require(lookup, entity.parent_id, "household", "household_id"))
    _update_fields(entity, event, version, {name: value}, detect=False)
    if current.type == "hamlet" and entity.data.get("valid_to") and entity.data["valid_to"] < entity.data["valid_from"]:
        raise InvalidEvent("bad_date", "valid_to is before valid_from")
    if current.type == "person":
        if name == "vneid":
            _record_activation(entity, event["at"])
        _check_age_rules(entity, event["at"])
    return Outcome(entity.hamlet_id, {entity.id: entity}, resolved=[(entity.id, name)])


_APPLY: dict[str, Callable[..., Outcome]] = {
    "hamlet.created": _hamlet_created,
    "hamlet.updated": _hamlet_updated,
    "household.created": _household_created,
    "household.updated": _household_updated,
    "person.added": _person_added,
    "person.updated": _person_updated,
    "visit.recorded": _visit_recorded,
    "review.decided": _review_decided,
    "assignment.set": _assignment_set,
    "person.merged": _person_merged,
    "conflict.resolved": _conflict_resolved,
    **sessions.APPLY,
}
assert set(_APPLY) | {"visit.voided"} == set(KINDS)
