"""Walk lists: an assignment lapses back to the pool; a hamlet cut into parts; the short code."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaign.assignments import BadHouseNumber, holder, house_bound, house_range, in_range, lapsed, split, way_key
from campaign.ids import normal_code, short_code, uuid7
from campaign.order import address_parts
from campaign.time import VIETNAM

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=VIETNAM)


def _household(assigned_at: datetime, last_visit: datetime | None = None) -> dict:
    return {"assigned_to": "phone-a", "assigned_at": assigned_at.isoformat(),
            "last_visit_at": last_visit.isoformat() if last_visit else None}


def test_an_assignment_not_worked_for_the_lapse_days_returns_to_the_pool():
    fresh = _household(NOW - timedelta(days=5))
    assert holder(fresh, NOW) == "phone-a" and not lapsed(fresh, NOW)
    old = _household(NOW - timedelta(days=5, minutes=1))
    assert holder(old, NOW) is None and lapsed(old, NOW)
    assert holder(old, NOW, lapse_days=6) == "phone-a"  # the team's setting


def test_a_visit_after_the_assignment_keeps_it():
    worked = _household(NOW - timedelta(days=9), last_visit=NOW - timedelta(days=1))
    assert holder(worked, NOW) == "phone-a"


def test_nobody_assigned_is_never_lapsed():
    assert not lapsed({"assigned_to": None, "assigned_at": "2020-01-01T00:00:00+07:00"}, NOW)
    assert holder({"assigned_to": None}, NOW) is None


def test_a_hamlet_split_in_parts_of_about_equal_work_each_contiguous():
    work = [(f"h{i}", 1) for i in range(10)]
    parts = split(work, 3)
    assert [len(p) for p in parts] in ([4, 3, 3], [3, 4, 3], [3, 3, 4])
    assert [h for p in parts for h in p] == [h for h, _w in work]  # walking order kept
    assert split([("a", 1), ("b", 1)], 3) == [["a"], ["b"], []]
    heavy = split([("a", 6), ("b", 1), ("c", 1), ("d", 1), ("e", 1), ("f", 1), ("g", 1)], 2)
    assert heavy == [["a"], ["b", "c", "d", "e", "f", "g"]]


@given(st.lists(st.integers(1, 5), max_size=60), st.integers(1, 8))
def test_split_keeps_every_household_once_in_order_and_no_part_carries_much_more(weights, parts):
    work = [(f"h{i}", w) for i, w in enumerate(weights)]
    out = split(work, parts)
    assert len(out) == parts
    assert [h for p in out for h in p] == [h for h, _w in work]
    if len(work) >= parts:
        assert all(out)
        weight = dict(work)
        share = sum(weights) / parts
        assert max(sum(weight[h] for h in p) for p in out) <= share + max(weights)


def test_the_short_code_is_stable_and_forgiving_to_type():
    household = uuid7()
    code = short_code(household)
    assert code == short_code(household) and len(code) == 5
    assert not set(code) & set("ILOU")
    assert normal_code(code.lower().replace("0", "o").replace("1", "l")) == code
    assert normal_code(f" {code[:2]}-{code[2:]} ") == code


# ---- a run of house numbers on one way (issue #13, item 2) ---------------------------------

@pytest.mark.parametrize(("typed", "bound"), [
    ("12", (12, "")), ("Số 12A", (12, "a")), ("số nhà 12 a", (12, "a")), ("SỐ 12a", (12, "a")),
    ("nhà số 7", (7, "")), ("12/3", (12, "")), ("Số12B", (12, "b")), (" 40. ", (40, "")),
])
def test_a_bound_is_read_as_people_type_it(typed, bound):
    assert house_bound(typed) == bound


@pytest.mark.parametrize("typed", ["", "mười hai", "12AB", "A12", "ngõ 5", "12-14", "số"])
def test_a_bound_that_is_no_house_number_is_refused(typed):
    with pytest.raises(BadHouseNumber) as refused:
        house_bound(typed)
    assert refused.value.text == typed


LE_LOI = way_key("Số 1, phố Lê Lợi")


@pytest.mark.parametrize(("address", "inside"), [
    ("Số 12, phố Lê Lợi", True),
    ("số 12A phố Lê Lợi", True),  # a plot split: 12's
    ("12/3 Lê Lợi", True),  # the alley off number 12 (the southern way of writing it) is 12's
    ("Số 20B, đường Lê Lợi", True),  # "phố", "đường" or nothing: the same street
    ("Số 20, phố Lê Lợi", True),
    ("Số 21, phố Lê Lợi", False),
    ("Số 10, phố Lê Lợi", False),
    ("Số 14, ngõ 5, phố Lê Lợi", False),  # house 14 of ngõ 5, not of the street
    ("Số 14 ngõ 5 hẻm 3 phố Lê Lợi", False),
    ("Nhà ông Đặng Văn Long, phố Lê Lợi", False),  # no number: in no run
    ("Số 14, phố Trần Phú", False),
])
def test_a_run_takes_the_houses_of_its_numbers_right_on_its_way(address, inside):
    assert in_range(address, LE_LOI, house_range("12", "Số 20")) is inside


def test_a_bound_with_a_letter_is_exact_and_one_without_takes_every_letter():
    run = house_range("số 12B", "14")
    assert [a for a in ("Số 12", "Số 12A", "Số 12B", "Số 12C", "Số 14D", "Số 15")
            if run.holds(way_and_house(a))] == ["Số 12B", "Số 12C", "Số 14D"]
    upto = house_range("10", "12a")
    assert [a for a in ("Số 10", "Số 12", "Số 12A", "Số 12B") if upto.holds(way_and_house(a))] == \
        ["Số 10", "Số 12", "Số 12A"]


def test_a_run_given_backwards_or_with_one_bound():
    assert house_range("40", "12") == house_range("12", "40")
    assert house_range("12", "") == house_range("12", "12")
    assert house_range("12A", "12") == house_range("12A", "12")  # "12" ends after 12A: not backwards


def test_the_same_alley_written_two_ways_is_one_way():
    assert way_key("Số 4 ngõ 5 hẻm 3 phố Lê Lợi") == way_key("Số 6, hẻm 3, ngõ 5, Lê Lợi")
    assert way_key("Số 4, ngõ 5, phố Lê Lợi") != way_key("Số 4, phố Lê Lợi")
    assert way_key("Số 1 đường 3/2") != way_key("Số 1 đường 3")  # "đường 3/2" is a name: kept whole
    inside = in_range("Số 4 ngõ 5 hẻm 3 phố Lê Lợi", way_key("Số 9, hẻm 3, ngõ 5, Lê Lợi"), house_range("1", "5"))
    assert inside


def way_and_house(address: str) -> str:
    return address_parts(address)[0]
