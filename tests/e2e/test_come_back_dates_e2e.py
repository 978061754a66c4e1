"""Issue #13, item 4 in Chromium: the home lists today's come-backs first, in the day's order
(households the team found nobody home at, pulled on enrolment), and "Không có nhà" offers a date
in the same dialog as the times of day. Screenshots at 390x844 and 360x640 (i13b-*)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from campaign.ids import uuid7
from campaign.time import VIETNAM
from tests.support import household_data

from .conftest import open_page
from .test_volunteer_e2e import ADDRESS, SIZES, button, shoot, world  # noqa: F401  (world is a fixture)

pytestmark = pytest.mark.e2e


def _not_home(admin, household: str, come_back: dict) -> dict:  # type: ignore[no-untyped-def]
    return admin.event("visit.recorded", uuid7(), {"household_id": household, "outcome": "not_home",
                                                   "actions": [], "people_helped": [], "note": "",
                                                   "come_back": come_back})


def test_todays_come_backs_on_the_home_and_a_date_in_the_dialog(browser, world) -> None:  # noqa: F811
    admin = world["admin"]
    today = datetime.now(VIETNAM).date()  # the visits' day is the server's now, as the app's
    homes = {name: uuid7() for name in ("morning", "evening today", "tomorrow")}
    [hamlet] = [e["entity"] for e in admin.pull_all() if e["kind"] == "hamlet.created"]
    answer = admin.push([
        admin.event("household.created", homes["morning"], household_data(hamlet, "Số 3, phố Lê Lợi")),
        admin.event("household.created", homes["evening today"], household_data(hamlet, "Số 7, ngõ 2, phố Lê Lợi")),
        admin.event("household.created", homes["tomorrow"], household_data(hamlet, "Số 20, phố Lê Lợi")),
        _not_home(admin, homes["evening today"], {"window": "evening", "on": today.isoformat()}),
        _not_home(admin, homes["morning"], {"window": "morning", "on": None}),
        _not_home(admin, homes["tomorrow"], {"window": "midday", "on": (today + timedelta(days=1)).isoformat()}),
    ])
    assert answer.status_code == 200 and answer.json()["quarantined"] == [], answer.text

    app = open_page(browser, world["app"].url, *SIZES[0])
    expect(app.text("Đăng ký máy này")).to_be_visible()
    app.page.get_by_role("textbox", name="Mã hoặc đường dẫn đăng ký").click()
    app.page.keyboard.type(world["code"])
    app.page.get_by_role("textbox", name="Họ tên người giữ máy").click()
    app.page.keyboard.type("Nguyễn Thị Lan")
    button(app, "Đăng ký").click()
    expect(app.tab("Trang chủ")).to_be_visible()
    expect(app.text("Hẹn quay lại hôm nay")).to_be_visible()
    morning = app.page.get_by_role("button").filter(has_text="Số 3, phố Lê Lợi")
    evening = app.page.get_by_role("button").filter(has_text="Số 7, ngõ 2, phố Lê Lợi")
    expect(morning).to_be_visible()
    expect(evening).to_contain_text("Tối · Hôm nay")
    assert morning.bounding_box()["y"] < evening.bounding_box()["y"], "the morning's first"
    expect(app.page.get_by_role("button").filter(has_text="Số 20, phố Lê Lợi")).to_have_count(0)  # tomorrow's
    shoot(app, "i13b-home-come-backs")

    # a household of the list: nobody home; the dialog offers a date before the time of day
    app.tab("Hộ dân").click()
    row = app.page.get_by_role("button").filter(has_text=ADDRESS)
    expect(row).to_be_visible()
    row.click()
    button(app, "Không có nhà").click()
    expect(app.text("Khi nào quay lại?")).to_be_visible()
    shoot(app, "i13b-come-back-dialog")
    # the list of dates: in the semantics tree a button with no name of its own, the dialog's first
    app.page.locator("flt-semantics[role='alertdialog'] flt-semantics[role='button']").first.click()
    app.settle(0.8)
    tomorrow = button(app, "Ngày mai")  # the list's rows: today, tomorrow, the next days by weekday
    expect(tomorrow).to_be_visible()
    app.screenshot("i13b-come-back-dates-390x844")
    tomorrow.click()
    expect(app.page.get_by_text("Hẹn ngày: Ngày mai. Chọn buổi để ghi lượt thăm.")).to_be_visible()
    shoot(app, "i13b-come-back-date-chosen")
    expect(button(app, "Tối")).to_have_count(1)
