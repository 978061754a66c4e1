"""Walk lists on the phone: the households this device holds open first ("Của tôi"), then the
rest of the hamlet; an assignment not worked for the lapse days is back in the pool."""
from __future__ import annotations

from datetime import timedelta

import pytest

from campaign.assignments import DEFAULT_LAPSE_DAYS

from .store_support import assign
from .test_store import Clock, open_store, seed


@pytest.fixture
def walk(tmp_path):  # type: ignore[no-untyped-def]
    clock = Clock()
    store = open_store(tmp_path / "a", clock=clock)
    hamlet, _first = seed(store)  # "Số 12 ngõ 4 …"
    numbers = {n: store.add_household(hamlet, f"Số {n}, phố Lê Lợi", "given") for n in (2, 4, 6, 8)}
    yield store, clock, hamlet, numbers
    store.close()


def _addresses(store, hamlet):  # type: ignore[no-untyped-def]
    return [r.address for r in store.households_search(hamlet).rows]


def test_my_households_come_first_then_the_rest_in_walking_order(walk):
    store, _clock, hamlet, numbers = walk
    before = _addresses(store, hamlet)
    assert store.households_search(hamlet).mine == 0
    assign(store, numbers[6], "dev-a")  # this device (the leader's event, applied here as it arrives)
    assign(store, numbers[2], "dev-a")
    assign(store, numbers[4], "dev-b")  # another volunteer's: with the rest
    page = store.households_search(hamlet)
    assert page.mine == 2
    assert [r.address for r in page.rows[:2]] == ["Số 2, phố Lê Lợi", "Số 6, phố Lê Lợi"]
    assert [r.mine for r in page.rows] == [True, True] + [False] * (len(before) - 2)
    assert [r.address for r in page.rows[2:]] == [a for a in before if a not in
                                                  ("Số 2, phố Lê Lợi", "Số 6, phố Lê Lợi")]
    # a search ranks by what it found, not by who holds it
    assert store.households_search(hamlet, search="Lê Lợi").mine == 0


def test_an_assignment_not_worked_returns_to_the_pool(walk):
    store, clock, hamlet, numbers = walk
    assign(store, numbers[8], "dev-a")
    assert store.households_search(hamlet).rows[0].address == "Số 8, phố Lê Lợi"
    clock.now += timedelta(days=DEFAULT_LAPSE_DAYS, minutes=5)
    page = store.households_search(hamlet)
    assert page.mine == 0 and page.rows[0].address != "Số 8, phố Lê Lợi"
    # a visit works it: held again (the clock counts from the visit)
    store.record_visit(numbers[8], "not_home", [], [], "")
    assert store.households_search(hamlet).mine == 1
