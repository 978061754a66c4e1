"""Come back later (issue #13, item 4): visit.recorded's optional `come_back`, only with a
not-home visit; the household keeps its latest visit's; the revisit list's order and the
totals by window."""
from __future__ import annotations

import pytest

from campaign import followup as rules
from campaign.events import InvalidEvent, check_event
from campaign.totals import NO_DAY, contribution

from .conftest import event

EVENING = {"window": "evening", "on": None}


def test_an_old_phone_sends_no_come_back_and_a_new_one_may(world):
    household = world.household()
    world.visit(household, outcome="not_home", actions=[])  # as before: no field at all
    assert rules.come_back_of(world[household].data) is None
    world.visit(household, outcome="not_home", actions=[], come_back={"window": "weekend", "on": "2026-12-06"},
                at="2026-11-28T10:00:00+07:00")
    assert rules.come_back_of(world[household].data) == {"window": "weekend", "on": "2026-12-06"}


@pytest.mark.parametrize("outcome", ["met", "refused", "moved"])
def test_only_a_not_home_visit_says_when_to_come_back(world, outcome):
    household = world.household()
    actions = [] if outcome == "moved" else ["explained"]
    with pytest.raises(InvalidEvent) as refused:
        world.visit(household, outcome=outcome, actions=actions, come_back=EVENING)
    assert refused.value.code == "bad_visit"


@pytest.mark.parametrize("bad", [None, "evening", {"window": "night", "on": None}, {"window": "evening"},
                                 {"window": "evening", "on": "6/12/2026"},
                                 {"window": "evening", "on": None, "note": "x"}])
def test_a_come_back_of_the_wrong_shape_is_refused(world, bad):
    household = world.household()
    with pytest.raises(InvalidEvent):
        world.visit(household, outcome="not_home", actions=[], come_back=bad)


def test_the_latest_visit_decides_and_a_later_met_visit_clears_it(world):
    household = world.household()
    world.visit(household, outcome="not_home", actions=[], come_back=EVENING, at="2026-11-27T10:00:00+07:00")
    assert contribution(world[household])[(NO_DAY, "revisit:evening")] == 1
    world.visit(household, outcome="met", at="2026-11-28T10:00:00+07:00")
    assert rules.come_back_of(world[household].data) is None
    assert contribution(world[household])[(NO_DAY, "revisit:evening")] == 0


def test_voiding_the_latest_visit_brings_back_the_one_before(world):
    household = world.household()
    world.visit(household, outcome="not_home", actions=[], come_back=EVENING, at="2026-11-27T10:00:00+07:00")
    later = world.visit(household, outcome="not_home", actions=[], come_back={"window": "morning", "on": None},
                        at="2026-11-28T10:00:00+07:00")
    assert rules.come_back_of(world[household].data)["window"] == "morning"
    world.apply(event("visit.voided", later, {"reason": "Ghi nhầm hộ"}))
    assert rules.come_back_of(world[household].data) == EVENING


def test_the_revisit_order_dated_first_then_by_window_then_those_that_said_nothing():
    def h(come_back):  # type: ignore[no-untyped-def]
        return {"last_outcome": "not_home", "last_come_back": come_back}
    households = {"none": h(None), "any": h({"window": "any", "on": None}),
                  "evening": h({"window": "evening", "on": None}), "morning": h({"window": "morning", "on": None}),
                  "late": h({"window": "morning", "on": "2026-12-09"}), "soon": h({"window": "evening", "on": "2026-12-05"})}
    ordered = sorted(households, key=lambda k: rules.revisit_order(households[k]))
    assert ordered == ["soon", "late", "morning", "evening", "any", "none"]


def test_the_field_is_checked_without_state():
    from campaign.ids import uuid7

    from .conftest import visit_data
    ok = {"schema": 1, "id": uuid7(), "device_id": "phone-a", "seq": 1, "kind": "visit.recorded",
          "entity": uuid7(), "at": "2026-11-27T10:00:00+07:00", "base": None,
          "data": visit_data(uuid7(), outcome="not_home", actions=[], come_back=EVENING)}
    check_event(ok)
