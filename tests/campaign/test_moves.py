"""A household that moves between hamlets takes its people and visits along (campaign/projection.py)."""
from campaign.projection import apply

from .conftest import World, event


def moved_world() -> tuple[World, str, str, str, str, str]:
    """Tổ 1's household with a person and a visit, and an empty Tổ 2."""
    world = World()
    old, new = world.hamlet(name="Tổ dân phố 1"), world.hamlet(name="Tổ dân phố 2")
    household = world.household(old)
    person = world.person(household)
    visit = world.visit(household, people_helped=[person])
    return world, old, new, household, person, visit


def test_a_move_carries_the_households_people_and_visits_to_the_new_hamlet():
    world, old, new, household, person, visit = moved_world()
    outcome = world.apply(event("household.updated", household, {"hamlet_id": new}))
    assert outcome.moved == (household, old, new)
    assert set(outcome.changed) == {household, person, visit}
    assert {e.hamlet_id for e in outcome.changed.values()} == {new}


def test_the_carried_children_are_copies_as_they_stand_with_only_the_hamlet_changed():
    world, _old, new, household, person, visit = moved_world()
    before = {i: world[i] for i in (person, visit)}
    outcome = world.apply(event("household.updated", household, {"hamlet_id": new}))
    for child_id, was in before.items():
        carried = outcome.changed[child_id]
        assert carried is not was
        assert (carried.type, carried.parent_id, carried.data, carried.version, carried.meta) == \
            (was.type, was.parent_id, was.data, was.version, was.meta)
        assert carried.hamlet_id == new


def test_carrying_leaves_the_looked_up_children_untouched():
    world, old, new, household, person, visit = moved_world()
    apply(event("household.updated", household, {"hamlet_id": new}), 99, world.entities.get, world.children)
    assert world[person].hamlet_id == world[visit].hamlet_id == old


def test_a_move_back_carries_the_children_home():
    world, old, new, household, person, visit = moved_world()
    world.apply(event("household.updated", household, {"hamlet_id": new}))
    outcome = world.apply(event("household.updated", household, {"hamlet_id": old}))
    assert outcome.moved == (household, new, old)
    assert {e.hamlet_id for e in outcome.changed.values()} == {old}
    assert {world[i].hamlet_id for i in (household, person, visit)} == {old}


def test_the_totals_follow_the_carried_children():
    world, _old, new, household, _person, _visit = moved_world()
    world.apply(event("household.updated", household, {"hamlet_id": new}))
    counted = {hamlet for hamlet, _day, _metric in world.running_totals()}
    assert counted == {new}


def test_a_move_without_a_children_lookup_changes_only_the_household():
    world, old, new, household, _person, _visit = moved_world()
    outcome = apply(event("household.updated", household, {"hamlet_id": new}), 99, world.entities.get)
    assert outcome.moved == (household, old, new)
    assert set(outcome.changed) == {household}


def test_an_update_that_does_not_move_carries_nothing():
    world, old, _new, household, _person, _visit = moved_world()
    outcome = world.apply(event("household.updated", household, {"hamlet_id": old, "address": "Số 14"}))
    assert outcome.moved is None
    assert set(outcome.changed) == {household}


def test_a_household_without_people_or_visits_moves_alone():
    world = World()
    old, new = world.hamlet(), world.hamlet()
    household = world.household(old)
    outcome = world.apply(event("household.updated", household, {"hamlet_id": new}))
    assert set(outcome.changed) == {household}
