"""The down road end to end (issue #15, "Down the same road"): headless Chromium, real servers
(uvicorn, SQLite), web apps in their own processes. The volunteer's app is enrolled at a first
server that is then stopped for good (test_relay_e2e.py's world): it can never sync on its own.

1. The admin adds a household to the team's hamlet (at the second server, same database).
2. The leader's team list: "Tạo tệp cho máy này" under the volunteer downloads the sealed file.
3. The volunteer's sync screen: "Mở tệp từ tổ trưởng" opens it; the household is on its list.

Screenshots (390x844 and 360x640): relay-down-made-*, relay-down-opened-*.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from campaign import relay as fmt
from campaign.ids import uuid7
from tests.support import Server, household_data

from .conftest import open_page, start_web_app, wait_up
from .test_relay_e2e import SIZES, button, scroll_to, shoot, text_like, world  # noqa: F401

pytestmark = pytest.mark.e2e

NEW_ADDRESS = "Số 31, ngõ 2, phố Lãn Ông"


def test_a_leader_carries_the_servers_news_to_a_phone_that_cannot_sync(browser, world) -> None:  # noqa: F811
    first: Server = world["first"]
    second: Server = world["second"]
    phone = open_page(browser, world["volunteer"].url, *SIZES[0])
    expect(phone.text("Đã thăm 0/1 hộ")).to_be_visible()  # its first sync brought the hamlet down
    first.stop()
    second.start()
    admin = second.enroll("admin")
    hamlet = next(e["entity"] for e in admin.pull_all() if e["kind"] == "hamlet.created")
    answer = admin.push([admin.event("household.created", uuid7(), household_data(hamlet, NEW_ADDRESS))])
    assert answer.status_code == 200 and answer.json()["quarantined"] == [], answer.text

    # -- the leader makes the volunteer's file --------------------------------------------------
    leader_app = start_web_app(world["tmp"], world["tmp"] / "leader", "--server", second.url,
                               "--enrol", second.code("leader", team="t5"))
    world["apps"].append(leader_app)
    wait_up(leader_app)
    leader = open_page(browser, leader_app.url, *SIZES[0])
    leader.set_pin()
    leader.tab("Duyệt").click()
    button(leader, "Thành viên tổ").click()
    make = button(leader, "Tạo tệp cho máy này")
    expect(make).to_be_visible()
    with leader.page.expect_download() as downloaded:
        make.click()
    name = downloaded.value.suggested_filename
    data = Path(downloaded.value.path()).read_bytes()
    assert re.fullmatch(r"gocua-nhan-nho-[0-9A-F]{6}-\d+\.gocua", name), name
    assert NEW_ADDRESS.encode() not in data and fmt.read_down(data)
    expect(text_like(leader, rf"^Đã tạo tệp {re.escape(name)} với ")).to_be_visible()
    shoot(leader, "relay-down-made", text_like(leader, "^Đã tạo tệp "))

    # -- the volunteer's phone, with no server, opens it ------------------------------------------
    phone.tab("Đồng bộ").click()
    open_file = button(phone, "Mở tệp từ tổ trưởng")
    scroll_to(phone, open_file)
    with phone.page.expect_file_chooser() as chosen:
        open_file.click()
    chosen.value.set_files(files=[{"name": name, "mimeType": "application/octet-stream", "buffer": data}])
    expect(text_like(phone, r"^Đã nhận \d+ thay đổi từ máy chủ\.")).to_be_visible()
    shoot(phone, "relay-down-opened", text_like(phone, r"^Đã nhận \d+ thay đổi"))
    phone.tab("Hộ dân").click()
    expect(phone.page.get_by_role("button").filter(has_text=NEW_ADDRESS)).to_be_visible()
    for app in (phone, leader):
        assert app.egress == [], app.egress
