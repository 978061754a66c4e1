"""Review that scales (issue #13, item 6): the queue by volunteer and day, the sample first,
the rest approved in one action (one review.decided each, one transaction), the filters."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from campaign.review import sample
from field_app.store import ReviewItem, Store
from field_app.views.models.review_groups import Filters, approve_rest, volunteer_days

from ..store_support import add_hamlet
from ..support import offline_store

WARD = "10525"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = offline_store(tmp_path / "leader", role="leader", scope={"commune": WARD, "hamlets": []}, device="dev-lead")
    yield s
    s.close()


def _visits(store: Store, n: int) -> list[str]:
    hamlet = add_hamlet(store, WARD, "Tổ dân phố 2", "to_dan_pho")
    out = []
    for i in range(n):
        household = store.add_household(hamlet, f"Số {i + 1}, phố Lê Lợi", consent="given")
        out.append(store.record_visit(household, "met" if i % 3 else "not_home",
                                      ["explained"] if i % 3 else []))
    return out


def test_a_volunteer_day_shows_its_sample_first_and_the_rest_is_approved_in_one_action(store: Store) -> None:
    ids = _visits(store, 23)
    [group] = volunteer_days(store.review_queue())
    assert group.device_id == "dev-lead" and len(group.sample) == 3 and len(group.rest) == 20
    assert {i.visit.id for i in group.sample} == sample(group.day, "dev-lead", ids)
    before = store.last_seq
    assert approve_rest(store, group) == 20
    decided = [e for e in store.pending(limit=1000) if e["seq"] > before]
    assert [e["kind"] for e in decided] == ["review.decided"] * 20
    assert {e["entity"] for e in decided} == {i.visit.id for i in group.rest}
    assert {e["data"]["decision"] for e in decided} == {"approved"}
    left = store.review_queue()
    assert {i.visit.id for i in left} == {i.visit.id for i in group.sample}  # the sample waits for a close look


def test_groups_by_volunteer_and_day_and_filters(store: Store) -> None:
    _visits(store, 6)
    items = store.review_queue()
    other = [ReviewItem(replace(i.visit, device_id="dev-b"), i.address) for i in items[:2]]
    earlier = [ReviewItem(replace(i.visit, id=i.visit.id[:-1] + "f", at="2026-01-02T09:00:00+07:00"), i.address)
               for i in items[2:3]]
    groups = volunteer_days(items[2:] + other + earlier)
    assert (groups[0].device_id, groups[0].day) == ("dev-lead", "2026-01-02")  # oldest day first
    assert {g.device_id for g in groups} == {"dev-lead", "dev-b"}
    only_b = volunteer_days(items[2:] + other, Filters(device_id="dev-b"))
    assert [g.device_id for g in only_b] == ["dev-b"]
    not_home = volunteer_days(items, Filters(outcome="not_home"))
    assert all(i.visit.outcome == "not_home" for g in not_home for i in g.sample + g.rest)
    explained = volunteer_days(items, Filters(action="explained"))
    assert sum(len(g.sample + g.rest) for g in explained) == 4
    assert volunteer_days(items, Filters(day="1999-01-01")) == []


def test_a_failed_approval_leaves_nothing_half_done(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    _visits(store, 12)
    [group] = volunteer_days(store.review_queue())
    calls = []
    real = store.decide_review

    def flaky(visit_id: str, decision: str, comment: str = "") -> object:
        calls.append(visit_id)
        if len(calls) == 5:
            raise RuntimeError("disk full")
        return real(visit_id, decision, comment)

    monkeypatch.setattr(store, "decide_review", flaky)
    before = store.last_seq
    with pytest.raises(RuntimeError):
        approve_rest(store, group)
    assert [e for e in store.pending(limit=1000) if e["seq"] > before] == []
