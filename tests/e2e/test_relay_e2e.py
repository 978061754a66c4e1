"""The sealed relay end to end (issue #15): headless Chromium, real servers (uvicorn, SQLite),
three web apps in their own processes and data dirs.

"Offline" here: the volunteer's app is enrolled at a first server, which is then STOPPED for
good; its stored server address is a closed port from then on, so it cannot sync on its own at
any point of the test. A second server starts on the same database at another port; the
leader's and the officer's apps are enrolled there.

1. The volunteer records a visit with no server, taps "Gửi nhờ": the browser downloads the
   sealed file; the screen says what was sealed and the visit stays "Chờ gửi".
2. The leader's app picks that file ("Chọn tệp gửi nhờ", the browser's file dialog) and
   uploads it: the screen says the server took it; "Lưu biên nhận để gửi lại" downloads the receipt.
3. The officer's dashboard counts the visit.
4. The volunteer's app opens the receipt ("Mở biên nhận"): "Đã gửi hết".

Screenshots (390x844 and 360x640, the relay cards scrolled into view): relay-sealed-*,
relay-carried-*, relay-receipt-*.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from campaign import relay as fmt
from campaign.ids import uuid7
from tests.server.reporting import make_team
from tests.support import Server, cli, hamlet_data, household_data, person_data

from .conftest import FlutterPage, WebApp, _stop, open_page, start_web_app, wait_up

pytestmark = pytest.mark.e2e

WARD = "10525"
ADDRESS = "Số 9, ngõ 14, phố Hàng Bạc"
LABEL = "Phạm Văn Khải"
SIZES = ((390, 844), (360, 640))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    db_url = f"sqlite:///{tmp_path / 'server.db'}"
    first, second = Server(db_url), Server(db_url)  # two ports, one database
    apps: list[WebApp] = []
    try:
        cli(db_url, "init")
        first.start()
        admin = first.enroll("admin")
        hamlet, household = uuid7(), uuid7()
        answer = admin.push([
            admin.event("hamlet.created", hamlet, hamlet_data("Tổ dân phố 5")),
            admin.event("household.created", household, household_data(hamlet, ADDRESS)),
            admin.event("person.added", uuid7(), person_data(household, LABEL, 1961, vneid="no_app")),
        ])
        assert answer.status_code == 200 and answer.json()["quarantined"] == [], answer.text
        make_team(first, "t5", WARD, [hamlet])
        volunteer = start_web_app(tmp_path, tmp_path / "volunteer", "--server", first.url,
                                  "--enrol", first.code("volunteer", team="t5", name="Nguyễn Thị Lan"))
        apps.append(volunteer)
        wait_up(volunteer)
        yield {"first": first, "second": second, "admin": admin, "volunteer": volunteer, "apps": apps,
               "tmp": tmp_path}
    finally:
        for app in apps:
            _stop(app.process)
        first.stop()
        second.stop()


def scroll_to(app: FlutterPage, locator: Any) -> None:
    """Wheel the screen down until `locator` is in view (the relay cards are below the sync status)."""
    app.page.mouse.move(180, 400)
    for _ in range(12):
        if locator.count() and locator.first.is_visible() and locator.first.bounding_box()["y"] < \
                app.page.viewport_size["height"] - 200:
            break
        app.page.mouse.wheel(0, 300)
        app.settle(0.3)
    app.page.mouse.move(2, 2)


def shoot(app: FlutterPage, name: str, anchor: Any) -> None:
    for width, height in SIZES:
        app.resize(width, height)
        app.settle(0.8)
        scroll_to(app, anchor)
        app.settle(0.5)
        app.screenshot(f"{name}-{width}x{height}")
    app.resize(*SIZES[0])


def button(app: FlutterPage, name: str) -> Any:
    return app.page.get_by_role("button", name=name, exact=True)


def text_like(app: FlutterPage, pattern: str) -> Any:
    return app.page.locator("flt-semantics").get_by_text(re.compile(pattern)).first


def test_a_visit_carried_by_the_leader_reaches_the_dashboard_and_the_receipt_comes_back(browser, world) -> None:
    first: Server = world["first"]
    second: Server = world["second"]
    phone = open_page(browser, world["volunteer"].url, *SIZES[0])
    expect(phone.text("Đã thăm 0/1 hộ")).to_be_visible()  # its first sync brought the hamlet down

    # -- the volunteer's server goes away for good; the visit is recorded with no signal ---------
    first.stop()
    phone.tab("Hộ dân").click()
    button_row = phone.page.get_by_role("button").filter(has_text=ADDRESS)
    expect(button_row).to_be_visible()
    button_row.click()
    button(phone, "Đã gặp").click()
    expect(text_like(phone, "vừa xong · Đã gặp")).to_be_visible()
    phone.page.go_back()
    phone.tab("Đồng bộ").click()
    expect(phone.text("Chờ gửi: 1 lượt thăm")).to_be_visible()
    send = button(phone, "Gửi nhờ")
    scroll_to(phone, send)
    with phone.page.expect_download() as downloaded:
        send.click()
    bundle_name = downloaded.value.suggested_filename
    bundle = Path(downloaded.value.path()).read_bytes()
    header = fmt.read_bundle(bundle)
    assert re.fullmatch(rf"gocua-gui-nho-[0-9A-F]{{6}}-{header['seq_from']}-{header['seq_to']}\.gocua", bundle_name)
    assert LABEL.encode() not in bundle and ADDRESS.encode() not in bundle
    expect(text_like(phone, r"^Đã đóng gói 1 lượt thăm \(thay đổi số \d+\) vào tệp ")).to_be_visible()
    expect(phone.text("Chờ gửi: 1 lượt thăm")).to_be_visible()  # not settled by making the file
    shoot(phone, "relay-sealed", text_like(phone, "^Đã đóng gói"))

    # -- the leader's app, at the second server, carries the file ----------------------------------
    second.start()
    leader_app = start_web_app(world["tmp"], world["tmp"] / "leader", "--server", second.url,
                               "--enrol", second.code("leader", team="t5"))
    world["apps"].append(leader_app)
    wait_up(leader_app)
    leader = open_page(browser, leader_app.url, *SIZES[0])
    leader.set_pin()
    expect(leader.tab("Trang chủ")).to_be_visible()
    open_sync = button(leader, "Xem đồng bộ")  # a leader has no sync tab: Home's sync card opens it
    scroll_to(leader, open_sync)
    open_sync.click()
    choose = button(leader, "Chọn tệp gửi nhờ")
    scroll_to(leader, choose)
    with leader.page.expect_file_chooser() as chosen:
        choose.click()
    chosen.value.set_files(files=[{"name": bundle_name, "mimeType": "application/octet-stream", "buffer": bundle}])
    # the leader's app names the volunteer from its team list
    expect(text_like(leader, r"^Máy chủ đã nhận 1 thay đổi của Nguyễn Thị Lan\. ")).to_be_visible()
    save = button(leader, "Lưu biên nhận để gửi lại")
    scroll_to(leader, save)
    with leader.page.expect_download() as receipt_download:
        save.click()
    receipt_name = receipt_download.value.suggested_filename
    receipt = Path(receipt_download.value.path()).read_bytes()
    assert re.fullmatch(rf"gocua-bien-nhan-[0-9A-F]{{6}}-{header['seq_to']}\.gocua", receipt_name)
    shoot(leader, "relay-carried", text_like(leader, r"^Máy chủ đã nhận \d+ thay đổi của "))

    # -- the officer's dashboard counts the visit --------------------------------------------------
    officer_app = start_web_app(world["tmp"], world["tmp"] / "officer", "--server", second.url,
                                "--enrol", second.code("officer", commune=WARD))
    world["apps"].append(officer_app)
    wait_up(officer_app)
    officer = open_page(browser, officer_app.url, *SIZES[0])
    officer.set_pin()
    expect(officer.text("1 trên 1 hộ · 0 hộ cần quay lại")).to_be_visible()

    # -- back on the volunteer's phone, still with no server: the receipt ------------------------------
    open_receipt = button(phone, "Mở biên nhận")
    scroll_to(phone, open_receipt)
    with phone.page.expect_file_chooser() as chosen:
        open_receipt.click()
    chosen.value.set_files(files=[{"name": receipt_name, "mimeType": "application/octet-stream", "buffer": receipt}])
    expect(phone.text("Máy chủ đã nhận 1 lượt thăm.")).to_be_visible()
    shoot(phone, "relay-receipt", phone.text("Máy chủ đã nhận 1 lượt thăm."))
    phone.page.mouse.move(180, 300)
    phone.page.mouse.wheel(0, -3000)
    expect(phone.text("Đã gửi hết")).to_be_visible()
    for app in (phone, leader, officer):
        assert app.egress == [], app.egress
