"""Issue #13's end-to-end test (its "Must show"), headless Chromium against a real server on SQLite:

1. the team leader's app adds a member, "Nguyễn Thị Lan": the code it shows enrols her phone
   (`gocua-app --enrol CODE`, as the link would), which carries her name;
2. the leader gives her a street ("phố Bạch Đằng", two households) from "Giao hộ";
3. her phone opens its households on "Của tôi", she finds nobody home at Số 3 and taps "Tối";
4. the officer's dashboard shows the household in the evening column ("Tối 1");
5. the walk sheet PDF of her households lists Số 3 with the evening come-back and her name
   (read back with `pdftotext`);
6. a booking past a session's capacity shows "Quá chỗ" on the officer's roster.

The team, the hamlet's households and the capture session with its bookings are data set up through
the real API (pushes of an admin device), not what is shown. Screenshots: screenshots/i13-e2e-*.png.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from campaign.ids import short_code, uuid7
from tests.server.reporting import make_team
from tests.support import hamlet_data, household_data, person_data, wait_until

from .conftest import FlutterPage, open_page, served

pytestmark = pytest.mark.e2e

WARD, TEAM, LAN = "10525", "t13", "Nguyễn Thị Lan"
TARGET = "Số 3, phố Bạch Đằng"
CODE = re.compile(r"^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$")


def button(app: FlutterPage, name: str) -> Any:
    return app.page.get_by_role("button", name=name, exact=True)


def leader_screens(app: FlutterPage) -> None:
    """The leader's app after enrolment: the PIN first, then the review tab."""
    app.set_pin()
    expect(app.tab("Duyệt")).to_be_visible(timeout=20_000)
    app.tab("Duyệt").click()


def test_a_named_volunteers_evening_come_back_reaches_the_dashboard_the_sheet_and_the_roster(
        browser: Any, tmp_path: Path) -> None:
    assert shutil.which("pdftotext"), "pdftotext (poppler-utils) is needed"
    with served(tmp_path) as up:
        server = up.server
        admin = server.enroll("admin")
        hamlet, target, session, elder, second = (uuid7() for _ in range(5))
        assert admin.push([
            admin.event("hamlet.created", hamlet, hamlet_data("Tổ dân phố 3")),
            admin.event("household.created", target, household_data(hamlet, TARGET)),
            admin.event("household.created", uuid7(), household_data(hamlet, "Số 5, phố Bạch Đằng")),
            admin.event("household.created", uuid7(), household_data(hamlet, "Số 2, phố Lê Lợi")),
            admin.event("person.added", elder, person_data(target, "Lò Thị Xuân", 1938, "none", "no_app")),
            admin.event("person.added", second, person_data(target, "Lò Văn Thành", 1936, "none", "no_app")),
            admin.event("session.created", session, {
                "commune": WARD, "kind": "mobile_capture", "starts_at": "2026-12-05T08:00:00+07:00",
                "ends_at": "2026-12-05T11:00:00+07:00", "place": "Nhà văn hoá tổ 3", "capacity": 1}),
            admin.event("booking.made", uuid7(), {"session_id": session, "person_id": elder}),
            admin.event("booking.made", uuid7(), {"session_id": session, "person_id": second}),  # past capacity
        ]).json()["quarantined"] == []
        make_team(server, TEAM, WARD, [hamlet])
        reader = server.enroll("leader", team=TEAM)  # the API's view, for the checks between the screens
        leader_app = up.app("leader", enrol=server.code("leader", team=TEAM))

        # 1. the leader adds a member: the code on the screen enrols her phone, with her name
        leader = open_page(browser, leader_app.url, 390, 844)
        leader_screens(leader)
        button(leader, "Thêm thành viên").click()
        leader.type_into("Họ tên người giữ máy", LAN)
        leader.tap_until(button(leader, "Tạo mã đăng ký"), leader.text(f"Mã đăng ký cho {LAN}"))
        leader.settle(1.0)
        shown = leader.page.locator("flt-semantics").get_by_text(CODE)
        expect(shown).to_have_count(1)
        code = shown.inner_text().strip()
        leader.screenshot("i13-e2e-new-member-390x844")
        phone_app = up.app("lan", enrol=code)
        devices = reader.get("/api/v1/team/devices").json()["devices"]
        lan = next(d["device_id"] for d in devices if d["name"] == LAN)
        assert next(d for d in devices if d["device_id"] == lan)["role"] == "volunteer"

        # 2. the leader gives her the street (she is the team's one volunteer, the street the first)
        leader.page.go_back()
        button(leader, "Giao hộ").click()
        expect(leader.text("Ai đang giữ hộ nào")).to_be_visible()
        expect(leader.text("Chưa giao: 3 hộ")).to_be_visible(timeout=20_000)  # the team list has come
        # the dropdowns show their choice to no accessibility tree: their defaults are what is wanted
        # here (her, the team's one volunteer; phố Bạch Đằng, the first street), and what was given to
        # whom is read back below, on the screen and on the server
        button(leader, "Giao phố này").click()
        expect(leader.text(f"{LAN}: 2 hộ")).to_be_visible(timeout=20_000)
        leader.screenshot("i13-e2e-street-given-390x844")

        def her_sheet() -> str:
            answer = reader.get("/api/v1/exports/walksheet.pdf", hamlet=hamlet, device=lan)
            assert answer.status_code == 200, answer.text
            path = tmp_path / "walksheet.pdf"
            path.write_bytes(answer.content)
            return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                                  text=True).stdout

        row = short_code(target)  # the sheet's code for Số 3 (its address may wrap in its column)
        wait_until(lambda: row in her_sheet(), 30, every=0.5,
                   message=lambda: f"the leader's assignment did not reach the server: "
                                   f"{reader.get('/api/v1/team/devices').json()}\n{her_sheet()}")

        # 3. her phone: "Của tôi" first, nobody home at Số 3, come back in the evening
        phone = open_page(browser, phone_app.url, 360, 640)
        expect(phone.tab("Đồng bộ")).to_be_visible(timeout=20_000)
        phone.tab("Đồng bộ").click()
        button(phone, "Đồng bộ ngay").click()  # the leader's assignment reaches the phone
        phone.tab("Hộ dân").click()
        expect(phone.text("Của tôi (2 hộ)")).to_be_visible(timeout=30_000)
        phone.page.get_by_role("button").filter(has_text=TARGET).first.click()
        button(phone, "Không có nhà").click()
        # the dialog is on screen and settled before the tap: a tap sent while it was still
        # animating in (right after a resize) was seen not to reach Flutter
        expect(phone.text("Khi nào quay lại?")).to_be_visible()
        phone.screenshot("i13-e2e-come-back-360x640")
        phone.tap_in_dialog(button(phone, "Tối"), phone.text("Khi nào quay lại?"))

        def evening() -> int:
            total = admin.get("/api/v1/totals", commune=WARD).json()["total"]
            return int((total.get("come_back") or {}).get("evening") or 0)

        wait_until(lambda: evening() == 1, 60, every=0.5, message="the evening come-back did not reach the server")

        # 5. the walk sheet of her households: Số 3, the evening, her name
        sheet = her_sheet()
        assert f"Người phụ trách: {LAN}" in sheet
        line = next(line for line in sheet.splitlines() if row in line)
        assert "Đến lại (không có nhà)" in line and LAN in line, sheet
        assert "Hẹn quay lại: Tối" in sheet, sheet
        assert "Lê Lợi" not in sheet  # not hers

        # 4. and 6. the officer: the evening column, then the roster's booking past capacity
        officer_app = up.app("officer", enrol=server.code("officer", commune=WARD))
        officer = open_page(browser, officer_app.url, 390, 844)
        officer.set_pin()
        expect(officer.by_role("heading", "Tổng hợp")).to_be_visible()
        expect(officer.text("Hộ cần quay lại theo buổi: Tối 1")).to_be_visible(timeout=30_000)
        officer.settle(1.0)
        officer.screenshot("i13-e2e-dashboard-390x844")
        # on a laptop, the come-backs by hamlet: a table, a column a window ("Tối" the evening's)
        officer.resize(1280, 800)
        title = officer.text("Hộ cần quay lại theo buổi, từng thôn, tổ dân phố")
        officer.page.mouse.move(640, 500)
        for _ in range(15):  # Flutter keeps rows a little off screen in its semantics tree: look where it is
            box = title.bounding_box() if title.count() else None
            if box is not None and 60 <= box["y"] <= 400:
                break
            officer.page.mouse.wheel(0, 300)
            officer.settle(0.3)
        expect(title).to_be_in_viewport()
        officer.settle(1.0)
        officer.screenshot("i13-e2e-come-back-table-1280x800")
        officer.resize(390, 844)
        officer.page.mouse.wheel(0, -10_000)
        officer.settle(1.0)
        button(officer, "Buổi thu nhận").click(timeout=30_000)
        session_card = officer.page.get_by_role("button").filter(has_text="Nhà văn hoá tổ 3").first
        expect(session_card).to_be_visible(timeout=30_000)
        session_card.click()
        # the roster itself (the list of sessions says "Quá chỗ" too): the person booked past capacity
        booked = officer.page.get_by_role("group").filter(has_text="Lò Văn Thành").last
        expect(booked).to_be_visible(timeout=30_000)
        expect(booked).to_contain_text("Quá chỗ")
        officer.settle(1.0)
        officer.screenshot("i13-e2e-roster-390x844")
