"""The phone's follow-up (the households list's "Cần theo dõi" filter, the household's and the
person's needs) drops the people a capture booking takes care of, as the server's lists do:
the cases of tests/followup_cases.py (the server's side: tests/server/test_followup_bookings.py)."""
from __future__ import annotations

from pathlib import Path

from campaign.followup import FOLLOW_UP

from .followup_cases import CASES, world
from .test_store import open_store


def test_the_phones_follow_up_drops_the_people_a_booking_takes_care_of(tmp_path: Path) -> None:
    store = open_store(tmp_path / "a")
    made = world()
    for kind, entity, data in made.changes:
        store.writer.record(kind, entity, data)
    on_list = {r.id for r in store.households_search(made.hamlet, filter="follow_up", limit=100).rows}
    for case in CASES:
        phone = set(FOLLOW_UP) & case.needs  # the phone lists the FOLLOW_UP needs (no home-capture list)
        person = store.person(made.people[case.name])
        assert person is not None and set(person.follow_up) == phone, case.name
        assert {p.id: set(p.follow_up) for p in store.people(made.households[case.name])} == \
            {made.people[case.name]: phone}, case.name
        household = store.household(made.households[case.name])
        assert household is not None and set(household.follow_up) == phone, case.name
        assert (made.households[case.name] in on_list) is bool(phone), case.name
    store.close()


def test_a_no_show_recorded_later_puts_the_household_back_on_the_filter(tmp_path: Path) -> None:
    """The list's summaries are cached: a booking changing (no household's child) must show."""
    store = open_store(tmp_path / "a")
    made = world()
    for kind, entity, data in made.changes:
        store.writer.record(kind, entity, data)
    booked = made.households["booked"]
    assert booked not in {r.id for r in store.households_search(made.hamlet, filter="follow_up", limit=100).rows}
    booking = next(b.id for b in store.bookings_of(made.people["booked"]))
    store.writer.record("booking.updated", booking, {"status": "no_show"})
    assert booked in {r.id for r in store.households_search(made.hamlet, filter="follow_up", limit=100).rows}
    store.close()
