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


def test_a_dated_come_back_is_not_before_the_visit_nor_more_than_the_bound_after_it(world):
    """Seen to fail with the check taken out of projection._visit_recorded."""
    from datetime import date, timedelta

    from campaign import come_back as day_rules
    household = world.household()
    at = "2026-11-28T23:30:00+07:00"  # late at night in Vietnam: the visit's day is the 28th
    for on in ("2026-11-27", (date(2026, 11, 28) + timedelta(days=day_rules.MAX_DAYS_AHEAD + 1)).isoformat()):
        with pytest.raises(InvalidEvent) as refused:
            world.visit(household, outcome="not_home", actions=[], come_back={"window": "any", "on": on}, at=at)
        assert refused.value.code == "bad_date"
    assert rules.come_back_of(world[household].data) is None  # nothing applied
    world.visit(household, outcome="not_home", actions=[], come_back={"window": "any", "on": "2026-11-28"}, at=at)
    # the visit's day is Vietnam's: 16:30 UTC on the 28th is already the 29th there
    with pytest.raises(InvalidEvent):
        world.visit(household, outcome="not_home", actions=[], come_back={"window": "any", "on": "2026-11-28"},
                    at="2026-11-28T17:30:00+00:00")
    assert day_rules.latest_date(date(2026, 11, 28)) == date(2026, 11, 28) + timedelta(days=day_rules.MAX_DAYS_AHEAD)


def test_a_days_come_backs_which_and_in_what_order():
    from datetime import date

    from campaign import come_back as day_rules
    friday, saturday = date(2026, 12, 4), date(2026, 12, 5)
    come_backs = {
        "evening": {"window": "evening", "on": None},
        "morning": {"window": "morning", "on": None},
        "weekend": {"window": "weekend", "on": None},
        "any": {"window": "any", "on": None},
        "evening today": {"window": "evening", "on": "2026-12-04"},
        "morning overdue": {"window": "morning", "on": "2026-12-01"},
        "midday tomorrow": {"window": "midday", "on": "2026-12-05"},
        "midday": {"window": "midday", "on": None},
    }
    def day(d: date) -> list[str]:
        due = [k for k, c in come_backs.items() if day_rules.due_on(c, d)]
        return sorted(due, key=lambda k: day_rules.day_order(come_backs[k]))
    assert day(friday) == ["morning overdue", "morning", "midday", "evening today", "evening", "any"]
    assert day(saturday) == ["morning overdue", "morning", "midday tomorrow", "midday", "evening today",
                             "evening", "weekend", "any"]
    assert day_rules.on_date({"window": "any", "on": "nonsense"}) is None
