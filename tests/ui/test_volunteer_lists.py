"""Home figures and the household list (search, filters, paging, hamlets)."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import flet as ft

from field_app.views.households import PAGE

from ..store_support import add_hamlet
from .volunteer import WARD, Taps, add_household, device_store, enrolled_dir, open_app, shell_of

PEOPLE = [{"label": "Nguyễn Văn An", "birth_year": 1960, "card": "cccd_chip", "vneid": "no_app"}]


def three_households(data: Path) -> dict[str, str]:
    """One met today, one nobody home, one not visited that needs a card."""
    met, _ = add_household(data, "Số 1, phố Hoà Bình", PEOPLE, consent="given")
    away, _ = add_household(data, "Số 2, phố Hoà Bình", PEOPLE, consent="given")
    new, _ = add_household(data, "Số 3, phố Hòa Bình", [{"label": "Lê Văn Tám", "birth_year": 1990, "card": "none"}])
    with device_store(data) as store:
        store.record_visit(met, "met", ["explained"])
        store.record_visit(away, "not_home")
    return {"met": met, "away": away, "new": new}


def test_home_shows_todays_work_and_what_is_left(make_harness, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)
    three_households(data)
    with device_store(data) as store:
        store.record_sync_success((datetime.now().astimezone() - timedelta(minutes=5)).isoformat(timespec="seconds"))
    h = open_app(make_harness, data, width=360, height=640)
    assert h.get(key="home.today")["value"] == "2"
    assert h.get(key="home.left")["value"] == "1"
    assert h.get(key="home.revisit")["value"] == "1"
    assert h.get(key="home.follow_up")["value"] == "1"  # Lê Văn Tám has no card
    # two visits, the three households and their people added, the hamlet made here: never "sự kiện"
    assert h.get(key="home.pending")["value"] == "Chờ gửi: 2 lượt thăm, 3 hộ, 3 người, 1 thay đổi khác"
    assert h.get(key="home.last_sync")["value"] == "Đồng bộ lần cuối: 5 phút trước"
    assert not h.exists(key="home.quarantined")
    # the app bar shows the unsent count on every screen
    assert h.get(key="appbar.sync")["badge"]["label"] == "9"  # 2 visits, 3 households, 3 people, 1 hamlet

    # a tile opens the list with its filter on
    h.click(h.get(key="home.tile.revisit"))
    assert h.route == "/households?filter=revisit"
    assert h.get(key="households.filter.revisit")["selected"] is True
    assert next(c.text for c in h.find(ft.ListTile)).startswith("Số 2, phố Hoà Bình")
    assert len(h.find(ft.ListTile)) == 1


def test_quarantined_events_are_counted_with_a_link_to_sync(make_harness, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)
    with device_store(data) as store:
        store.acknowledge(store.last_seq, [{"seq": 1, "reason": "forbidden: only an admin creates hamlets"}])
    h = open_app(make_harness, data)
    assert h.get(key="home.quarantined")["value"] == "1 thay đổi bị máy chủ giữ lại: xem lý do"
    h.click(h.get(key="home.quarantined").parent.parent)
    assert h.route == "/sync"


def test_search_as_you_type_on_the_folded_key(make_harness, tmp_path: Path) -> None:
    # How fast the list and a keystroke are is measured by `python -m devtools.bench.device`
    # (BENCHMARKS.md), not timed here: a timed test fails on a loaded CI machine.
    data = enrolled_dir(tmp_path)
    with device_store(data) as store, store.db.atomic():
        hamlet = store.hamlets()[0].id
        for i in range(400):
            hid = store.add_household(hamlet, f"Số {i + 1}, ngõ {i % 17}, phố Lê Lợi")
            store.add_person(hid, f"Nguyễn Văn Số{i}" if i % 10 == 0 else f"Trần Thị Số{i}", 1970)
            store.add_person(hid, None, 2001)
    h = open_app(make_harness, data, width=360, height=640)
    h.click(h.get(ft.NavigationBarDestination, text="Hộ dân"))
    assert h.get(key="households.summary")["value"] == "400 hộ"
    rows = h.find(ft.ListTile)
    assert len(rows) == PAGE == 40, "sent a page at a time"
    # walking order: alley by alley ("ngõ 2" before "ngõ 10"), then "Số 1" before "Số 18" in each
    walk = sorted(range(400), key=lambda i: (i % 17, i))
    assert [r["title"].text for r in rows[:3]] == ["Số 1, ngõ 0, phố Lê Lợi", "Số 18, ngõ 0, phố Lê Lợi",
                                                   "Số 35, ngõ 0, phố Lê Lợi"]
    assert rows[39]["title"].text == f"Số {walk[39] + 1}, ngõ {walk[39] % 17}, phố Lê Lợi"
    h.change(h.get(key="households.search"), "nguyen van")
    assert h.get(key="households.summary")["value"] == "Tìm thấy 40 trong 400 hộ: 40 theo tên người"
    found = [r["title"].text for r in h.find(ft.ListTile)]
    assert found == [f"Số {i + 1}, ngõ {i % 17}, phố Lê Lợi"  # every Nguyễn Văn, in walking order
                     for i in sorted(range(0, 400, 10), key=lambda i: (i % 17, i))]
    assert not h.exists(key="households.more")
    h.change(h.get(key="households.search"), "NGUYỄN văn số10")
    rows = h.find(ft.ListTile)
    # the whole name first ("Nguyễn Văn Số10"), then the name beginning so ("… Số100")
    assert [r["title"].text for r in rows] == ["Số 11, ngõ 10, phố Lê Lợi", "Số 101, ngõ 15, phố Lê Lợi"]
    assert "2 người" in rows[0].text and "Chưa thăm" in rows[0].text
    h.change(h.get(key="households.search"), "khong co ai")
    assert h.get(key="households.summary")["value"] == "Tìm thấy 0 trong 400 hộ"
    assert not h.find(ft.ListTile) and h.exists(key="households.none")
    h.click(h.get(key="households.clear"))
    assert h.get(key="households.summary")["value"] == "400 hộ"
    assert len(h.find(ft.ListTile)) == PAGE, "a new search starts again at the first page"
    for shown in range(2 * PAGE, 401, PAGE):
        h.click(h.get(key="households.more"))
        assert len(h.find(ft.ListTile)) == shown
    assert not h.exists(key="households.more")
    assert h.find(ft.ListTile)[-1]["title"].text == f"Số {walk[-1] + 1}, ngõ {walk[-1] % 17}, phố Lê Lợi"


def test_filter_chips_and_row_status_in_words(make_harness, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)
    ids = three_households(data)
    with device_store(data) as store:  # a leader returned the met visit
        visit = store.visits(ids["met"])[0].id
        store.decide_review(visit, "returned", "Thiếu năm sinh của bà")
    h = open_app(make_harness, data)
    h.click(h.get(ft.NavigationBarDestination, text="Hộ dân"))
    tap = Taps(h)
    status = {r["title"].text: r["subtitle"].text for r in h.find(ft.ListTile)}
    assert status == {"Số 1, phố Hoà Bình": "Bị trả lại 1 người", "Số 2, phố Hoà Bình": "Cần quay lại 1 người",
                      "Số 3, phố Hòa Bình": "Cần theo dõi 1 người"}
    for f, label, expected in (("not_visited", "Chưa thăm (1)", "Số 3"), ("revisit", "Cần quay lại (1)", "Số 2"),
                               ("follow_up", "Cần theo dõi (1)", "Số 3"), ("returned", "Bị trả lại (1)", "Số 1")):
        chip = h.get(key=f"households.filter.{f}")
        assert chip["label"].text == label
        tap(chip)
        assert [r["title"].text.split(",")[0] for r in h.find(ft.ListTile)] == [expected]
        tap(h.get(key=f"households.filter.{f}"))  # again: the filter is off
        assert len(h.find(ft.ListTile)) == 3
    # each status row has an icon shape as well as the words
    pill = h.get(ft.Text, text="Cần quay lại").parent
    assert any(c.type == "Icon" for c in pill.children())


def test_hamlet_picker_when_there_are_several(make_harness, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)
    with device_store(data) as store:
        other = add_hamlet(store, WARD, "Tổ dân phố 9", "to_dan_pho")
    add_household(data, "Số 1, phố Hoà Bình")
    add_household(data, "Số 5, phố Trần Phú", hamlet_id=other)
    h = open_app(make_harness, data)
    h.click(h.get(ft.NavigationBarDestination, text="Hộ dân"))
    picker = h.get(key="households.hamlet")
    assert [o["text"] for o in picker["options"]] == ["Tất cả", "Tổ dân phố 3 (1 hộ)", "Tổ dân phố 9 (1 hộ)"]
    assert len(h.find(ft.ListTile)) == 2
    h.update_props(picker, {"value": other})
    h.event(picker, "select", other)
    assert [r["title"].text for r in h.find(ft.ListTile)] == ["Số 5, phố Trần Phú"]
    assert shell_of(h).ui["households.hamlet"] == other


def test_my_households_open_first_then_the_rest_of_the_hamlet(make_harness, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)
    ids = three_households(data)
    h = open_app(make_harness, data, width=360, height=640)
    h.go("/households")
    assert not h.exists(key="households.section.mine")  # nothing assigned: the list as before
    with device_store(data) as store:  # the leader's assignment, as it arrives by sync
        store.writer.record("assignment.set", ids["new"], {"device_id": "device-1"})
    h.go("/")
    h.go("/households")
    assert h.get(key="households.section.mine")["value"] == "Của tôi (1 hộ)"
    assert h.get(key="households.section.rest")["value"] == "Còn lại trong thôn/tổ"
    tiles = [c.text for c in h.find(ft.ListTile)]
    assert tiles[0].startswith("Số 3, phố Hòa Bình")
    assert [t[:17] for t in tiles[1:]] == ["Số 1, phố Hoà Bìn", "Số 2, phố Hoà Bìn"]


def test_the_walk_sheets_code_typed_in_the_search_opens_the_household(make_harness, tmp_path: Path) -> None:
    from campaign.ids import short_code

    data = enrolled_dir(tmp_path)
    ids = three_households(data)
    code = short_code(ids["away"])
    h = open_app(make_harness, data, width=360, height=640)
    h.go("/households")
    typed = f"{code[:3].lower()}-{code[3:]}".replace("0", "o")  # as read off the paper
    h.change(h.get(key="households.search"), typed)
    hit = h.get(key=f"households.code.{ids['away']}")
    assert hit.text == f"Mã {code}: Số 2, phố Hoà Bình"
    h.click(hit)
    assert h.route == f"/households/{ids['away']}"
