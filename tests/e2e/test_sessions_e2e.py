"""Capture sessions end to end (headless Chromium, a real server on SQLite): a volunteer's app
shows the officer's session on the person screen and books the person; the officer's app opens
the roster, the booking past capacity flagged "Quá chỗ" with where it can move, and the
session's edit form. Screenshots: screenshots/booking-*.png, roster-*.png, roster-move-*.png and
session-edit-*.png at 360x640 and 390x844."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from campaign.ids import uuid7
from tests.support import hamlet_data, household_data, person_data

from .conftest import open_page, served

pytestmark = pytest.mark.e2e


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    with served(tmp_path) as up:
        server = up.server
        admin = server.enroll("admin")
        hamlet, home, first, second, third, session = (uuid7() for _ in range(6))
        assert admin.push([
            admin.event("hamlet.created", hamlet, hamlet_data("Tổ dân phố 3")),
            admin.event("household.created", home, household_data(hamlet, "Số 8, phố Lê Lợi")),
            admin.event("person.added", first, person_data(home, "Lò Thị Xuân", 1938, "none", "no_app")),
            admin.event("person.added", second, person_data(home, "Lò Văn Thành", 1936, "none", "no_app")),
            admin.event("session.created", session, {
                "commune": "10525", "kind": "mobile_capture", "starts_at": "2026-12-05T08:00:00+07:00",
                "ends_at": "2026-12-05T11:00:00+07:00", "place": "Nhà văn hoá tổ 3", "capacity": 1}),
            admin.event("session.created", uuid7(), {
                "commune": "10525", "kind": "mobile_capture", "starts_at": "2026-12-06T08:00:00+07:00",
                "ends_at": "2026-12-06T11:00:00+07:00", "place": "Trụ sở công an phường", "capacity": 10}),
            admin.event("person.added", third, person_data(home, "Lò Thị Mai", 1941, "none", "no_app")),
            admin.event("booking.made", uuid7(), {"session_id": session, "person_id": first}),
            admin.event("booking.made", uuid7(), {"session_id": session, "person_id": third}),  # past capacity
        ]).json()["quarantined"] == []
        volunteer = up.app("volunteer", enrol=server.code("volunteer", hamlets=(hamlet,)))
        yield {"server": server, "volunteer": volunteer, "home": home, "second": second, "session": session,
               "up": up}


def test_a_volunteer_books_and_the_officer_sees_the_roster(browser, world) -> None:
    route = f"/households/{world['home']}/people/{world['second']}"
    app = open_page(browser, world["volunteer"].url, 360, 640, route)
    expect(app.text("Nhà văn hoá tổ 3")).to_be_visible(timeout=30_000)  # once the phone has synced
    app.settle(1.0)
    app.screenshot("booking-360x640")
    app.page.get_by_role("button", name="Hẹn", exact=True).first.click()
    expect(app.text("Đã hẹn")).to_be_visible()
    app.resize(390, 844)
    app.settle(1.5)
    app.screenshot("booking-390x844")


def test_the_officer_opens_the_roster_at_both_sizes(browser, world) -> None:
    officer = world["up"].app("officer", enrol=world["server"].code("officer", commune="10525"))
    app = open_page(browser, officer.url, 360, 640)
    app.set_pin()
    # the landing screen, as the dashboard's e2e waits for it (the PIN screen's title can stay in
    # Flutter's semantics tree under the new route for a while)
    expect(app.by_role("heading", "Tổng hợp")).to_be_visible()
    app.settle(1.5)
    app.page.get_by_role("button", name="Buổi thu nhận", exact=True).click(timeout=30_000)
    place = app.page.locator("flt-semantics").get_by_text("Nhà văn hoá tổ 3").first
    expect(place).to_be_visible(timeout=30_000)
    app.settle(1.0)
    app.screenshot("sessions-360x640")
    place.click()
    expect(app.page.locator("flt-semantics").get_by_text("Quá chỗ").first).to_be_visible(timeout=20_000)
    app.settle(1.0)
    app.screenshot("roster-360x640")
    app.resize(390, 844)
    app.settle(1.5)
    app.screenshot("roster-390x844")
    # the officer's edit and cancel (issue #13): the form opens above the roster
    app.page.get_by_role("button", name="Sửa buổi", exact=True).click()
    expect(app.page.get_by_role("button", name="Lưu thay đổi", exact=True)).to_be_visible()
    app.settle(1.0)
    app.screenshot("session-edit-390x844")
    app.resize(360, 640)
    app.settle(1.5)
    app.screenshot("session-edit-360x640")
    app.page.get_by_role("button", name="Sửa buổi", exact=True).click()  # closed again
    app.page.get_by_role("button", name="Huỷ buổi", exact=True).click()
    expect(app.page.get_by_role("button", name="Huỷ buổi này", exact=True)).to_be_visible()
    app.page.mouse.wheel(0, 300)  # the booking past capacity and where it can move
    app.settle(1.0)
    app.screenshot("roster-move-360x640")
    app.resize(390, 844)
    app.settle(1.5)
    app.screenshot("roster-move-390x844")
