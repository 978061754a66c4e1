"""Walk lists: an assignment lapses back to the pool; a hamlet cut into parts; the short code."""
from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from campaign.assignments import holder, lapsed, split
from campaign.ids import normal_code, short_code, uuid7
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
