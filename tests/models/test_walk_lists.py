"""The leader's walk lists, Flet-free: who holds what, streets, a hamlet split among volunteers,
and Store.assign writing one assignment.set per household that changes hands."""
from __future__ import annotations

from datetime import timedelta

import pytest

from campaign.assignments import BadHouseNumber
from field_app.views.models.walk_lists import holdings, in_range, split_among, streets, ways

from ..store_support import outbox_rows
from ..test_store import Clock, open_store, seed


def test_assign_a_street_split_a_hamlet_and_see_who_holds_what(tmp_path):
    clock = Clock()
    store = open_store(tmp_path / "a", clock=clock)
    hamlet, first = seed(store)  # "Số 12 ngõ 4 Nguyễn Văn A"
    ids = {a: store.add_household(hamlet, a, "given") for a in
           ("Số 2, phố Lê Lợi", "Số 15, ngõ 3, phố Lê Lợi", "Số 4, phố Lê Lợi", "Số 1, phố Trần Phú",
            "Số 3, phố Trần Phú")}
    rows = store.households_search(hamlet, limit=1000).rows
    by_street = streets(rows)
    assert by_street["pho le loi"][0] == "phố Lê Lợi" and by_street["pho tran phu"][0] == "phố Trần Phú"
    assert list(by_street) == ["nguyen van a", "pho le loi", "pho tran phu"]
    le_loi = by_street["pho le loi"][1]
    assert le_loi == [ids["Số 2, phố Lê Lợi"], ids["Số 4, phố Lê Lợi"], ids["Số 15, ngõ 3, phố Lê Lợi"]]

    before = len(outbox_rows(store))
    assert store.assign(le_loi, "dev-b") == 3
    assert store.assign(le_loi, "dev-b") == 0  # nothing changes hands: nothing written
    assert [r["kind"] for r in outbox_rows(store)[before:]] == ["assignment.set"] * 3
    now = clock.now
    held = holdings(store.households_search(hamlet, limit=1000).rows, now)
    assert held.by_device == {"dev-b": 3} and held.pool == 3 and held.lapsed == []

    # six days on, nothing visited: back in the pool, and the leader is told which
    held = holdings(store.households_search(hamlet, limit=1000).rows, now + timedelta(days=6))
    assert held.by_device == {} and held.pool == 6
    assert sorted(r.id for r in held.lapsed) == sorted(le_loi)

    parts = split_among(store.households_search(hamlet, limit=1000).rows, ["dev-b", "dev-c"])
    assert sorted(len(p) for p in parts.values()) == [3, 3]
    assert sorted(parts["dev-b"] + parts["dev-c"]) == sorted([first, *ids.values()])
    store.close()


def test_the_ways_of_a_hamlet_and_a_run_of_numbers_on_one(tmp_path):
    store = open_store(tmp_path / "a", clock=Clock())
    hamlet, _first = seed(store)  # "Số 12 ngõ 4 Nguyễn Văn A"
    ids = {a: store.add_household(hamlet, a, "given") for a in
           ("Số 12A, phố Lê Lợi", "số 12 Lê Lợi", "Số 7, ngõ 5, phố Lê Lợi", "Số 4 ngõ 5 hẻm 3 phố Lê Lợi",
            "Số 6, hẻm 3, ngõ 5, phố Lê Lợi", "Nhà ông Long, phố Lê Lợi", "Số 30, phố Lê Lợi")}
    rows = store.households_search(hamlet, limit=1000).rows
    found = ways(rows)
    assert found[("le loi",)] == ("phố Lê Lợi", 3)  # "phố" or not: one street; no number: in no run
    assert found[("hem 3", "le loi", "ngo 5")][1] == 2  # the same alley written two ways
    assert found[("le loi", "ngo 5")] == ("ngõ 5, phố Lê Lợi", 1)
    assert in_range(rows, ("le loi",), "12", "Số 20") == [ids["số 12 Lê Lợi"], ids["Số 12A, phố Lê Lợi"]]
    assert in_range(rows, ("hem 3", "le loi", "ngo 5"), "1", "10") == \
        [ids["Số 4 ngõ 5 hẻm 3 phố Lê Lợi"], ids["Số 6, hẻm 3, ngõ 5, phố Lê Lợi"]]
    with pytest.raises(BadHouseNumber):
        in_range(rows, ("le loi",), "ngõ 5", "")
