"""The review queue's filters and the team's settings (issue #13, items 2 and 6), in the harness
against a real server: filter by volunteer, outcome, action and day; the sample first; "approve the
rest" stays one action under a filter; the leader changes the team's sample rate and lapse days."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import flet as ft

from campaign.time import local_day
from field_app.app import build_app
from field_app.net.server_api import ServerApi
from field_app.views import leader
from field_app.views import team_settings as settings_view
from field_app.views.review_filters import ALL

from .harness import AppHarness, wait_for
from .test_leader import Team, engine, on_sqlite, open_review, sync, team  # noqa: F401 (fixtures)


def app(team: Team, make_harness: Callable[..., AppHarness], tmp: Path, width: float = 390,
        height: float = 844) -> AppHarness:
    def main(page: ft.Page) -> None:
        shell = build_app(page, role="leader", data_dir=tmp / "app")
        screens = leader.register(shell, store=team.leader, sync=None)
        settings_view.register(shell, screens)
        shell.render()

    return make_harness(main, width=width, height=height)


def visits(team: Team) -> dict[str, str]:
    """Anna: a met visit with VNeID help, a nobody-home visit; Bình: a refusal."""
    sync(team.binh)  # Bình's phone learns the hamlet
    a1 = team.anna.add_household(team.hamlet, "Số 1, phố Hàng Bạc", "given")
    p1 = team.anna.add_person(a1, "Lê Thị Hoa", 1968, card="cccd_chip", vneid="l1_approved")
    a2 = team.anna.add_household(team.hamlet, "Số 3, phố Hàng Bạc", "given")
    b1 = team.binh.add_household(team.hamlet, "Số 5, phố Hàng Bạc", "given")
    made = {"met": team.anna.record_visit(a1, "met", ["activation_help"], [p1]),
            "not_home": team.anna.record_visit(a2, "not_home", []),
            "refused": team.binh.record_visit(b1, "refused", [])}
    sync(team.anna, team.binh, team.leader)
    team.leader.remember_device_names({team.anna.device_id: "Nguyễn Thị Lan", team.binh.device_id: "Trần Văn Bình"})
    return made


def shown(h: AppHarness, made: dict[str, str]) -> set[str]:
    return {name for name, visit in made.items() if h.exists(key=f"visit:{visit}")}


def pick(h: AppHarness, which: str, value: str) -> None:
    box = h.get(key=f"review:filter:{which}")
    h.update_props(box, {"value": value})
    h.event(box, "select", value)


@on_sqlite
def test_the_filters_narrow_the_queue_by_volunteer_outcome_action_and_day(team, make_harness, tmp_path) -> None:
    made = visits(team)
    h = app(team, make_harness, tmp_path, width=360, height=640)
    open_review(h)
    assert shown(h, made) == {"met", "not_home", "refused"}
    # folded at first, so the queue is the first thing under the count
    assert not h.exists(key="review:filter:volunteer") and h.get(key="review:filter:toggle")["content"] == "Lọc"
    h.click(h.get(key="review:filter:toggle"))
    # each dropdown offers only what waits, "Tất cả" first
    volunteer = h.get(key="review:filter:volunteer")
    assert [o["text"] for o in volunteer["options"]] == ["Tất cả", "Nguyễn Thị Lan", "Trần Văn Bình"]
    assert [o["text"] for o in h.get(key="review:filter:outcome")["options"]] == ["Tất cả", "Đã gặp",
                                                                                 "Không có nhà", "Từ chối"]

    pick(h, "volunteer", team.binh.device_id)
    assert shown(h, made) == {"refused"}
    assert h.get(key="review:filter:shown").text == "Đang lọc: 1 lượt thăm khớp"
    pick(h, "volunteer", ALL)
    pick(h, "outcome", "not_home")
    assert shown(h, made) == {"not_home"}
    pick(h, "outcome", ALL)
    pick(h, "action", "activation_help")
    assert shown(h, made) == {"met"}
    pick(h, "outcome", "refused")  # with the action still on: nothing matches, and it says so
    assert shown(h, made) == set()
    assert h.exists(ft.Text, text="Không có lượt thăm nào khớp bộ lọc.")
    h.click(h.get(key="review:filter:clear"))
    assert shown(h, made) == {"met", "not_home", "refused"} and not h.exists(key="review:filter:clear")
    day = local_day(team.leader.review_queue()[0].visit.at)
    pick(h, "day", day)
    assert shown(h, made) == {"met", "not_home", "refused"}
    # folded again with the day still on: it says so, and "Bỏ lọc" stays in sight
    h.click(h.get(key="review:filter:toggle"))
    assert not h.exists(key="review:filter:day") and h.get(key="review:filter:toggle")["content"] == "Lọc (1)"
    assert h.exists(key="review:filter:clear")


@on_sqlite
def test_approve_the_rest_stays_one_action_under_a_filter(team, make_harness, tmp_path) -> None:
    """Sample every 2: Anna's day of 4 visits shows 2 to look at closely first, then one tap
    approves the other 2; Bình's visit, filtered out, is left waiting."""
    made = visits(team)
    more = [team.anna.record_visit(team.anna.add_household(team.hamlet, f"Số {n}, phố Mã Mây", "given"), "met",
                                   ["explained"]) for n in (2, 4)]
    sync(team.anna, team.leader)
    team.leader.keep_team_settings({"sample_every": 2, "lapse_days": 5})  # as a pull would bring them
    h = app(team, make_harness, tmp_path)
    open_review(h)
    h.click(h.get(key="review:filter:toggle"))
    pick(h, "volunteer", team.anna.device_id)
    day = local_day(team.leader.review_queue()[0].visit.at)
    heading = h.get(key=f"review:{team.anna.device_id}:{day}").text
    assert "Nguyễn Thị Lan" in heading and "2 lượt xem kỹ, 2 lượt còn lại" in heading
    assert len(h.find(key="review:sample_mark")) == 2  # the sample's cards say "Xem kỹ", the rest's do not
    seq = team.leader.last_seq
    h.click(h.get(key=f"approve_rest:{team.anna.device_id}:{day}"))
    decided = [e for e in team.leader.pending(limit=100) if e["seq"] > seq]
    assert len(decided) == 2 and {e["data"]["decision"] for e in decided} == {"approved"}
    waiting = {i.visit.id for i in team.leader.review_queue()}
    assert made["refused"] in waiting and len(waiting & ({made["met"], made["not_home"], *more})) == 2


def _settings(h: AppHarness) -> tuple[Any, Any]:
    return h.get(key="team_settings:sample"), h.get(key="team_settings:lapse")


@on_sqlite
def test_the_leader_changes_the_teams_settings_and_a_bad_number_is_refused_in_words(
        team, make_harness, tmp_path) -> None:
    h = app(team, make_harness, tmp_path, width=360, height=640)
    open_review(h)
    h.click(h.get(key="review:settings"))
    assert h.route == settings_view.SETTINGS
    sample, lapse = _settings(h)
    assert sample["value"] == "10" and lapse["value"] == "5"
    api = ServerApi(team.leader)

    h.change(sample, "0")
    h.change(lapse, "61")
    h.click(h.get(key="team_settings:save"))
    sample, lapse = _settings(h)
    assert sample["error"] == "Mẫu xem kỹ là 1 lượt trong 1 đến 100 lượt (số nguyên)."
    assert lapse["error"].startswith("Hộ được giao trở lại danh sách chung sau 1 đến 60 ngày")
    assert api.team_settings(team.id) == {"team": team.id, "sample_every": 10, "lapse_days": 5}  # nothing sent

    h.change(sample, "4")
    h.change(lapse, "12")
    h.click(h.get(key="team_settings:save"))
    wait_for(h, lambda: h.exists(ft.Text, text="Đã lưu cài đặt của tổ"))
    assert api.team_settings(team.id) == {"team": team.id, "sample_every": 4, "lapse_days": 12}
    assert team.leader.team_settings().as_wire() == {"sample_every": 4, "lapse_days": 12}  # kept at once
    sync(team.anna)  # and a volunteer's phone has them after its next sync
    assert team.anna.team_settings().lapse_days == 12
