"""The dashboard's logic (field_app/views/models/dashboard.py): which commune, one
snapshot of the real server's answers, and the figures and sentences drawn from it."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from campaign import vocabulary as v
from campaign.ids import uuid7
from field_app.net.server_api import ServerApi
from field_app.store import Store
from field_app.views.models import dashboard as m
from sync_server.services import team as teams
from sync_server.store.db import write_transaction

from ..support import Server, enrolled_store, hamlet_data, household_data, person_data

WARD, RURAL = "10525", "10813"
NOW = datetime(2026, 3, 10, 5, 0, tzinfo=UTC)


# ---- a snapshot from the real server ----------------------------------------------------------


@dataclass
class WardWithTeam:
    server: Server
    team: str


@pytest.fixture(scope="module")
def ward_with_team(server: Server) -> WardWithTeam:
    """Two households of the ward (one visited and helped) and a team on their hamlet; a hamlet
    of another commune."""
    admin = server.enroll("admin")
    hamlet, household, person = uuid7(), uuid7(), uuid7()
    answer = admin.push([
        admin.event("hamlet.created", hamlet, hamlet_data("Tổ dân phố 2")),
        admin.event("hamlet.created", uuid7(), hamlet_data("Thôn Đông", commune=RURAL)),
        admin.event("household.created", household, household_data(hamlet, "Số 1, phố Lê Lợi")),
        admin.event("household.created", uuid7(), household_data(hamlet, "Số 2, phố Lê Lợi")),
        admin.event("person.added", person, person_data(household, "Nguyễn Văn An", 1960, card="none",
                                                        vneid="l1_active")),
        admin.event("visit.recorded", uuid7(), {"household_id": household, "outcome": "met",
                                                "actions": ["activation_help"], "people_helped": [person],
                                                "note": ""}),
    ])
    assert answer.status_code == 200 and answer.json()["quarantined"] == [], answer.text
    team = f"t-{uuid7()[-8:]}"
    with write_transaction(server.engine) as conn:
        teams.create_team(conn, team, "Tổ Lê Lợi", WARD, [hamlet])
    return WardWithTeam(server, team)


@pytest.fixture
def api_of(ward_with_team: WardWithTeam, tmp_path: Path) -> Iterator[Callable[..., tuple[Store, ServerApi]]]:
    made: list[tuple[Store, ServerApi]] = []

    def make(role: str, **scope: object) -> tuple[Store, ServerApi]:
        path = tmp_path / f"{role}-{len(made)}"
        store = enrolled_store(path, ward_with_team.server.url, ward_with_team.server.code(role, **scope))
        made.append((store, ServerApi(store)))
        return made[-1]

    yield make
    for store, api in made:
        api.close()
        store.close()


on_sqlite = pytest.mark.parametrize("server", ["sqlite"], indirect=True)


@on_sqlite
def test_an_officers_snapshot_is_their_communes_with_teams_and_follow_up(api_of) -> None:
    store, api = api_of("officer", commune=WARD)
    commune = m.scope_commune(store.scope, store.role)
    assert commune == WARD
    snapshot = m.load_snapshot(api, "officer", commune)
    assert (snapshot.commune, snapshot.communes) == (WARD, [])
    assert snapshot.total["households"] == 2 and snapshot.total["visited"] == 1
    assert snapshot.progress is not None and snapshot.progress["households"] == 2
    assert snapshot.teams is not None and snapshot.followup_counts is not None
    assert snapshot.followup_counts["card_capture"] == 1  # Nguyễn Văn An, born 1960, has no card
    assert snapshot.devices is not None and snapshot.devices_error is None
    assert snapshot.shows(WARD) and snapshot.shows(None) and not snapshot.shows(RURAL)


@on_sqlite
def test_an_admin_picks_among_the_communes_and_gets_the_first_by_default(api_of) -> None:
    store, api = api_of("admin")
    assert m.scope_commune(store.scope, "admin") is None
    first = m.load_snapshot(api, "admin", None)
    codes = [c["code"] for c in first.communes]
    assert {WARD, RURAL} <= set(codes) and first.commune == codes[0]
    assert (WARD, next(c["name"] for c in first.communes if c["code"] == WARD)) in m.commune_options(first.communes)
    assert m.load_snapshot(api, "admin", RURAL).commune == RURAL
    assert m.load_snapshot(api, "admin", "99999").commune == codes[0], "a commune not offered: the first one"


@on_sqlite
def test_a_leaders_snapshot_has_no_commune_tables(api_of, ward_with_team: WardWithTeam) -> None:
    _, api = api_of("leader", team=ward_with_team.team)
    snapshot = m.load_snapshot(api, "leader", WARD)
    assert snapshot.progress is not None and snapshot.teams is None and snapshot.followup_counts is None


def test_which_commune_a_scope_names() -> None:
    assert m.scope_commune({"commune": WARD}, "officer") == WARD
    assert m.scope_commune({"commune": WARD}, "admin") is None, "an admin picks"
    assert m.scope_commune({"commune": "123"}, "officer") is None, "not an official code"
    assert m.scope_commune(None, "leader") is None
    assert m.commune_line(WARD).endswith(" · mã 10525")
    assert m.commune_options([{"code": "10525"}, {"name": "no code"}]) == [("10525", "10525")]


# ---- the figures --------------------------------------------------------------------------------


def test_the_headline() -> None:
    total = {"households": 1200, "visited": 300, "revisit": 12, "people": 4000, "eid_active": 1000,
             "chip_card": 2000, "helped": 450, "visits": 380}
    visited, eid, chip, helped = m.headline(total)
    assert (visited.label, visited.value, visited.detail, visited.key, visited.share) == \
        ("Hộ đã thăm", "300", "25,0 % của 1.200 hộ · 12 hộ cần quay lại", "dashboard:visited", 0.25)
    assert (eid.value, eid.detail, eid.share) == ("1.000", "25,0 % của 4.000 người", 0.25)
    assert (chip.value, chip.share) == ("2.000", 0.5)
    assert (helped.value, helped.detail, helped.share) == ("450", "qua 380 lượt thăm", None)
    assert m.headline({})[0].detail == "0 trên 0 hộ · 0 hộ cần quay lại"
    # a handful is said as a count, not as "0,0 %"
    few = m.headline({"households": 11, "visited": 0, "people": 11, "eid_active": 0})
    assert few[0].detail.startswith("0 trên 11 hộ") and few[1].detail == "0 trên 11 người"


def test_the_forecast_sentences_follow_the_numbers() -> None:
    say = m.forecast_sentence
    target = {"deadline": "2027-01-28"}
    assert say({"short_of_target": 0, "share_at_deadline": 0.95, "needed_a_day": 0}, target) == \
        "Đã đạt mục tiêu; với tốc độ này, đạt 95,0 % số người vào 28/01/2027."
    assert say({"short_of_target": 1234, "share_at_deadline": 0.5, "needed_a_day": None}, target) == \
        "Đã quá hạn 28/01/2027; còn thiếu 1.234 người so với mục tiêu."
    assert say({"short_of_target": 10, "share_at_deadline": 0.875, "needed_a_day": 3}, target) == \
        "Với tốc độ này, đạt 87,5 % số người vào 28/01/2027; cần 3 người mỗi ngày để đạt mục tiêu đúng hạn."


def test_the_target_and_its_pace() -> None:
    forecast = {"short_of_target": 200, "needed_a_day": 10, "on_track": False, "share_at_deadline": 0.6,
                "days_left": 20, "window_days": 7, "helped_a_day": 6.5, "visited_a_day": 3.4,
                "visited_share_at_deadline": 0.9, "visited_at_deadline": 1080, "days_to_visit_all": 0}
    progress = {"eid_active": 300, "households": 1200, "people": 4000, "campaign": {"name": "Chiến dịch Phường Hải Dương"},
                "target": {"kind": "people", "people": 500, "deadline": "2027-01-28"}, "forecast": forecast}
    aim = m.target(progress)
    assert aim is not None
    assert aim.name == "Chiến dịch Phường Hải Dương"
    assert aim.aim == "Mục tiêu: 500 người có định danh điện tử đã kích hoạt trước 28/01/2027."
    assert (aim.share, aim.reached) == (0.6, "Hiện có 300 / 500 người (60,0 % mục tiêu).")
    assert aim.pace == ("revisit", "Chậm tiến độ")
    # the share of all the people is a figure of its own, never beside the pace
    assert aim.residents == "Hiện có 300 / 4.000 người đang sinh sống đã kích hoạt (7,5 % số người)."
    assert aim.lines == [
        "Còn 20 ngày đến hạn, tính cả hôm nay.",
        "Tốc độ 7 ngày qua: mỗi ngày 6,5 người được hỗ trợ, 3,4 hộ được thăm lần đầu.",
        "Thăm hộ: với tốc độ này, đến hạn thăm được 90,0 % số hộ (1.080/1.200).",
        "Đã thăm hết các hộ đã biết.",
        "Dự báo coi mỗi người được hỗ trợ là một tài khoản được kích hoạt, nên là mức cao nhất có thể đạt.",
    ]
    assert m.pace({**forecast, "on_track": True}) == ("done", "Kịp tiến độ")
    assert m.pace({**forecast, "needed_a_day": None}) == ("problem", "Đã quá hạn")
    assert m.pace({**forecast, "short_of_target": 0}) == ("done", "Đã đạt mục tiêu")
    exact = m.pace_lines(progress, {**forecast, "activated_a_day": 4.0, "days_to_visit_all": 12})
    assert exact[1].startswith("Tốc độ 7 ngày qua: mỗi ngày 4,0 người được kích hoạt")
    assert exact[-1] == "Cần khoảng 12 ngày nữa để thăm hết các hộ.", "no upper-bound warning when exact"
    assert m.target({**progress, "campaign": None}) is None
    capped = m.target({**progress, "eid_active": 900})
    assert capped is not None and capped.share == 1.0, "the bar stops at the goal"


def test_counts_by_code() -> None:
    lines = m.count_lines(v.CARD, {"none": 3, "cccd_chip": 1}, 4, "dashboard:card")
    assert [line.key for line in lines] == [f"dashboard:card:{code}" for code in v.CARD.codes]
    none = next(line for line in lines if line.key == "dashboard:card:none")
    assert (none.label, none.count, none.percent, none.share) == ("Chưa có thẻ", "3", "3/4", 0.75)
    [many] = m.count_lines(v.CARD, {"none": 30}, 40, "k", ("none",))
    assert many.percent == "75,0 %"
    assert [line.key for line in m.count_lines(v.VNEID, {}, 0, "k", ("no_app", "unknown"))] == ["k:no_app", "k:unknown"]


def test_tables_on_a_laptop_and_on_a_phone() -> None:
    row = {"key": "h1", "name": "Tổ dân phố 2", "households": 4, "visited": 1, "revisit": 1, "people": 10,
           "eid_active": 3, "chip_card": 5, "helped": 2}
    assert m.table_cells(row) == ["Tổ dân phố 2", "4", "1/4", "1", "10", "3/10", "5", "2"]
    big = {**row, "households": 40, "visited": 10, "people": 100, "eid_active": 30}
    assert m.table_cells(big)[2::3] == ["10 (25,0 %)", "30 (30,0 %)"]
    assert m.card_lines(big)[:2] == ("Đã thăm 10/40 hộ (25,0 %) · 1 cần quay lại", "Đã kích hoạt 30/100 người (30,0 %)")
    assert m.table_cells(row, "Tổng")[0] == "Tổng"
    assert m.table_cells({"key": "t-1"})[0] == "t-1"
    assert m.card_lines(row) == ("Đã thăm 1/4 hộ · 1 cần quay lại", "Đã kích hoạt 3/10 người",
                                 "Thẻ gắn chip: 5 · Được hỗ trợ: 2")
    assert m.table_total({"by": "hamlet", "total": row}) == row
    assert m.table_total({"by": "team", "total": row}) is None, "teams may overlap: their total is no sum"


def test_the_days_newest_first_two_weeks_at_most() -> None:
    days = [{"day": f"2026-03-{n:02d}", "visited": n, "visits": n, "helped": 0, "activated": 0} for n in range(1, 21)]
    shown = m.by_day({"days": [*days, "not a day"]})
    assert [d["day"] for d in shown] == [f"2026-03-{n:02d}" for n in range(20, 6, -1)]
    assert m.day_cells(shown[0]) == ["20/03/2026", "20", "20", "0", "0"]
    assert m.day_line(shown[0]) == ("20/03/2026: 20 hộ thăm lần đầu · 20 lượt thăm · 0 người được hỗ trợ · "
                                    "0 kích hoạt")


def test_the_teams_sync() -> None:
    def at(hours: float) -> str:
        return (NOW - timedelta(hours=hours)).isoformat()

    devices = [{"last_push_at": at(1), "quarantined": 2}, {"last_pull_at": at(30)}, {},
               {"last_push_at": at(1), "revoked": True, "quarantined": 9}, {"last_pull_at": at(2), "quarantined": 1}]
    summary = m.sync_summary(devices, NOW)
    assert (summary.fresh, summary.stale, summary.never, summary.held, summary.held_devices, summary.active) == \
        (2, 1, 1, 3, 2, 4)
    assert summary.devices_line() == "4 máy đang dùng"
    assert summary.chips() == [("done", "2 máy đồng bộ trong 24 giờ qua"), ("revisit", "1 máy lâu hơn 24 giờ"),
                               ("problem", "1 máy chưa đồng bộ lần nào")]
    assert summary.held_line() == "Bị giữ lại: 3 thay đổi trên 2 máy, cần xem lý do."
    quiet = m.sync_summary([{"last_push_at": at(1)}], NOW)
    assert quiet.chips() == [("done", "1 máy đồng bộ trong 24 giờ qua")]
    assert quiet.held_line() == "Không có thay đổi nào bị giữ lại."


def test_the_follow_up_tiles() -> None:
    tiles = m.followup_tiles({"card_capture": 12, "revisit": 3})
    assert [tile.name for tile in tiles] == list(m.LISTS)
    card, level2, _, _, revisit = tiles
    assert card.label == "Thu nhận thẻ căn cước" and level2.label == "Đăng ký định danh mức 2"
    assert card.subtitle == "Từ 14 tuổi, chưa có thẻ hoặc chỉ có CMND 9 số · 12 người"
    assert revisit.subtitle == "Hộ mà lượt thăm gần nhất không gặp ai ở nhà · 3 hộ"
    assert level2.subtitle.endswith(" · mở để xem số lượng")
    assert card.download == "Tải CSV: Thu nhận thẻ căn cước"


def test_a_follow_up_list_page_by_page() -> None:
    pager = m.FollowupPager("card_capture")
    pager.add({"rows": [], "next": None, "more": False})
    assert pager.head() == "Không có ai trong danh sách này."
    pager.add({"rows": [{"person_id": "p1"}, {"person_id": "p2"}], "next": "p2", "more": True})
    assert (pager.after, pager.more, pager.head()) == ("p2", True, "Đang hiện 2 dòng đầu; còn nữa")
    pager.add({"rows": [{"person_id": "p3"}], "next": None, "more": False})
    assert (len(pager.rows), pager.head()) == (3, "3 người")
    # the dashboard's count says how many are left
    counted = m.FollowupPager("level2", total=112)
    counted.add({"rows": [{"person_id": f"p{i}"} for i in range(100)], "next": "p99", "more": True})
    assert counted.head() == "Đang hiện 100 dòng đầu; còn 12 người nữa"
    households = m.FollowupPager("revisit")
    households.add({"rows": [{"household_id": "h1"}], "more": False})
    assert households.head() == "1 hộ"


def test_a_follow_up_row_in_words() -> None:
    person = m.followup_card("card_capture", {
        "person_id": "p1", "label": "Nguyễn Văn An", "birth_year": 1960, "hamlet": "Tổ dân phố 2",
        "address": "Số 1, phố Lê Lợi", "card": "none", "vneid": None, "blockers": ["no_otp", "odd"],
        "needs": ["card_capture", "l2", "odd"]})
    assert (person.key, person.title) == ("followup:row:p1", "Nguyễn Văn An")
    assert person.subtitle == "Sinh năm 1960 · Tổ dân phố 2 · Số 1, phố Lê Lợi"
    assert (person.card, person.vneid) == ("none", "unknown")
    assert person.lines == ["Vướng mắc: Không nhận được OTP"]
    assert person.needs == "Cần làm: Thu nhận thẻ căn cước, Đăng ký định danh mức 2"
    unknown = m.followup_card("activation", {"person_id": "p2"})
    assert (unknown.subtitle, unknown.lines, unknown.needs) == ("Chưa rõ năm sinh", [], None)
    revisit = m.followup_card("revisit", {"household_id": "h1", "address": "Số 2", "hamlet": "Tổ dân phố 2",
                                          "visits": 2, "last_visit_at": None})
    assert (revisit.key, revisit.title, revisit.subtitle) == ("followup:row:h1", "Số 2", "Tổ dân phố 2")
    assert revisit.lines == ["Đã đến 2 lần · lần gần nhất chưa bao giờ"] and revisit.card is None
