"""The server's follow-up lists (and the walk sheet's needs) drop the people a capture booking
takes care of: the cases of tests/followup_cases.py, the same the phone is tested with
(tests/test_store_followup_bookings.py). Both backends."""
from __future__ import annotations

from ..followup_cases import CASES, COMMUNE, world
from .reporting import ok

LISTS = {"card_capture": "card_capture", "level2": "l2", "activation": "activation", "home_capture": "home_capture"}


def test_the_servers_lists_drop_the_people_a_booking_takes_care_of(server) -> None:  # type: ignore[no-untyped-def]
    admin = server.enroll("admin")
    made = world()
    answer = ok(admin.push([admin.event(kind, entity, data) for kind, entity, data in made.changes]))
    assert answer["quarantined"] == []
    officer = server.enroll("officer", commune=COMMUNE)
    listed: dict[str, set[str]] = {}
    for wire, need in LISTS.items():
        for row in ok(officer.get("/api/v1/followup", commune=COMMUNE, list=wire, limit=1000))["rows"]:
            listed.setdefault(row["person_id"], set()).add(need)
    counts = ok(officer.get("/api/v1/followup/counts", commune=COMMUNE))
    for case in CASES:
        assert listed.get(made.people[case.name], set()) == case.needs, case.name
    tiles = counts.get("counts", counts)
    assert tiles["card_capture"] == sum("card_capture" in c.needs for c in CASES)
    assert tiles["home_capture"] == sum("home_capture" in c.needs for c in CASES)
