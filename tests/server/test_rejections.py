"""What a refused event reveals, and what it leaves on disk (issue #12: M1, M2, M3, L1, L2, L3 and
the hardening of labels, `base` and `schema`). SECURITY.md ("What a refusal reveals, what it
keeps") points here. Every test runs on both backends (the `server` fixture)."""
from __future__ import annotations

import re
from typing import Any

import pytest

from campaign.ids import uuid7

from ..support import household_data, person_data
from .reporting import YEAR, World, build_world, ok


@pytest.fixture(scope="module")
def world(server) -> World:  # type: ignore[no-untyped-def]
    return build_world(server, "rj")


def reasons(answer: Any) -> list[str]:
    return [q["reason"] for q in ok(answer)["quarantined"]]


def _rural_child(world: World, born: int) -> tuple[str, str]:
    """A household of Xã Thanh Hà (the other commune) with a child born in `born`: (household, child)."""
    household, child = uuid7(), uuid7()
    vb = world.volunteer_b  # holds the rural hamlet
    assert reasons(vb.push([vb.event("household.created", household, household_data(world.hamlet_rural)),
                            vb.event("person.added", child, person_data(household, "Bé Na", born, "none",
                                                                        "not_eligible"))])) == []
    return household, child


# ---- M1: scope first ----------------------------------------------------------------------

def test_a_birth_year_cannot_be_searched_for_through_the_time_of_an_update(world):
    """The red team's binary search: 8 pushes of person.updated {vneid: l2_pending} about a
    child of another commune, at 8 different times, used to answer too_young / out_of_range /
    forbidden depending on the child's age then. Now one answer, whatever the time."""
    _household, child = _rural_child(world, YEAR - 3)
    v = world.volunteer  # of Phường Hải Dương: cannot read Xã Thanh Hà
    answers = set()
    for year in range(YEAR - 6, YEAR + 2):
        answers.update(reasons(v.push([v.event("person.updated", child, {"vneid": "l2_pending"},
                                               at=f"{year}-06-01T09:00:00+07:00")])))
    assert len(answers) == 1, answers
    assert answers.pop().startswith("forbidden")


def test_out_of_scope_looks_the_same_whatever_exists_or_the_data(world):
    """exists / unknown_entity / unknown_household / a bad code / a name in a declined household:
    about an entity outside the caller's scope, all the same `forbidden`, word for word."""
    household, child = _rural_child(world, YEAR - 30)
    v = world.volunteer
    events = [
        v.event("person.updated", child, {"vneid": "l2_pending"}),  # exists, out of scope
        v.event("person.updated", uuid7(), {"vneid": "l2_pending"}),  # exists nowhere
        v.event("person.updated", child, {"vneid": "not-a-code"}),  # out of scope and invalid
        v.event("person.added", child, person_data(household)),  # "exists" would say it does
        v.event("person.added", uuid7(), person_data(household)),  # into another commune's household
        v.event("person.added", uuid7(), person_data(uuid7())),  # into no household at all
        v.event("household.created", household, household_data(world.hamlet_a)),  # its id is taken
        v.event("household.updated", household, {"address": "x" * 500}),
        v.event("visit.recorded", uuid7(), {"household_id": household, "outcome": "met", "actions": [],
                                           "people_helped": [], "note": ""}),
    ]
    got = reasons(v.push(events))
    assert len(got) == len(events) and len(set(got)) == 1, got
    assert got[0].startswith("forbidden")


def test_a_move_into_a_closed_hamlet_outside_the_scope_says_nothing_of_it(world):
    """hamlet_closed would name the other hamlet and its closing day."""
    admin, v = world.admin, world.volunteer
    closed = uuid7()
    assert reasons(admin.push([admin.event("hamlet.created", closed, {
        "commune": "10813", "name": "Thôn Đã Đóng", "kind": "thon", "valid_from": "2025-07-01",
        "valid_to": "2025-07-02"})])) == []
    household = world.households["h1"]
    got = reasons(v.push([v.event("household.updated", household, {"hamlet_id": closed})]))
    assert got == reasons(v.push([v.event("household.updated", household, {"hamlet_id": uuid7()})]))
    assert got[0].startswith("forbidden") and "Đóng" not in got[0]


def test_declining_says_no_count_of_the_people_still_named(world):
    v = world.volunteer
    household = uuid7()
    assert reasons(v.push([v.event("household.created", household, household_data(world.hamlet_a)),
                           v.event("person.added", uuid7(), person_data(household, "Ông Một")),
                           v.event("person.added", uuid7(), person_data(household, "Bà Hai")),
                           v.event("person.added", uuid7(), person_data(household, "Cô Ba"))])) == []
    got = reasons(v.push([v.event("household.updated", household, {"consent": "declined"})]))
    assert got[0].startswith("consent_declined"), got
    assert not re.search(r"[0-9]", re.sub(r"Người [0-9]", "", got[0])), got  # no count of anyone
