"""The team's settings on the phone, Flet-free and with an injected clock: the lapse days the
server carried decide who holds a household ("Của tôi"); the sample rate decides how many of a
volunteer's day the review shows first; the settings screen's boxes are checked with campaign's
rule; the review's filter choices list only what waits."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from campaign.team_settings import TeamSettings
from field_app.views.models.leader import LeaderModel
from field_app.views.models.review_groups import Filters
from field_app.views.models.team_settings import load, parse, save
from field_app.views.models.walk_lists import holdings

from ..store_support import assign
from ..test_store import Clock, open_store, seed


def test_the_carried_lapse_days_decide_who_holds_a_household(tmp_path) -> None:
    clock = Clock()
    store = open_store(tmp_path / "a", clock=clock)
    hamlet, _first = seed(store)
    household = store.add_household(hamlet, "Số 8, phố Lê Lợi", "given")
    assign(store, household, store.device_id)
    assert store.households_search(hamlet).mine == 1
    clock.now += timedelta(days=6)  # past the default 5 days, nothing visited
    assert store.households_search(hamlet).mine == 0
    store.keep_team_settings({"sample_every": 10, "lapse_days": 10})  # what a pull carried
    assert store.households_search(hamlet).mine == 1
    rows = store.households_search(hamlet, limit=100).rows
    assert holdings(rows, clock.now, store.team_settings().lapse_days).by_device == {store.device_id: 1}
    clock.now += timedelta(days=5)  # 11 days
    assert store.households_search(hamlet).mine == 0
    store.keep_team_settings({"sample_every": 10, "lapse_days": 0})  # out of rule: the defaults, not a crash
    assert store.team_settings() == TeamSettings()
    store.close()


def test_the_sample_rate_decides_how_many_are_looked_at_first(tmp_path) -> None:
    store = open_store(tmp_path / "a", clock=Clock())
    hamlet, _first = seed(store)
    for n in range(1, 9):
        store.record_visit(store.add_household(hamlet, f"Số {n}, phố Hàng Bạc", "given"), "met", ["explained"])
    model = LeaderModel(store)
    [(group, _heading, cards)] = model.groups()
    assert len(group.sample) == 1 and len(group.rest) == 7  # one in ten, at least one a day
    assert [c.sample for c in cards] == [True] + [False] * 7
    store.keep_team_settings({"sample_every": 2, "lapse_days": 5})
    [(group, heading, _cards)] = model.groups()
    assert len(group.sample) == 4 and "4 lượt xem kỹ, 4 lượt còn lại" in heading
    store.keep_team_settings({"sample_every": 1, "lapse_days": 5})
    [(group, _heading, _cards)] = model.groups()
    assert len(group.sample) == 8 and group.rest == []
    store.close()


def test_the_filter_choices_are_what_waits(tmp_path) -> None:
    store = open_store(tmp_path / "a", clock=Clock())
    hamlet, _first = seed(store)
    a = store.add_household(hamlet, "Số 1, phố Hàng Bạc", "given")
    store.record_visit(a, "met", ["activation_help", "explained"])
    store.record_visit(a, "not_home")
    model = LeaderModel(store)
    found = model.filter_choices()
    assert [w for _c, w in found.outcomes] == ["Đã gặp", "Không có nhà"]
    assert [c for c, _w in found.actions] == ["activation_help", "explained"]
    assert [c for c, _w in found.volunteers] == [store.device_id] and len(found.days) == 1
    assert sum(len(g.sample) + len(g.rest) for g, _h, _c in model.groups(Filters(outcome="not_home"))) == 1
    assert model.groups(Filters(action="installed_app")) == []
    store.close()


class Api:
    def __init__(self) -> None:
        self.saved: dict[str, Any] = {"team": "t3", "sample_every": 10, "lapse_days": 5}

    def team_settings(self, team: str) -> dict[str, Any]:
        return dict(self.saved)

    def put_team_settings(self, team: str, settings: dict[str, int]) -> dict[str, Any]:
        self.saved.update(settings)
        return dict(self.saved)


def test_the_boxes_are_checked_before_anything_is_sent_and_the_answer_is_kept(tmp_path) -> None:
    form = parse("0", "7")
    assert form.settings is None and form.sample_error == "Mẫu xem kỹ là 1 lượt trong 1 đến 100 lượt (số nguyên)."
    assert form.lapse_error is None
    form = parse(" 4 ", "sáu")
    assert form.settings is None and form.sample_error is None and form.lapse_error is not None
    assert parse("100", "60").settings == TeamSettings(100, 60)
    assert parse("", "5").sample_error is not None
    store = open_store(tmp_path / "a", clock=Clock())
    api = Api()
    assert load(api, store, "t3") == TeamSettings(10, 5)
    assert save(api, store, "t3", TeamSettings(3, 9)) == TeamSettings(3, 9)
    assert store.team_settings() == TeamSettings(3, 9) and api.saved["lapse_days"] == 9
    store.close()
