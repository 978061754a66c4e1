"""The leader's walk lists, Flet-free: who holds what, streets, a hamlet split among volunteers,
and Store.assign writing one assignment.set per household that changes hands."""
from __future__ import annotations

from datetime import timedelta

from field_app.views.models.walk_lists import holdings, split_among, streets

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
