"""The dashboard against a real server: figures, refresh, the admin's picker, offline,
downloads, follow-up lists, scope, both languages.

One server per module (tests/conftest.py, SQLite: the screen does not see the
backend) holds a small world pushed through the real sync path: two hamlets of
Phường Hải Dương (10525) with a team, one of Xã Thanh Hà (10813), households,
people and visits, and a campaign. Each app is a real enrolled data dir opened
by `build_app`, so the dashboard reaches the server with the device's own token.
"""
from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import flet as ft
import httpx
import openpyxl
import pytest

from campaign.ids import uuid7
from field_app.app import build_app
from field_app.app_state import default_key
from field_app.net.errors import Offline, Rejected
from field_app.net.server_api import ServerApi
from field_app.net.sync import SyncClient
from field_app.store import Store
from field_app.views.dashboard_charts import active_by_day, nice_ticks, short_name
from field_app.views.models import dashboard as dashboard_model
from field_app.views.models.words import share_words
from sync_server.services import team as teams
from sync_server.store.db import make_engine, write_transaction

from ..support import VN, Device, Server, enrolled_store, hamlet_data, household_data, person_data
from .harness import AppHarness, wait_for
from .test_volunteer_layout import problems

on_sqlite = pytest.mark.parametrize("server", ["sqlite"], indirect=True)
WARD, RURAL = "10525", "10813"
DAY = timedelta(days=1)


# ---- the world ------------------------------------------------------------------------------


def enrolled(server: Server, path: Path, role: str, **scope: Any) -> Path:
    """A data dir enrolled on the real server the way the app does it (`app_state.enrol` spends a
    code made in-process, as `gocua-server enroll` would)."""
    enrolled_store(path, server.url, server.code(role, **scope)).close()
    return path


class World:
    """Tổ dân phố 2 and Tổ dân phố 10 of the ward (team t-dash covers both), Thôn Đông of
    Thanh Hà; a campaign for the ward: 80 % by 30 days from now, started 10 days ago."""

    def __init__(self, server: Server, engine: Any, tmp: Path) -> None:
        self.server, self.engine, self.tmp = server, engine, tmp
        self.admin = server.enroll("admin")
        self.a, self.b, self.c = uuid7(), uuid7(), uuid7()
        today = datetime.now(VN).replace(microsecond=0)
        yesterday = (today - DAY).isoformat()
        ev = self.admin.event
        self.h = {name: uuid7() for name in ("h1", "h2", "h3", "h4", "h5")}
        self.p = {name: uuid7() for name in ("An", "Bình", "Cường", "Dung", "Em", "Phúc")}
        h, p = self.h, self.p
        events = [
            ev("hamlet.created", self.a, hamlet_data("Tổ dân phố 2")),
            ev("hamlet.created", self.b, hamlet_data("Tổ dân phố 10")),
            ev("hamlet.created", self.c, hamlet_data("Thôn Đông", commune=RURAL)),
            ev("household.created", h["h1"], household_data(self.a, "Số 1, phố Lê Lợi")),
            ev("person.added", p["An"], person_data(h["h1"], "Nguyễn Văn An", 1960, card="none", vneid="l1_approved")),
            ev("person.added", p["Bình"], person_data(h["h1"], "Trần Thị Bình", 1990, card="cccd_chip",
                                                      vneid="l2_active")),
            ev("household.created", h["h2"], household_data(self.a, "Số 2, phố Lê Lợi")),
            ev("person.added", p["Cường"], person_data(h["h2"], "Lê Văn Cường", 1985, card="cmnd_only",
                                                       vneid="no_app")),
            ev("person.updated", p["Cường"], {"blockers": ["no_smartphone"]}),
            ev("household.created", h["h3"], household_data(self.a, "Số 3, phố Lê Lợi")),
            ev("person.added", p["Dung"], person_data(h["h3"], "Phạm Thị Dung", 1950, card="none", vneid="unknown")),
            ev("person.updated", p["Dung"], {"blockers": ["cannot_travel"]}),
            ev("household.created", h["h4"], household_data(self.b, "Số 4, phố Trần Phú")),
            ev("person.added", p["Em"], person_data(h["h4"], "Hoàng Văn Em", 2000, card="can_cuoc", vneid="l1_active")),
            ev("household.created", h["h5"], household_data(self.c, "Xóm 1, thôn Đông")),
            ev("person.added", p["Phúc"], person_data(h["h5"], "Đỗ Văn Phúc", 1970, card="cccd_chip", vneid="no_app")),
            ev("visit.recorded", uuid7(), {"household_id": h["h1"], "outcome": "met", "actions": ["activation_help"],
                                           "people_helped": [p["An"]], "note": ""}, at=yesterday),
            ev("visit.recorded", uuid7(), {"household_id": h["h2"], "outcome": "not_home", "actions": [],
                                           "people_helped": [], "note": ""}, at=yesterday),
            ev("visit.recorded", uuid7(), {"household_id": h["h4"], "outcome": "met", "actions": ["explained"],
                                           "people_helped": [p["Em"]], "note": ""}),
            ev("visit.recorded", uuid7(), {"household_id": h["h5"], "outcome": "met", "actions": ["l1_help"],
                                           "people_helped": [p["Phúc"]], "note": ""}),
        ]
        answer = self.admin.push(events)
        assert answer.status_code == 200 and answer.json()["quarantined"] == [], answer.text
        self.team = f"t-{uuid7()[-8:]}"
        with write_transaction(engine) as conn:
            teams.create_team(conn, self.team, "Tổ Lê Lợi", WARD, [self.a, self.b])
        settings = {"name": "Chiến dịch định danh điện tử, Phường Hải Dương", "target_kind": "percent",
                    "target_value": 80, "start": (today - 10 * DAY).date().isoformat(),
                    "deadline": (today + 30 * DAY).date().isoformat()}
        answer = httpx.put(f"{server.url}/api/v1/campaigns/{WARD}", json=settings, headers=self.admin.headers,
                           timeout=10)
        assert answer.status_code == 200, answer.text
        self.officer_dir = enrolled(server, tmp / "officer", "officer", commune=WARD)
        self.officer = self.device_of(self.officer_dir)

    def device_of(self, path: Path) -> Device:
        with Store(path, key=default_key(path)) as store:
            return Device(self.server, store.device_id, store.token, store.role)

    def totals(self, who: Device, commune: str = WARD, by: str = "hamlet") -> dict[str, Any]:
        answer = who.get("/api/v1/totals", commune=commune, by=by)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def progress(self, who: Device, commune: str = WARD) -> dict[str, Any]:
        return who.get("/api/v1/progress", commune=commune).json()


@pytest.fixture(scope="module")
def engine(server: Server) -> Any:
    engine = make_engine(server.db_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def world(server: Server, engine: Any, tmp_path_factory: pytest.TempPathFactory) -> World:
    return World(server, engine, tmp_path_factory.mktemp("dashboard"))


# ---- driving the app ------------------------------------------------------------------------


def open_app(make_harness: Callable[..., AppHarness], path: Path, *, before: Callable[[Any], None] | None = None,
             **kw: Any) -> AppHarness:
    """The app on an enrolled data dir (no background sync: the tests say when to sync)."""
    def main(page: ft.Page) -> None:
        shell = build_app(page, data_dir=path, autosync=False)
        if before is not None:
            before(shell)
            shell.render()

    return make_harness(main, **kw)


def loaded(h: AppHarness) -> None:
    wait_for(h, lambda: h.exists(key="dashboard:headline"))


def text_of(h: AppHarness, key: str) -> str:
    return h.get(key=key).text


def vi(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def shows_visited(h: AppHarness, total: dict[str, Any]) -> bool:
    """The first tile: households visited, "of N households" under it (a count for a few)."""
    return text_of(h, "dashboard:visited") == vi(total["visited"]) and \
        share_words(total["visited"], total["households"], "households") in text_of(h, "dashboard:headline")


def nav(h: AppHarness) -> list[str]:
    return [d["label"] for d in h.find(ft.NavigationBarDestination)]


# ---- the tests --------------------------------------------------------------------------------


@on_sqlite
def test_an_officer_lands_on_the_dashboard_with_the_servers_figures(world, make_harness) -> None:
    h = open_app(make_harness, world.officer_dir)
    assert h.route == "/" and nav(h) == ["Tổng hợp", "Hộ dân", "Cài đặt"]
    assert h.get(ft.NavigationBar)["selected_index"] == 0
    loaded(h)
    total = world.totals(world.officer)["total"]
    assert shows_visited(h, total)
    assert text_of(h, "dashboard:eid") == vi(total["eid_active"])
    assert text_of(h, "dashboard:chip") == vi(total["chip_card"])
    assert text_of(h, "dashboard:helped") == vi(total["helped"])
    # households to revisit by when to come back (issue #13, item 4): the world's one gave no time
    assert h.get(key="dashboard:come_back")["value"] == \
        f"Hộ cần quay lại theo buổi: chưa hẹn {vi(total['revisit'])}"
    assert text_of(h, f"dashboard:come_back_table:{world.a}") == "Tổ dân phố 2: chưa hẹn 1"  # a line a hamlet
    assert not h.exists(key=f"dashboard:come_back_table:{world.b}")  # nobody to revisit there
    assert h.exists(ft.Text, text="Số liệu do tổ ghi nhận; số liệu chính thức do công an nắm giữ.")
    assert text_of(h, "dashboard:commune") == "Phường Hải Dương"
    # people by card and VNeID status, help and blockers: the vocabulary's words, the server's counts
    for group in ("card", "actions", "blockers"):
        for code, n in total[group].items():
            assert text_of(h, f"dashboard:{group}:{code}") == vi(n), (group, code)
    for code, n in total["vneid"].items():
        assert text_of(h, f"dashboard:vneid:{code}") == vi(n), code
    card = h.get(key="dashboard:card").text
    assert "Chưa có thẻ" in card and "Chỉ có CMND 9 số" in card
    grid = h.get(key="dashboard:vneid").text
    for words in ("Mức 1", "Mức 2", "Chờ duyệt", "Đã duyệt", "Đã kích hoạt", "Chưa cài VNeID"):
        assert words in grid
    assert "Không đi lại được" in h.get(key="dashboard:blockers").text
    # by hamlet (cards on a phone) and by team, each row the server's
    for row in world.totals(world.officer)["rows"]:
        shown = text_of(h, f"dashboard:hamlets:{row['key']}")
        assert f"Đã thăm {vi(row['visited'])}/{vi(row['households'])} hộ" in shown
    [team] = world.totals(world.officer, by="team")["rows"]
    assert team["name"] in text_of(h, f"dashboard:teams:{team['key']}")
    # the target and the pace, said from the answer's numbers: in Vietnamese, the server's own sentence
    progress = world.progress(world.officer)
    assert text_of(h, "dashboard:forecast") == progress["forecast"]["text_vi"]
    target = progress["target"]["people"]
    assert text_of(h, "dashboard:target_reached").startswith(f"Hiện có {vi(progress['eid_active'])} / {vi(target)}")
    assert "Mục tiêu: " in h.get(key="dashboard:target").text and "80 % số người" in h.get(key="dashboard:target").text
    # both charts are drawn, with a point per campaign day: e-IDs active by day when the server
    # counts activations by day (ending at today's total), then people helped, then the target
    series = h.get(key="dashboard.chart.progress")["data_series"]
    active = active_by_day(progress)
    if active is not None:
        assert [p["y"] for p in series.pop(0)["points"]] == active and active[-1] == progress["eid_active"]
    helped = series[0]["points"]
    assert len(helped) == len(progress["days"]) and helped[-1]["y"] == sum(d["helped"] for d in progress["days"])
    assert series[1]["points"][0]["y"] == target
    # every hamlet on the page, its bar and its count, with nothing to scroll sideways
    chart = h.get(key="dashboard.chart.hamlets")
    for row in world.totals(world.officer)["rows"]:
        line = h.get(key=f"dashboard.chart.hamlet:{row['key']}", within=chart)
        assert f"{row['visited']}/{row['households']} hộ" in line.text and row["name"] in line.text
    assert not [c for c in h.find(ft.Row, within=chart) if c.get("scroll")]
    # the team's sync status and the follow-up lists with the server's counts
    assert "Không có thay đổi nào bị giữ lại." in h.get(key="dashboard:sync").text
    counts = world.officer.get("/api/v1/followup/counts", commune=WARD).json()["counts"]
    assert counts["activation"] == total["vneid"]["l1_approved"] + total["vneid"]["l2_approved"]
    assert counts["card_capture"] and counts["revisit"] == total["revisit"]
    for name, n in counts.items():
        unit = "hộ" if name == "revisit" else "người"
        assert f"{n} {unit}" in h.get(key=f"dashboard:followup:{name}").text, name
    assert "Cập nhật vừa xong" in text_of(h, "dashboard:updated")
    # the work of each day, newest first, from the by-day counters
    for day in progress["days"][-2:]:
        y, m, d = day["day"].split("-")
        assert text_of(h, f"dashboard:day:{day['day']}") == (
            f"{d}/{m}/{y}: {day['visited']} hộ thăm lần đầu · {day['visits']} lượt thăm · "
            f"{day['helped']} người được hỗ trợ · {day['activated']} kích hoạt")
    assert sum(d["visits"] for d in progress["days"]) == total["visits"]


@on_sqlite
def test_a_visit_a_volunteer_syncs_shows_after_refresh(world, make_harness, tmp_path) -> None:
    h = open_app(make_harness, world.officer_dir)
    loaded(h)
    before = world.totals(world.officer)["total"]
    assert shows_visited(h, before)
    path = enrolled(world.server, tmp_path / "volunteer", "volunteer", team=world.team)
    with Store(path, key=default_key(path)) as volunteer:
        client = SyncClient(volunteer)
        client.sync_once()  # the team's households arrive
        household = volunteer.add_household(world.b, f"Số {uuid7()[-4:]}, phố Trần Phú", "given")
        volunteer.record_visit(household, "met", ["explained"])
        client.sync_once()
        client.close()
    after = world.totals(world.officer)["total"]
    assert after["visited"] == before["visited"] + 1
    assert shows_visited(h, before)  # not yet
    h.click(h.get(key="dashboard:refresh"))
    wait_for(h, lambda: shows_visited(h, after))
    assert text_of(h, "dashboard:helped") == vi(after["helped"])
    assert h.get(key="dashboard:refresh_action")["tooltip"] == "Làm mới"  # the app bar's Refresh too
    # "how old": said again at each background-sync report, through the shell's own path
    shell = h.page.data
    shell.ui["dashboard.snapshot"].at -= timedelta(minutes=5)
    shell._status_from_thread(shell.device.status)
    wait_for(h, lambda: text_of(h, "dashboard:updated").startswith("Cập nhật 5 phút trước"))


@on_sqlite
def test_an_admin_picks_a_commune(world, make_harness, tmp_path) -> None:
    path = enrolled(world.server, tmp_path / "admin", "admin")
    admin = world.device_of(path)
    h = open_app(make_harness, path, width=1280, height=800)
    assert [d["label"] for d in h.find(ft.NavigationRailDestination)] == ["Tổng hợp", "Cài đặt"]
    loaded(h)
    # on a laptop the come-backs by hamlet are a table, a column a window (the evening shift's "Tối")
    windows = h.get(key="dashboard:come_back_table:table").text
    assert windows.startswith("Thôn, tổ dân phố Sáng Trưa Tối Cuối tuần Bất kỳ lúc nào Chưa hẹn Cần quay lại"), windows
    assert "Tổ dân phố 2 0 0 0 0 0 1 1" in windows
    picker = h.get(key="dashboard:commune_picker")
    codes = [o["key"] for o in picker["options"]]
    assert WARD in codes and RURAL in codes
    assert "Xã Thanh Hà" in [o["text"] for o in picker["options"]]
    h.update_props(picker, {"value": RURAL})
    h.event(picker, "select", RURAL)
    rural = world.totals(admin, RURAL)["total"]
    wait_for(h, lambda: shows_visited(h, rural))
    assert h.page.data.ui["dashboard.commune"] == RURAL
    assert "Thôn Đông" in h.get(key="dashboard:hamlets:table").text  # a DataTable on a laptop, with a total row
    assert "Tổng cộng" in h.get(key="dashboard:hamlets:table").text
    assert "chưa đặt mục tiêu" in h.get(key="dashboard:target").text  # Thanh Hà has no campaign here
    bad = [p for root in h.screen() for p in problems(root)]  # the laptop layout, as the phone's below
    assert not bad, "\n".join(bad)
    # the choice survives a trip to another tab, without asking the server again
    h.click(h.get(ft.NavigationRailDestination, text="Cài đặt"))
    h.click(h.get(ft.NavigationRailDestination, text="Tổng hợp"))
    assert h.get(key="dashboard:commune_picker")["value"] == RURAL
    assert not h.exists(key="dashboard:loading")


@on_sqlite
def test_offline_says_so_and_retry_works_when_the_server_is_back(world, make_harness) -> None:
    world.server.kill()  # SIGKILL: no wait for keep-alive clients to leave
    try:
        h = open_app(make_harness, world.officer_dir, width=360, height=640)
        offline = "Không kết nối được máy chủ. Số liệu tổng hợp lấy từ máy chủ nên cần có mạng."
        wait_for(h, lambda: h.exists(key="dashboard:failure"))
        assert text_of(h, "dashboard:failure") == offline
        retry = h.get(key="dashboard:retry")
        assert retry.text == "Thử lại" and retry["height"] >= 48
        assert not h.exists(key="dashboard:headline")
        h.click(retry)
        wait_for(h, lambda: h.exists(key="dashboard:failure"))
    finally:
        world.server.start()
    h.click(h.get(key="dashboard:retry"))
    loaded(h)
    assert not h.exists(key="dashboard:failure")


@on_sqlite
def test_a_failed_refresh_keeps_the_figures_and_says_why(world, make_harness, monkeypatch) -> None:
    h = open_app(make_harness, world.officer_dir)
    loaded(h)
    monkeypatch.setattr(ServerApi, "progress", lambda self, commune: (_ for _ in ()).throw(
        Offline("no connection to the server (ConnectError)")))
    h.click(h.get(key="dashboard:refresh"))
    wait_for(h, lambda: h.exists(key="dashboard:failure"))
    assert text_of(h, "dashboard:failure") == ("Không kết nối được máy chủ. Số liệu tổng hợp lấy từ máy chủ nên cần "
                                               "có mạng. Đang hiện số liệu của lần cập nhật trước.")
    assert h.exists(key="dashboard:headline") and h.exists(key="dashboard:updated")
    monkeypatch.undo()
    h.click(h.get(key="dashboard:retry"))
    wait_for(h, lambda: not h.exists(key="dashboard:failure") and h.exists(key="dashboard:headline"))


def saved_files(h: AppHarness) -> list[dict[str, Any]]:
    return [call["args"] for call in h.invocations if call["name"] == "save_file"]


def download(h: AppHarness, key: str) -> dict[str, Any]:
    count = len(saved_files(h))
    h.click(h.get(key=key))
    wait_for(h, lambda: len(saved_files(h)) > count)
    return saved_files(h)[-1]


def sheet_values(data: bytes, name: str) -> list[tuple[Any, ...]]:
    return list(openpyxl.load_workbook(io.BytesIO(data), read_only=True)[name].iter_rows(values_only=True))


@on_sqlite
def test_downloads_hand_the_servers_files_to_the_save_dialog(world, make_harness) -> None:
    h = open_app(make_harness, world.officer_dir)
    h.method_results["FilePicker.save_file"] = lambda args: "/home/officer/" + args["file_name"]
    loaded(h)
    officer = world.officer
    csv = download(h, "dashboard:download:card_capture")
    server_csv = officer.get("/api/v1/followup", commune=WARD, list="card_capture", format="csv").content
    assert csv["src_bytes"] == server_csv and csv["file_name"].endswith(".csv")
    assert "Lê Văn Cường".encode() in csv["src_bytes"]
    assert h.exists(ft.Text, text=f"Đã tải về: {csv['file_name']}")
    totals_csv = download(h, "dashboard:totals_csv")
    assert totals_csv["src_bytes"] == officer.get("/api/v1/exports/totals.csv", commune=WARD).content
    workbook = download(h, "dashboard:xlsx")
    assert workbook["file_name"].startswith("gocua-tong-hop-10525") and workbook["file_name"].endswith(".xlsx")
    server_xlsx = officer.get("/api/v1/exports/totals.xlsx", commune=WARD).content
    for sheet in ("Tổng hợp", "Cần theo dõi"):  # "Thông tin" says when it was made: that differs
        assert sheet_values(workbook["src_bytes"], sheet) == sheet_values(server_xlsx, sheet)
    # the save dialog is one service of the page, whatever the number of downloads
    assert len([c for c in h.page._services._services if isinstance(c, ft.FilePicker)]) == 1
    # every download reached the audit log on the server
    actions = [e["action"] for e in officer.get("/api/v1/audit", commune=WARD, limit=1000).json()["entries"]]
    assert {"followup.download", "export.totals.csv", "export.totals.xlsx"} <= set(actions)


@on_sqlite
def test_a_refused_download_says_why(world, make_harness, tmp_path, monkeypatch) -> None:
    h = open_app(make_harness, world.officer_dir)
    loaded(h)
    monkeypatch.setattr(ServerApi, "totals_xlsx", lambda self, commune: (_ for _ in ()).throw(
        Rejected("the server refused the request (403 forbidden): no")))
    h.click(h.get(key="dashboard:xlsx"))
    wait_for(h, lambda: h.exists(ft.Text, text_contains="Chưa tải được tệp: Máy chủ từ chối"))
    assert saved_files(h) == []
    assert not h.get(key="dashboard:xlsx").disabled  # ready for another try


@on_sqlite
def test_a_follow_up_list_pages_as_the_server_pages(world, make_harness, monkeypatch) -> None:
    monkeypatch.setattr(dashboard_model, "PAGE_SIZE", 2)
    h = open_app(make_harness, world.officer_dir, width=360, height=640)
    loaded(h)
    h.click(h.get(key="dashboard:followup:card_capture"))
    assert h.route == "/totals/followup/card_capture" and len(h.views) == 2
    wait_for(h, lambda: h.exists(key="followup:count"))
    rows = world.officer.get("/api/v1/followup", commune=WARD, list="card_capture", limit=1000).json()["rows"]
    assert len(rows) == 3
    assert text_of(h, "followup:count") == "Đang hiện 2 dòng đầu; còn 1 người nữa"  # the dashboard counted 3
    first = h.get(key=f"followup:row:{rows[0]['person_id']}").text
    assert rows[0]["label"] in first and "Thẻ: Chưa có thẻ" in first and "Cần làm: Thu nhận thẻ căn cước" in first
    assert not h.exists(key=f"followup:row:{rows[2]['person_id']}")
    h.click(h.get(key="followup:more"))
    wait_for(h, lambda: h.exists(key=f"followup:row:{rows[2]['person_id']}"))
    assert text_of(h, "followup:count") == "3 người" and not h.exists(key="followup:more")
    dung = h.get(key=f"followup:row:{world.p['Dung']}").text
    assert "Vướng mắc: Không đi lại được" in dung and "Thu nhận tại nhà" in dung
    assert "thông tin cá nhân" in " ".join(h.texts()).lower()
    h.back()
    assert h.route == "/totals"
    # the revisit list: households, and as long as the dashboard said
    h.click(h.get(key="dashboard:followup:revisit"))
    wait_for(h, lambda: h.exists(key="followup:count"))
    assert text_of(h, "followup:count") == "1 hộ"
    assert "Số 2, phố Lê Lợi" in h.get(key=f"followup:row:{world.h['h2']}").text
    views = [e for e in world.officer.get("/api/v1/audit", commune=WARD, limit=1000).json()["entries"]
             if e["action"] == "followup.view"]
    assert {e["detail"]["list"] for e in views} >= {"card_capture", "revisit"}


@on_sqlite
def test_an_officer_never_sees_another_commune(world, make_harness) -> None:
    def elsewhere(shell: Any) -> None:  # a stale choice in the session must not widen the scope
        shell.ui["dashboard.commune"] = RURAL

    h = open_app(make_harness, world.officer_dir, before=elsewhere)
    loaded(h)
    assert text_of(h, "dashboard:commune") == "Phường Hải Dương"
    assert not h.exists(key="dashboard:commune_picker")
    assert "Thôn Đông" not in " ".join(h.texts())
    with Store(world.officer_dir, key=default_key(world.officer_dir)) as store:
        api = ServerApi(store)
        with pytest.raises(Rejected) as refused:
            api.progress(RURAL)
        assert refused.value.status == 403
        with pytest.raises(Rejected):
            api.followup_csv(RURAL, "revisit")
        api.close()


@on_sqlite
def test_a_leader_sees_the_teams_figures_without_follow_up_lists(world, make_harness, tmp_path) -> None:
    path = enrolled(world.server, tmp_path / "leader", "leader", team=world.team)
    h = open_app(make_harness, path)
    assert nav(h)[0] == "Trang chủ"  # a leader lands on Home
    h.click(h.get(ft.NavigationBarDestination, text="Tổng hợp"))
    loaded(h)
    assert h.exists(ft.Text, text_contains="Số liệu các thôn, tổ dân phố của tổ bạn")
    assert not h.exists(key="dashboard:followups") and not h.exists(key="dashboard:teams")
    team_total = world.totals(world.device_of(path))["total"]
    assert shows_visited(h, team_total)
    h.click(h.get(key="dashboard:team"))  # the leader's own team screen, reused
    assert h.route == "/totals/team"
    wait_for(h, lambda: h.exists(ft.Text, text="Máy này (bạn)"))


@on_sqlite
def test_both_languages_lay_out_at_360_with_no_missing_keys(world, make_harness) -> None:
    h = open_app(make_harness, world.officer_dir, width=360, height=640)
    routes = ("/totals", "/totals/followup/level2", "/totals/team")
    for lang in ("vi", "en"):
        if lang == "en":
            h.go("/settings")
            h.click(h.get(ft.Radio, text="English"))
        for route in routes:
            h.go(route)
            ready = {"/totals": "dashboard:headline", "/totals/team": f"member:{world.officer.id}"}.get(
                route, "followup:count")
            wait_for(h, lambda ready=ready: h.exists(key=ready))
            bad = [p for root in h.screen() for p in problems(root)]
            assert not bad, f"{route} ({lang}):\n" + "\n".join(bad)
            keyish = [s for s in h.texts() if s.startswith("dashboard.")]
            assert not keyish, (route, lang, keyish)
    h.go("/totals")
    loaded(h)
    assert nav(h) == ["Dashboard", "Households", "Settings"]
    progress = world.progress(world.officer)
    deadline = datetime.fromisoformat(progress["target"]["deadline"])
    sentence = text_of(h, "dashboard:forecast")
    assert sentence.startswith("At this pace ") and f"{deadline.day} {deadline:%b} {deadline.year}" in sentence
    assert h.get(key="dashboard:refresh").text == "Refresh"
    assert "Recorded by the team; the police hold the official figures." in h.texts()


def test_e_ids_active_by_day_come_from_the_days_activations() -> None:
    days = [{"day": "2026-03-01", "helped": 4, "activated": 2}, {"day": "2026-03-02", "helped": 0, "activated": 0},
            {"day": "2026-03-03", "helped": 5, "activated": 3}]
    # 20 active today: 17 at the end of the 2nd (3 activated on the 3rd), 15 at the end of the 1st
    assert active_by_day({"eid_active": 20, "days": days}) == [17, 17, 20]
    assert active_by_day({"eid_active": 20, "days": [{"day": "2026-03-01", "helped": 4}]}) is None  # older server
    assert active_by_day({"eid_active": 0, "days": []}) is None


def test_chart_labels_stay_short_and_round() -> None:
    assert short_name("Tổ dân phố 12") == "TDP 12" and short_name("Khu Bình Minh") == "Khu Bình Minh"
    assert nice_ticks(29_638) == [0, 10_000, 20_000, 30_000]
    assert nice_ticks(412) == [0, 200, 400, 600]
    assert nice_ticks(0) == [0, 1]
