"""The review sample (campaign/review.py): deterministic, about one in ten, at least one a day."""
from __future__ import annotations

from campaign.ids import uuid7
from campaign.review import sample


def test_the_sample_is_one_in_ten_at_least_one_and_the_same_whatever_the_order():
    visits = [uuid7() for _ in range(25)]
    picked = sample("2026-12-04", "dev-a", visits)
    assert len(picked) == 3 and picked <= set(visits)
    assert sample("2026-12-04", "dev-a", list(reversed(visits))) == picked  # the arrival order changes nothing
    assert len(sample("2026-12-04", "dev-a", visits[:4])) == 1
    assert sample("2026-12-04", "dev-a", []) == frozenset()
    assert len(sample("2026-12-04", "dev-a", visits, every=5)) == 5


def test_another_day_or_volunteer_draws_another_sample():
    visits = [uuid7() for _ in range(200)]
    days = {sample(day, "dev-a", visits) for day in ("2026-12-01", "2026-12-02", "2026-12-03")}
    people = {sample("2026-12-01", device, visits) for device in ("dev-a", "dev-b", "dev-c")}
    assert len(days) == 3 and len(people) == 3
