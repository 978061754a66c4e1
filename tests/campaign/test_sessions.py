"""Capture sessions and bookings (campaign.sessions): the wire's session.* and booking.* kinds."""
from __future__ import annotations

import pytest

from campaign import events as ev
from campaign.events import InvalidEvent
from campaign.roles import may_set_booking, may_write
from campaign.sessions import hold_order, overbooked, person_of
from campaign.totals import NO_DAY, contribution, recount

from .conftest import Device, event, session_data


def test_a_session_is_made_with_every_field_and_is_not_cancelled(world):
    session = world.session()
    assert world[session].type == "session" and world[session].hamlet_id is None
    assert world[session].data["cancelled"] is False and world[session].data["capacity"] == 2


@pytest.mark.parametrize("over,code", [
    ({"capacity": 0}, "out_of_range"), ({"capacity": 501}, "out_of_range"), ({"capacity": True}, "bad_type"),
    ({"kind": "party"}, "bad_code"), ({"starts_at": "2026-12-05T08:00:00"}, "bad_time"),
    ({"place": "x" * 121}, "too_long"), ({"commune": "99999"}, "unknown_commune"),
])
def test_a_session_outside_its_rules_is_refused(over, code):
    with pytest.raises(InvalidEvent) as refused:
        ev.check_event(event("session.created", data=session_data(**over)))
    assert refused.value.code == code


def test_a_session_ends_after_it_starts(world):
    with pytest.raises(InvalidEvent, match="ends after"):
        world.session(ends_at="2026-12-05T07:00:00+07:00")
    session = world.session()
    with pytest.raises(InvalidEvent, match="ends after"):
        world.apply(world.admin.event("session.updated", session, {"starts_at": "2026-12-05T12:00:00+07:00"}))


def test_a_session_is_cancelled_by_an_update(world):
    session = world.session()
    world.apply(world.admin.event("session.updated", session, {"cancelled": True, "place": "Trụ sở công an"}))
    assert world[session].data["cancelled"] is True and world[session].data["place"] == "Trụ sở công an"


def test_a_booking_lives_in_its_persons_hamlet_under_its_session(world):
    hamlet = world.hamlet()
    person = world.person(world.household(hamlet))
    session = world.session()
    booking = world.book(session, person)
    assert (world[booking].hamlet_id, world[booking].parent_id) == (hamlet, session)
    assert world[booking].data["status"] == "booked"


def test_a_booking_needs_a_known_session_and_person_of_that_commune(world):
    person = world.person()
    with pytest.raises(InvalidEvent) as refused:
        world.book(world.person(), person)  # a person is not a session
    assert refused.value.code == "unknown_session"
    with pytest.raises(InvalidEvent) as refused:
        world.book(world.session(), world.session())
    assert refused.value.code == "unknown_person"
    with pytest.raises(InvalidEvent) as refused:
        world.book(world.session(commune="00004"), person)  # Ba Đình, Hà Nội
    assert refused.value.code == "bad_booking"


def test_bookings_past_capacity_are_held_in_cursor_order_and_marked_overbooked(world):
    session = world.session(capacity=2)
    people = [world.person() for _ in range(4)]
    bookings = [world.book(session, p) for p in people]  # never refused
    mine = [world[b] for b in bookings]
    assert overbooked(2, mine) == {bookings[2], bookings[3]}
    world.apply(world.admin.event("booking.updated", bookings[0], {"status": "cancelled"}))
    assert overbooked(2, [world[b] for b in bookings]) == {bookings[3]}  # a cancelled booking frees its place
    assert [b.id for b in hold_order(reversed([world[b] for b in bookings]))] == bookings


def test_a_booking_pending_on_a_phone_holds_after_the_servers():
    from campaign.entity import Entity
    held = Entity("b", "booking", "h", "s", {"status": "booked", "made_at": "2026-12-01T08:00:00+07:00"},
                  meta={"session_id": [7, "p", "e"]})
    pending = Entity("a", "booking", "h", "s", {"status": "booked", "made_at": "2026-11-01T08:00:00+07:00"},
                     meta={"session_id": [None, "p", "e"]})
    assert [b.id for b in hold_order([pending, held])] == ["b", "a"]
    assert overbooked(1, [pending, held]) == {"a"}


def test_a_merged_persons_booking_counts_for_the_one_kept(world):
    household = world.household()
    kept, duplicate = world.person(household), world.person(household)
    booking = world.book(world.session(), duplicate)
    world.apply(world.admin.event("person.merged", duplicate, {"into": kept}))
    assert person_of(world[booking].data, world.entities.get) == kept
    with pytest.raises(InvalidEvent) as refused:
        world.book(world.session(), duplicate)
    assert refused.value.code == "merged"


def test_bookings_count_by_status_in_their_hamlet_and_sessions_count_nothing(world):
    hamlet = world.hamlet()
    person = world.person(world.household(hamlet))
    session = world.session()
    booking = world.book(session, person)
    assert contribution(world[session]) == {}
    assert contribution(world[booking]) == {(NO_DAY, "booking:booked"): 1}
    world.apply(world.admin.event("booking.updated", booking, {"status": "no_show"}))
    assert recount([world[booking]]) == {(hamlet, NO_DAY, "booking:no_show"): 1}
    assert world.running_totals() == recount(world.entities.values())


def test_sessions_are_for_officers_and_admins_attendance_for_leaders_too():
    for kind in ("session.created", "session.updated"):
        assert [r for r in ("volunteer", "leader", "officer", "admin") if may_write(r, kind)] == ["officer", "admin"]
    for kind in ("booking.made", "booking.updated"):
        assert all(may_write(r, kind) for r in ("volunteer", "leader", "officer", "admin"))
    assert [r for r in ("volunteer", "leader", "officer", "admin") if may_set_booking(r, "attended")] == \
        ["leader", "officer", "admin"]
    assert not may_set_booking("volunteer", "no_show") and may_set_booking("volunteer", "cancelled")
    assert not may_set_booking("guest", "booked")


def test_a_phone_books_offline_and_the_booking_lands_like_any_other(world):
    phone = Device("phone-a")
    person = world.person()
    session = world.session()
    pending = world.apply(phone.event("booking.made", data={"session_id": session, "person_id": person}),
                          pending=True)
    booking = next(iter(pending.changed.values()))
    assert booking.version is None and overbooked(2, [booking]) == set()


def test_a_held_booking_takes_a_person_off_the_home_capture_list_until_a_no_show():
    from campaign.followup import needs, scheduled
    person = {"presence": "home", "birth_year": 1940, "card": "none", "vneid": "no_app", "blockers": ["cannot_travel"]}
    session = {"cancelled": False}
    assert "home_capture" in needs(person, 2026)
    assert "home_capture" not in needs(person, 2026, scheduled=scheduled({"status": "booked"}, session))
    for status in ("no_show", "cancelled"):
        assert "home_capture" in needs(person, 2026, scheduled=scheduled({"status": status}, session))
    assert not scheduled({"status": "booked"}, {"cancelled": True}) and not scheduled({"status": "booked"}, None)
