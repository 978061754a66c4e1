"""The officer's dashboard end to end: the real web app in headless Chromium, a real
server (uvicorn, SQLite).

1. An admin device creates a hamlet and two households; the ward has a campaign.
2. The officer's app (`gocua-app --web --enrol CODE`, its own process and data dir)
   lands on the dashboard: no household visited yet.
3. A volunteer's device syncs a visit; "Làm mới": the dashboard shows it.
4. The officer imports a target list through the browser's own file dialog: the
   dry run's report, then the import, then the dashboard counts the new household.

Screenshots: screenshots/dashboard-1280x800.png, dashboard-390x844.png,
import-390x844.png and campaign-390x844.png / campaign-360x640.png.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from campaign.ids import uuid7
from tests.support import HTTP, VN, hamlet_data, household_data, person_data

from .conftest import open_page, served

pytestmark = pytest.mark.e2e

WARD = "10525"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    with served(tmp_path) as up:
        server = up.server
        admin = server.enroll("admin")
        hamlet, first, second = uuid7(), uuid7(), uuid7()
        answer = admin.push([
            admin.event("hamlet.created", hamlet, hamlet_data("Tổ dân phố 3")),
            admin.event("household.created", first, household_data(hamlet, "Số 1, phố Lê Lợi")),
            admin.event("person.added", uuid7(), person_data(first, "Nguyễn Văn An", 1958, vneid="l1_approved")),
            admin.event("household.created", second, household_data(hamlet, "Số 2, phố Lê Lợi")),
        ])
        assert answer.status_code == 200 and answer.json()["quarantined"] == [], answer.text
        today = datetime.now(VN).date()
        answer = HTTP.put(f"{server.url}/api/v1/campaigns/{WARD}", headers=admin.headers, json={
            "name": "Chiến dịch định danh điện tử", "target_kind": "percent", "target_value": 90,
            "start": (today - timedelta(days=7)).isoformat(), "deadline": (today + timedelta(days=30)).isoformat()})
        assert answer.status_code == 200, answer.text
        # what the demo starts for the officer: `gocua-app --web --server URL --enrol CODE`
        app = up.app("officer", enrol=server.code("officer", commune=WARD))
        volunteer = server.enroll("volunteer", hamlets=(hamlet,))
        yield {"server": server, "admin": admin, "volunteer": volunteer, "first": first, "app": app}


def test_the_officers_dashboard_shows_a_new_visit_after_refresh(browser, world) -> None:
    app = open_page(browser, world["app"].url, 1280, 800)
    # enrolled with --enrol as an officer: the PIN Settings calls required comes first
    app.set_pin()
    expect(app.by_role("heading", "Tổng hợp")).to_be_visible()  # the landing screen
    expect(app.text("0 trên 2 hộ · 0 hộ cần quay lại")).to_be_visible()  # a small whole: a count
    expect(app.text("Số liệu do tổ ghi nhận; số liệu chính thức do công an nắm giữ.")).to_be_visible()

    volunteer = world["volunteer"]
    answer = volunteer.push([volunteer.event("visit.recorded", uuid7(), {
        "household_id": world["first"], "outcome": "met", "actions": ["explained"], "people_helped": [],
        "note": ""})])
    assert answer.status_code == 200 and answer.json()["quarantined"] == [], answer.text
    app.page.get_by_role("button", name="Làm mới", exact=True).last.click()  # the header's (the app bar has one too)
    expect(app.text("1 trên 2 hộ · 0 hộ cần quay lại")).to_be_visible()

    app.page.mouse.move(2, 2)
    app.settle(1.5)
    app.screenshot("dashboard-1280x800")
    app.resize(390, 844)
    app.settle(1.5)
    expect(app.tab("Tổng hợp")).to_be_visible()
    app.screenshot("dashboard-390x844")

    # the target list, through the browser's file dialog
    app.page.get_by_role("button", name="Nhập danh sách hộ", exact=True).click()
    expect(app.text("Tải tệp mẫu")).to_be_visible()
    rows = "Thôn/Tổ,Địa chỉ,Họ và tên,Năm sinh,Thẻ,VNeID\nTổ dân phố 3,Số 5 phố Lê Lợi,Lê Thị Hoa,1979,CMND,Chưa cài\n"
    with app.page.expect_file_chooser() as chosen:
        app.page.get_by_role("button", name="Chọn tệp…", exact=True).click()
    chosen.value.set_files(files=[{"name": "danh-sach.csv", "mimeType": "text/csv", "buffer": rows.encode()}])
    expect(app.text("Kết quả kiểm tra")).to_be_visible()
    app.page.mouse.move(2, 2)
    app.settle(1.0)
    app.screenshot("import-390x844")
    app.page.get_by_role("button", name="Nhập 1 hộ, 1 người", exact=True).click()
    app.page.get_by_role("button", name="Nhập", exact=True).click()
    expect(app.text("Đã nhập xong: 1 hộ mới, 1 người mới.")).to_be_visible()
    totals = world["admin"].get("/api/v1/totals", commune=WARD).json()["total"]
    assert totals["households"] == 3 and totals["card"]["cmnd_only"] == 1
    app.page.get_by_role("button", name="Về trang tổng hợp", exact=True).click()
    app.page.get_by_role("button", name="Làm mới", exact=True).last.click()
    expect(app.text("1 trên 3 hộ · 0 hộ cần quay lại")).to_be_visible()

    # the campaign's settings, as the server holds them
    app.page.get_by_role("button", name="Đặt mục tiêu, thời hạn", exact=True).click()
    expect(app.page.get_by_role("textbox", name="Tên chiến dịch")).to_be_visible()
    expect(app.page.get_by_role("button", name="Lưu", exact=True)).to_be_visible()
    app.page.mouse.move(2, 2)
    for width, height in ((390, 844), (360, 640)):
        app.resize(width, height)
        app.settle(1.0)
        app.screenshot(f"campaign-{width}x{height}")
    assert app.egress == [], app.egress
