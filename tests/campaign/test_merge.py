"""person.merged (docs/rules.md section 9): a leader or officer folds a person recorded twice
into one. The duplicate leaves every total and list at once (the people count drops by one);
later events about it are refused `merged`; the totals kept event by event equal a recount,
over random duplicate-and-merge histories too."""
from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaign import children, duplicates, followup, guides
from campaign.events import InvalidEvent
from campaign.projection import is_merged
from campaign.totals import NO_DAY, recount

from .conftest import HAI_DUONG, World, event

YEAR = 2026


def people_count(world: World) -> int:
    return sum(n for (_h, day, metric), n in recount(world.entities.values()).items()
               if metric == "people" and day == NO_DAY)


def test_the_duplicate_leaves_every_total_and_list_at_once(world: World) -> None:
    home = world.household()
    keep = world.person(home, label="Trần Văn Bình", birth_year=1970, vneid="no_app", card="none")
    dup = world.person(home, label="tran van binh", birth_year=1971, vneid="no_app", card="none")
    world.apply(event("person.updated", dup, {"blockers": ["sim_not_own"]}))
    assert people_count(world) == 2
    assert followup.follow_up(world[dup].data, YEAR) == ["card_capture", "l2"]
    assert duplicates.pairs((i, e.data) for i, e in world.entities.items() if e.type == "person") == \
        sorted([(keep, dup)])
    world.apply(event("person.merged", dup, {"into": keep}, device_id="leader-1"))
    assert is_merged(world[dup].data) and world[dup].data["merged_by"] == "leader-1"
    assert people_count(world) == 1
    counts = recount(world.entities.values())
    assert not any(metric.startswith(("card:", "vneid:", "blocker:", "presence:")) and n > 1
                   for (_h, _d, metric), n in counts.items())
    assert ("card:none" in {m for (_h, _d, m) in counts})  # the one kept still counts
    assert followup.follow_up(world[dup].data, YEAR) == []
    assert guides.progress([(dup, world[dup].data)], {})["sim_not_own"].open == 0
    assert duplicates.pairs((i, e.data) for i, e in world.entities.items() if e.type == "person") == []
    assert world.running_totals() == recount(world.entities.values())


def test_later_events_about_the_duplicate_are_refused_merged(world: World) -> None:
    home = world.household()
    keep, dup = world.person(home), world.person(home)
    world.apply(event("person.merged", dup, {"into": keep}))
    for later in (event("person.updated", dup, {"card": "none"}),
                  event("person.merged", dup, {"into": keep}),
                  event("conflict.resolved", dup, {"field": "card", "value": "none"}),
                  event("visit.recorded", data={"household_id": home, "outcome": "met", "actions": ["explained"],
                                                "people_helped": [dup], "note": ""})):
        with pytest.raises(InvalidEvent) as refused:
            world.apply(later)
        assert refused.value.code == "merged", later["kind"]
    with pytest.raises(InvalidEvent) as refused:  # nor may anyone be merged into the duplicate
        world.apply(event("person.merged", world.person(home), {"into": dup}))
    assert refused.value.code == "merged"


def test_a_merge_needs_another_person_of_the_same_commune(world: World) -> None:
    home = world.household()
    a = world.person(home)
    elsewhere = world.person(world.household(world.hamlet(commune="00004")))
    for into, code in ((a, "bad_merge"), (home, "bad_merge"), (elsewhere, "bad_merge")):
        with pytest.raises(InvalidEvent) as refused:
            world.apply(event("person.merged", a, {"into": into}))
        assert refused.value.code == code
    # another hamlet of the same commune is fine: two households, one person recorded in each
    other = world.person(world.household(world.hamlet(commune=HAI_DUONG)))
    world.apply(event("person.merged", other, {"into": a}))
    assert world[other].data["merged_into"] == a


def test_a_merged_child_and_parent_leave_the_children_panel(world: World) -> None:
    home = world.household()
    mum = world.person(home, birth_year=1990, vneid="l2_active")
    kid = world.person(home, label="Bé Na", birth_year=2022, vneid="unknown", card="none")
    twin = world.person(home, label="Bé Na", birth_year=2022, vneid="unknown", card="none")
    world.apply(event("person.merged", twin, {"into": kid}))
    people = [(i, e.data) for i, e in world.entities.items() if e.type == "person"]
    assert [(c.person_id, c.parents) for c in children.household(people, YEAR)] == [(kid, (mum,))]


# ---- random histories: totals kept by delta equal a recount, and the people count drops by one per merge

@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 5), st.sampled_from(["add", "dup", "update", "merge", "visit"]),
                          st.integers(0, 5), st.sampled_from(["none", "cccd_chip", "can_cuoc"]),
                          st.sampled_from(["home", "moved", "abroad"])), min_size=1, max_size=25))
def test_random_duplicate_and_merge_histories_keep_the_totals_equal_to_a_recount(steps) -> None:  # type: ignore[no-untyped-def]
    world = World()
    homes = [world.household(), world.household()]
    people: list[str] = []
    merged: set[str] = set()
    for n, (i, action, j, card, presence) in enumerate(steps):
        home = homes[i % 2]
        try:
            if action == "add" or not people:
                people.append(world.person(home, label=f"Người thứ {i}", birth_year=1960 + i, card=card,
                                           presence=presence))
            elif action == "dup":
                src = world[people[i % len(people)]]
                people.append(world.person(src.parent_id, label=src.data["label"],
                                           birth_year=src.data["birth_year"] + (j % 2), card=card))
            elif action == "update":
                world.apply(event("person.updated", people[i % len(people)], {"card": card, "presence": presence}))
            elif action == "merge":
                before = people_count(world)
                dup, into = people[i % len(people)], people[j % len(people)]
                living = world[dup].data["presence"] in ("home", "away_work_study", "abroad")
                world.apply(event("person.merged", dup, {"into": into}))
                merged.add(dup)
                assert people_count(world) == before - (1 if living else 0)
            else:
                helped = [p for p in people if world[p].parent_id == home and p not in merged][:2]
                world.visit(home, people_helped=helped, at=f"2026-11-{10 + n % 18:02d}T09:00:00+07:00")
        except InvalidEvent as refused:
            assert refused.code in ("merged", "bad_merge"), refused
        assert world.running_totals() == recount(world.entities.values())
    assert {p for p in people if is_merged(world[p].data)} == merged
    living = Counter(world[p].data["presence"] for p in people if p not in merged)
    assert people_count(world) == sum(n for pres, n in living.items() if pres != "moved")
