"""Capture sessions and their bookings: the projection of session.* and booking.* events,
and who is past a session's capacity.

A session (entity type "session") belongs to a commune, not a hamlet: its hamlet_id is
None and its data carries `commune`. A mobile_capture session is at a hall on a date; a
home_capture one is a round of people's homes. A booking (type "booking") lives where its
person lives (hamlet_id: the person's hamlet, so whoever may change the person may book
them) and under its session (parent_id: the session id, so the roster is one lookup).

A phone offline cannot know a session is full, so a booking is never refused for capacity:
bookings hold in the order the server received them (the cursor of their booking.made) and
those past `capacity` are overbooked (`overbooked`), for a leader or officer to move. A
cancelled booking holds no place.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .entity import Entity, Event, Lookup, Outcome, require, stamp
from .events import InvalidEvent, parse_at

HOLDING = frozenset({"booked", "attended", "no_show"})  # statuses that take a place in the session
ATTENDANCE = frozenset({"attended", "no_show"})  # recorded by officers and leaders (campaign.roles)
MERGED_INTO = "merged_into"  # a person's derived field (projection.MERGED_INTO)


def _check_times(session: dict[str, Any]) -> None:
    if parse_at(session["ends_at"]) <= parse_at(session["starts_at"]):
        raise InvalidEvent("bad_time", "a session ends after it starts")


def session_created(event: Event, version: int | None, current: None, lookup: Lookup) -> Outcome:
    data = event["data"]
    session = Entity(event["entity"], "session", None, None, {**data, "cancelled": False})
    _check_times(session.data)
    stamp(session, event, version, list(data))
    return Outcome(None, {session.id: session})


def session_updated(event: Event, version: int | None, current: Entity, lookup: Lookup) -> Outcome:
    session = current.copy()
    session.data.update(event["data"])
    _check_times(session.data)
    stamp(session, event, version, list(event["data"]))
    return Outcome(None, {session.id: session})


def booking_made(event: Event, version: int | None, current: None, lookup: Lookup) -> Outcome:
    data = event["data"]
    session = require(lookup, data["session_id"], "session", "session_id")
    person = require(lookup, data["person_id"], "person", "person_id")
    if person.data.get(MERGED_INTO):
        raise InvalidEvent("merged", f"person {person.id} was merged into {person.data[MERGED_INTO]}")
    hamlet = lookup(person.hamlet_id) if person.hamlet_id else None
    if hamlet is None or hamlet.data.get("commune") != session.data["commune"]:
        raise InvalidEvent("bad_booking", "a person is booked into a session of their own commune")
    booking = Entity(event["entity"], "booking", person.hamlet_id, session.id, {
        **data, "status": "booked", "made_at": event["at"], "made_by": event["device_id"]})
    stamp(booking, event, version, list(data))
    return Outcome(booking.hamlet_id, {booking.id: booking})


def booking_updated(event: Event, version: int | None, current: Entity, lookup: Lookup) -> Outcome:
    booking = current.copy()
    booking.data["status"] = event["data"]["status"]
    stamp(booking, event, version, ["status"])
    return Outcome(booking.hamlet_id, {booking.id: booking})


APPLY: dict[str, Callable[..., Outcome]] = {"session.created": session_created, "session.updated": session_updated,
         "booking.made": booking_made, "booking.updated": booking_updated}
CREATES = frozenset({"session.created", "booking.made"})


def made_cursor(booking: Entity) -> int | None:
    """The server cursor of the booking's booking.made (None while pending on a phone)."""
    seen = booking.meta.get("session_id")
    return seen[0] if seen else None


def hold_order(bookings: Iterable[Entity]) -> list[Entity]:
    """Bookings in the order they hold places: by the cursor of their booking.made, those still
    pending on a phone last (by the time they were made, then id: every device sorts alike)."""
    def key(b: Entity) -> tuple[int, int, str, str]:
        cursor = made_cursor(b)
        return (0 if cursor is not None else 1, cursor or 0, str(b.data.get("made_at", "")), b.id)
    return sorted(bookings, key=key)


def overbooked(capacity: int, bookings: Iterable[Entity]) -> set[str]:
    """The ids of the bookings past `capacity`: the holding ones (HOLDING) after the first
    `capacity` of them in hold order. A cancelled booking holds nothing and is never overbooked."""
    holding = [b for b in hold_order(bookings) if b.data.get("status") in HOLDING]
    return {b.id for b in holding[capacity:]}


def person_of(booking: dict[str, Any], lookup: Lookup) -> str:
    """The person a booking counts for: a duplicate merged into another counts for that one."""
    person_id = str(booking["person_id"])
    seen: set[str] = set()
    while person_id not in seen:
        seen.add(person_id)
        person = lookup(person_id)
        if person is None or not person.data.get(MERGED_INTO):
            break
        person_id = str(person.data[MERGED_INTO])
    return person_id
