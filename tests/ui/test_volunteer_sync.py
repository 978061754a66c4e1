"""The sync screen in its states: never synced, failing offline, syncing (a
progress bar), done with a receipt that agrees, and quarantined events with
their reasons in words — against the real server in process."""
from __future__ import annotations

from pathlib import Path

import flet as ft

from field_app.net.sync import SyncStatus
from field_app.store import Work

from ..store_support import add_hamlet
from .harness import wait_for
from .volunteer import add_household, enrolled_dir, in_process_server, open_app, shell_of  # noqa: F401


def test_offline_the_screen_says_so_and_keeps_the_work(make_harness, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)  # its server address has nobody listening
    add_household(data, "Số 1, phố Hoà Bình")
    h = open_app(make_harness, data, width=360, height=640)
    h.click(h.get(ft.NavigationBarDestination, text="Đồng bộ"))
    # in households and people, never "sự kiện" (the hamlet made on this test device is a change)
    assert h.get(key="sync.state")["value"] == "Còn 1 hộ, 1 thay đổi khác chờ gửi"
    assert h.get(key="sync.pending")["value"] == "Chờ gửi: 1 hộ, 1 thay đổi khác"
    assert h.get(key="sync.last")["value"] == "Đồng bộ thành công lần cuối: chưa lần nào"
    h.click(h.get(key="sync.now"))
    wait_for(h, lambda: h.get(key="sync.state")["value"] == "Chưa đồng bộ được")
    error = h.get(key="sync.error")["value"]
    assert error.startswith("Không có mạng hoặc máy chủ không trả lời. Dữ liệu vẫn an toàn trên máy.")
    assert "Tự thử lại sau" in error
    assert h.get(key="sync.pending")["value"] == "Chờ gửi: 1 hộ, 1 thay đổi khác"
    # the receipt check says why it cannot answer
    h.click(h.get(key="sync.check"))
    wait_for(h, lambda: h.get(key="sync.receipt")["value"].startswith("Không có mạng"))


def test_a_progress_bar_while_syncing(make_harness, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)
    h = open_app(make_harness, data)
    h.click(h.get(ft.NavigationBarDestination, text="Đồng bộ"))
    assert not h.exists(key="sync.progress")
    # what BackgroundSync reports from its thread, through the app's own path
    shell_of(h).device._on_status(SyncStatus("syncing", 0.5, None, None, None, 0, None))
    wait_for(h, lambda: h.exists(key="sync.progress"))
    assert h.get(key="sync.progress")["value"] == 0.5
    assert h.get(key="sync.state")["value"] == "Đang đồng bộ…"
    assert h.get(key="sync.now").disabled


def test_sync_then_the_receipt_agrees(in_process_server, make_harness, tmp_path: Path) -> None:
    hamlet = in_process_server.hamlet()
    hid, (ba, _) = in_process_server.household(hamlet, "Số 3, phố Quang Trung", ("Nguyễn Văn Ba", "Lê Thị Tư"), "given")
    code = in_process_server.code("volunteer", hamlets=(hamlet,))
    h = open_app(make_harness, tmp_path / "phone", http=in_process_server.client, server_url=in_process_server.url)
    h.change(h.get(key="enrol.code"), code)
    h.click(h.get(key="enrol.submit"))
    wait_for(h, lambda: h.exists(ft.NavigationBar))
    h.click(h.get(ft.NavigationBarDestination, text="Đồng bộ"))
    h.click(h.get(key="sync.now"))
    wait_for(h, lambda: shell_of(h).store.household(hid) is not None and h.get(key="sync.state")["value"] == "Đã đồng bộ xong")
    store = shell_of(h).store
    store.update_person(ba, vneid="l1_active")
    store.record_visit(hid, "met", ["activation_help"], [ba])
    assert store.work() == Work(visits=1)  # its VNeID change is the visit's
    h.click(h.get(key="sync.now"))
    wait_for(h, lambda: h.get(key="sync.pending")["value"] == "Đã gửi hết"
             and h.get(key="sync.state")["value"] == "Đã đồng bộ xong")
    assert h.get(key="sync.last")["value"] == "Đồng bộ thành công lần cuối: vừa xong"
    h.click(h.get(key="sync.check"))
    wait_for(h, lambda: h.get(key="sync.receipt")["value"] == "Máy chủ đã nhận đủ mọi việc bạn đã gửi: 1 lượt thăm.")
    [row] = in_process_server.totals()["rows"]
    assert row["visited"] == 1 and row["actions"].get("activation_help") == 1


def test_quarantined_events_with_reasons_in_words(in_process_server, make_harness, tmp_path: Path) -> None:
    hamlet = in_process_server.hamlet()
    code = in_process_server.code("volunteer", hamlets=(hamlet,))
    h = open_app(make_harness, tmp_path / "phone", http=in_process_server.client, server_url=in_process_server.url)
    h.change(h.get(key="enrol.code"), code)
    h.click(h.get(key="enrol.submit"))
    wait_for(h, lambda: h.exists(ft.NavigationBar))
    store = shell_of(h).store
    add_hamlet(store, "10525", "Thôn tự đặt", "thon")  # only admins (and leaders) create hamlets
    h.click(h.get(ft.NavigationBarDestination, text="Đồng bộ"))
    h.click(h.get(key="sync.now"))
    wait_for(h, lambda: h.exists(key="sync.quarantined.1"))
    assert h.exists(ft.Text, text="Máy chủ giữ lại 1 thay đổi")
    assert h.get(key="sync.quarantined.1")["value"] == \
        "Hộ này không thuộc địa bàn của máy, hoặc việc này chỉ tổ trưởng được làm."
    assert h.exists(ft.Text, text_contains="Tạo thôn/tổ (số 1")
    h.click(h.get(ft.NavigationBarDestination, text="Trang chủ"))
    assert h.get(key="home.quarantined")["value"] == "1 thay đổi bị máy chủ giữ lại: xem lý do"


def test_a_first_sync_shows_the_pages_received(make_harness, tmp_path: Path) -> None:
    # issue #16: a first sync after enrolment pulls thousands of changes; the line counts the
    # pages the sync client has applied (BackgroundSync publishes them from on_page)
    data = enrolled_dir(tmp_path)
    h = open_app(make_harness, data)
    h.click(h.get(ft.NavigationBarDestination, text="Đồng bộ"))
    device = shell_of(h).device
    device._on_status(SyncStatus("syncing", 0.0, None, None, None, 0, None))
    wait_for(h, lambda: h.exists(key="sync.progress"))
    assert not h.exists(key="sync.pages")  # nothing received yet: no line
    device._on_status(SyncStatus("syncing", 0.0, None, None, None, 0, None, pages=3, pulled=1500))
    wait_for(h, lambda: h.exists(key="sync.pages"))
    assert h.get(key="sync.pages")["value"] == "Đã nhận 3 trang, 1.500 thay đổi từ máy chủ"
    device._on_status(SyncStatus("idle", 1.0, None, None, None, 0, 60.0, pages=16, pulled=8000))
    wait_for(h, lambda: not h.exists(key="sync.pages"))
