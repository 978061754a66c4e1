"""The team leader's screens against a real server: review queue, conflicts, team devices.

Every store here is a real field_app Store enrolled on a real `gocua-server`
(SQLite: the screens do not care about the backend) and synced with the real
SyncClient; the leader's screens run in the harness with `register(shell)`.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import flet as ft
import pytest

from campaign.ids import uuid7
from field_app.app import build_app
from field_app.app_state import default_key
from field_app.net.errors import Offline
from field_app.net.server_api import ServerApi
from field_app.net.sync import BackgroundSync, SyncClient
from field_app.store import Store
from field_app.views import leader
from field_app.views.models import leader as leader_model
from sync_server.services import team as teams
from sync_server.store.db import make_engine, write_transaction

from ..store_support import household_list, visit_of
from ..support import Server, enrolled_store, free_port, hamlet_data, household_data, wait_until
from .harness import AppHarness, wait_for

# the module's server (tests/conftest.py), on SQLite only: the screens do not see the backend
on_sqlite = pytest.mark.parametrize("server", ["sqlite"], indirect=True)


@pytest.fixture(scope="module")
def engine(server: Server) -> Any:
    """The server's database, for enrolment codes and teams made in-process (the CLI's
    functions, without a 2-second interpreter start per code)."""
    engine = make_engine(server.db_url)
    yield engine
    engine.dispose()


def sync(*stores: Store) -> None:
    for store in stores:
        client = SyncClient(store)
        try:
            client.sync_once()
        finally:
            client.close()


class Team:
    """Tổ 3 of Phường Hải Dương: one hamlet, a leader, and two volunteers (Anna, Bình)."""

    def __init__(self, server: Server, engine: Any, tmp: Path) -> None:
        self.server, self.engine = server, engine
        self.admin = server.enroll("admin")
        self.hamlet = uuid7()
        answer = self.admin.push([self.admin.event("hamlet.created", self.hamlet, hamlet_data("Tổ dân phố 3"))])
        assert answer.json()["quarantined"] == []
        self.id = f"t-{uuid7()[-8:]}"
        with write_transaction(engine) as conn:
            teams.create_team(conn, self.id, "Tổ 3", "10525", [self.hamlet])
        self.leader = enrolled_store(tmp / "leader", server.url, server.code("leader", team=self.id))
        self.anna = enrolled_store(tmp / "anna", server.url, server.code("volunteer", team=self.id))
        self.binh = enrolled_store(tmp / "binh", server.url, server.code("volunteer", team=self.id))
        sync(self.leader, self.anna)  # the hamlet reaches the devices (Bình stays unsynced)

    def app(self, make_harness: Callable[..., AppHarness], tmp: Path, *, sync: Any = None,
            width: float = 390, height: float = 844) -> tuple[AppHarness, leader.LeaderScreens]:
        made: dict[str, leader.LeaderScreens] = {}

        def main(page: ft.Page) -> None:
            shell = build_app(page, role="leader", data_dir=tmp / "app")
            made["screens"] = leader.register(shell, store=self.leader, sync=sync)
            shell.render()

        h = make_harness(main, width=width, height=height)
        return h, made["screens"]


@pytest.fixture()
def team(server: Server, engine: Any, tmp_path: Path) -> Team:
    return Team(server, engine, tmp_path)


def a_visit(team: Team) -> tuple[str, str, str]:
    """Anna records a met visit with one person helped to activate VNeID, and syncs."""
    household = team.anna.add_household(team.hamlet, "Số 8, ngõ 12, phố Trần Hưng Đạo", "given")
    person = team.anna.add_person(household, "Lê Thị Hoa", 1968, card="cccd_chip", vneid="l1_approved")
    visit = team.anna.record_visit(household, "met", ["activation_help"], [person], "Bà nhờ con gái nhận OTP")
    sync(team.anna, team.leader)
    return household, person, visit


def open_review(h: AppHarness) -> None:
    h.click(h.get(ft.NavigationBarDestination, text="Duyệt"))
    assert h.route == "/review"


@on_sqlite
def test_the_queue_lists_a_volunteers_visit_and_approve_is_one_tap(team, make_harness, tmp_path) -> None:
    _household, _person, visit = a_visit(team)
    h, _ = team.app(make_harness, tmp_path, width=360, height=640)
    open_review(h)
    card = h.get(key=f"visit:{visit}")
    text = card.text
    for expected in ("Số 8, ngõ 12, phố Trần Hưng Đạo", "Đã gặp", "Hỗ trợ kích hoạt", "Lê Thị Hoa",
                     "Bà nhờ con gái nhận OTP", "vừa xong"):
        assert expected in text, (expected, text)
    assert f"Máy {team.anna.device_id.replace('-', '')[:6].upper()}" in text
    assert h.exists(ft.Text, text="Chờ duyệt: 1 lượt thăm")
    # the outcome is an icon shape and words, not a colour
    chip = h.get(ft.Text, text="Đã gặp", within=card)
    assert any(c.type == "Icon" for c in chip.parent.children())
    approve = h.get(key=f"approve:{visit}")
    assert approve["height"] >= 48 and h.get(key=f"return:{visit}")["height"] >= 48

    h.click(approve)
    decided = [e for e in team.leader.pending() if e["kind"] == "review.decided"]
    assert [(e["entity"], e["data"]) for e in decided] == [(visit, {"decision": "approved", "comment": ""})]
    assert visit_of(team.leader, visit).review == "approved"
    assert not h.exists(key=f"visit:{visit}")
    assert h.exists(ft.Text, text="Không có lượt thăm nào chờ duyệt.")
    assert h.exists(ft.Text, text_contains="Đã duyệt: Số 8")  # the snack bar


@on_sqlite
def test_a_long_queue_shows_the_oldest_first_and_the_next_after_each_decision(
        team, make_harness, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(leader_model, "QUEUE_SHOWN", 1)
    household = team.anna.add_household(team.hamlet, "Số 20, phố Bạch Đằng", "given")
    first = team.anna.record_visit(household, "not_home")
    second = team.anna.record_visit(household, "met", ["explained"])
    sync(team.anna, team.leader)
    h, _ = team.app(make_harness, tmp_path)
    open_review(h)
    # one volunteer's day: its sample (issue #13, item 6) is drawn first, then the rest
    [shown] = [v for v in (first, second) if h.exists(key=f"visit:{v}")]
    other = second if shown == first else first
    assert h.exists(ft.Text, text_contains="còn 1 lượt")
    h.click(h.get(key=f"approve:{shown}"))
    assert h.exists(key=f"visit:{other}")
    assert not h.exists(ft.Text, text_contains="còn 1 lượt")


@on_sqlite
def test_return_needs_a_comment_and_the_comment_reaches_the_volunteer(team, make_harness, tmp_path) -> None:
    household, _, visit = a_visit(team)
    h, _ = team.app(make_harness, tmp_path, sync=lambda: sync(team.leader))
    open_review(h)
    h.click(h.get(key=f"return:{visit}"))
    dialog = h.get(ft.AlertDialog)
    assert "Trả lại lượt thăm" in dialog.text

    h.click(h.get(key="return:confirm"))  # no comment: refused, the dialog stays
    assert h.get(key="return:comment")["error"] == "Cần viết nhận xét trước khi trả lại."
    assert h.exists(ft.AlertDialog)
    assert [e for e in team.leader.pending() if e["kind"] == "review.decided"] == []
    assert visit_of(team.leader, visit).review is None

    h.change(h.get(key="return:comment"), "   ")  # blanks are no comment either
    h.click(h.get(key="return:confirm"))
    assert h.exists(ft.AlertDialog)
    assert visit_of(team.leader, visit).review is None

    comment = "Hộ có 3 người, mới ghi 1 người"
    h.change(h.get(key="return:comment"), comment)
    h.click(h.get(key="return:confirm"))
    assert not h.exists(ft.AlertDialog)
    assert not h.exists(key=f"visit:{visit}")
    assert team.leader.pending() == []  # `sync` sent it at once
    sync(team.anna)  # the volunteer pulls the decision
    assert visit_of(team.anna, visit).review == "returned"
    assert visit_of(team.anna, visit).review_comment == comment
    assert [r.id for r in household_list(team.anna, filter="returned")] == [household]


def conflicting_card_changes(team: Team) -> tuple[str, str]:
    """Anna and Bình both change Hoa's card offline, neither seeing the other: a conflict."""
    household = team.anna.add_household(team.hamlet, "Số 3, phố Quang Trung", "given")
    person = team.anna.add_person(household, "Phạm Văn Dũng", 1980, card="none", vneid="no_app")
    sync(team.anna, team.binh)
    team.anna.update_person(person, card="cccd_chip")
    team.binh.update_person(person, card="applied_waiting")
    sync(team.anna, team.binh, team.leader)
    return household, person


def open_conflicts(team: Team) -> list[dict[str, Any]]:
    return ServerApi(team.leader).conflicts("10525")


@on_sqlite
def test_conflicts_side_by_side_and_a_tap_settles_them_on_the_server(team, make_harness, tmp_path) -> None:
    _, person = conflicting_card_changes(team)
    assert [(c["entity"], c["field"]) for c in open_conflicts(team)] == [(person, "card")]
    background = BackgroundSync(SyncClient(team.leader), interval=3600)
    try:
        h, _ = team.app(make_harness, tmp_path, sync=background.trigger)
        open_review(h)
        h.click(h.get(key="review:conflicts"))
        assert h.route == "/review/conflicts" and len(h.views) == 2
        wait_for(h, lambda: h.exists(key=f"conflict:{person}:card"))
        card = h.get(key=f"conflict:{person}:card")
        assert "Thẻ căn cước" in card.text and "Phạm Văn Dũng — Số 3, phố Quang Trung" in card.text
        first, second = h.get(key=f"conflict:{person}:card:choose:0"), h.get(key=f"conflict:{person}:card:choose:1")
        assert "CCCD gắn chip" in first.text and "Đã làm, chờ nhận" in second.text
        # who and when, for each value; roles come from the team list
        assert f"Tình nguyện viên · Máy {team.anna.device_id.replace('-', '')[:6].upper()}" in first.text
        assert f"Tình nguyện viên · Máy {team.binh.device_id.replace('-', '')[:6].upper()}" in second.text
        assert "vừa xong" in first.text and "vừa xong" in second.text
        assert "Đang hiển thị" in second.text  # the later arrival is what devices show now

        h.click(first)
        assert team.leader.person(person).card == "cccd_chip"
        assert "Đã chọn: CCCD gắn chip" in h.get(key=f"conflict:{person}:card").text
        assert not h.exists(key=f"conflict:{person}:card:choose:1")

        wait_until(lambda: open_conflicts(team) == [], 15, message="the choice never reached the server")
        assert team.leader.local_receipt().counts.get("conflict.resolved") == 1
    finally:
        background.stop()
    sync(team.anna, team.binh)
    assert team.anna.person(person).card == team.binh.person(person).card == "cccd_chip"


def test_offline_the_conflicts_screen_says_so_and_retries(make_harness, tmp_path) -> None:
    store = Store(tmp_path / "offline", key=default_key(tmp_path / "offline"))
    store.enrol(f"http://127.0.0.1:{free_port()}", "dev-offline", "token", "leader",
                {"team": "t", "commune": "10525", "hamlets": []})
    with pytest.raises(Offline):
        ServerApi(store).conflicts("10525")

    def main(page: ft.Page) -> None:
        shell = build_app(page, role="leader", data_dir=tmp_path / "app")
        leader.register(shell, store=store)
        shell.render()

    h = make_harness(main, width=360, height=640)
    open_review(h)
    assert h.exists(ft.Text, text="Không có lượt thăm nào chờ duyệt.")  # the queue needs no network
    h.click(h.get(key="review:conflicts"))
    offline = "Không kết nối được máy chủ. Màn hình này cần mạng; việc duyệt vẫn làm được khi ngoại tuyến."
    wait_for(h, lambda: h.exists(ft.Text, text=offline))
    retry = h.get(key="conflicts:retry")
    assert retry.text == "Thử lại" and retry["height"] >= 48
    h.click(retry)
    wait_for(h, lambda: h.exists(ft.Text, text=offline))
    h.back()
    assert h.route == "/review"
    h.go("/team")  # the short route, as a link from elsewhere would open it
    wait_for(h, lambda: h.exists(key="team:retry"))
    assert h.exists(ft.Text, text=offline)


@on_sqlite
def test_team_screen_lists_last_sync_and_quarantined_reasons(team, make_harness, tmp_path) -> None:
    a_visit(team)
    elsewhere = uuid7()
    team.admin.push([team.admin.event("hamlet.created", elsewhere, hamlet_data("Tổ ngoài"))])
    # a volunteer of the team writing outside its hamlets: quarantined "forbidden"
    stray = team.server.enroll("volunteer", team=team.id)
    answer = stray.push([stray.event("household.created", uuid7(), household_data(elsewhere, "Số 1 Ngõ Lạ"))])
    assert answer.json()["quarantined"][0]["reason"].startswith("forbidden")

    h, _ = team.app(make_harness, tmp_path, width=360, height=640)
    open_review(h)
    h.click(h.get(key="review:team"))
    assert h.route == "/review/team"
    wait_for(h, lambda: h.exists(key=f"member:{team.anna.device_id}"))
    anna = h.get(key=f"member:{team.anna.device_id}").text
    assert "Tình nguyện viên · Máy" in anna and "Đồng bộ lần cuối: vừa xong" in anna
    assert "Gửi lên máy chủ lần cuối: vừa xong" in anna and "Không có thay đổi nào bị giữ lại" in anna
    assert "sự kiện" not in anna
    assert "Máy này (bạn)" in h.get(key=f"member:{team.leader.device_id}").text
    binh = h.get(key=f"member:{team.binh.device_id}").text
    assert "Chưa đồng bộ lần nào" in binh  # status in words, with its own icon
    assert not h.exists(key=f"member:{team.admin.id}")

    h.click(h.get(key=f"team:quarantined:{stray.id}"))
    assert h.route == f"/review/team/{stray.id}"
    wait_for(h, lambda: h.exists(key="quarantined:1"))
    reason = h.get(key="quarantined:1").text
    assert "Thêm hộ" in reason and "Ngoài phạm vi hoặc quyền của máy này." in reason
    assert "Số 1 Ngõ Lạ" not in " ".join(h.texts())
    h.back()
    assert h.route == "/review/team"


@on_sqlite
def test_the_screens_follow_the_language(team, make_harness, tmp_path) -> None:
    _, _, visit = a_visit(team)
    h, _ = team.app(make_harness, tmp_path)
    h.click(h.get(ft.NavigationBarDestination, text="Cài đặt"))
    h.click(h.get(ft.Radio, text="English"))
    h.click(h.get(ft.NavigationBarDestination, text="Review"))
    assert h.exists(ft.Text, text="Waiting for review: 1 visit")
    assert h.get(key=f"approve:{visit}").text == "Approve"
    assert "Met" in h.get(key=f"visit:{visit}").text


@on_sqlite
def test_the_queue_groups_by_named_volunteer_and_approves_the_rest_of_a_day_at_once(
        team, make_harness, tmp_path) -> None:
    """Issue #13, item 6: a volunteer's day under their name, its sample first, then "approve the
    rest of this day" in one tap: one review.decided per visit, the sample left for a close look."""
    from campaign.review import sample
    from campaign.time import local_day
    households = [team.anna.add_household(team.hamlet, f"Số {i}, phố Hàng Bạc", "given") for i in range(1, 13)]
    visits = [team.anna.record_visit(h, "met", ["explained"]) for h in households]
    sync(team.anna, team.leader)
    team.leader.remember_device_names({team.anna.device_id: "Nguyễn Thị Lan"})
    h, _ = team.app(make_harness, tmp_path)
    open_review(h)
    day = local_day(team.leader.review_queue()[0].visit.at)
    picked = sample(day, team.anna.device_id, visits)
    assert len(picked) == 2
    assert h.exists(ft.Text, text_contains="Nguyễn Thị Lan · ngày")
    seq = team.leader.last_seq
    h.click(h.get(key=f"approve_rest:{team.anna.device_id}:{day}"))
    decided = [e for e in team.leader.pending(limit=1000) if e["seq"] > seq]
    assert len(decided) == 10 and {e["kind"] for e in decided} == {"review.decided"}
    assert {e["entity"] for e in decided} == set(visits) - picked
    assert {i.visit.id for i in team.leader.review_queue()} == picked
    assert all(h.exists(key=f"visit:{v}") for v in picked)
    assert h.exists(ft.Text, text_contains="Đã duyệt 10 lượt thăm")
