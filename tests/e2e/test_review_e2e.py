"""The leader's review that scales, end to end (headless Chromium, a real server on SQLite): the
queue grouped under each named volunteer's day, the sample first; the filters; the team's settings.
Screenshots: screenshots/review-{390x844,360x640}.png (grouped, the sample first),
review-filtered-*.png (filtered to one volunteer), team-settings-*.png."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from campaign.ids import uuid7
from tests.server.reporting import make_team
from tests.support import Server, cli, enrolled_device, hamlet_data, household_data

from .conftest import _stop, open_page, start_web_app, wait_up

pytestmark = pytest.mark.e2e

ACTIONS = (["activation_help"], ["explained"], ["installed_app", "l1_help"], [])


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    db_url = f"sqlite:///{tmp_path / 'server.db'}"
    server = Server(db_url)
    app = None
    try:
        cli(db_url, "init")
        server.start()
        admin = server.enroll("admin")
        hamlet = uuid7()
        assert admin.push([admin.event("hamlet.created", hamlet, hamlet_data("Tổ dân phố 3"))]).json()[
            "quarantined"] == []
        make_team(server, "t3", "10525", [hamlet])
        lan = enrolled_device(server, server.code("volunteer", team="t3", name="Nguyễn Thị Lan"))
        binh = enrolled_device(server, server.code("volunteer", team="t3", name="Trần Văn Bình"))
        for who, street, outcomes in ((lan, "phố Lê Lợi", ["met"] * 10 + ["not_home"] * 2),
                                      (binh, "phố Trần Phú", ["met", "refused", "not_home"])):
            events = []
            for n, outcome in enumerate(outcomes, start=1):
                household = uuid7()
                events.append(who.event("household.created", household, household_data(hamlet, f"Số {n}, {street}")))
                events.append(who.event("visit.recorded", uuid7(), {
                    "household_id": household, "outcome": outcome,
                    "actions": ACTIONS[n % len(ACTIONS)] if outcome == "met" else [],
                    "people_helped": [], "note": ""}))
            assert who.push(events).json()["quarantined"] == []
        app = start_web_app(tmp_path, tmp_path / "leader", "--server", server.url,
                            "--enrol", server.code("leader", team="t3"))
        wait_up(app)
        yield {"server": server, "app": app}
    finally:
        if app is not None:
            _stop(app.process)
        server.stop()


def test_the_grouped_queue_its_filters_and_the_team_settings_at_both_sizes(browser, world) -> None:
    app = open_page(browser, world["app"].url, 390, 844)
    app.set_pin()
    app.settle(1.5)
    expect(app.tab("Duyệt")).to_be_visible(timeout=20_000)
    app.tab("Duyệt").click()
    expect(app.text("Chờ duyệt: 15 lượt thăm")).to_be_visible(timeout=20_000)  # once the leader's phone synced
    # the team list names the volunteers (kept on the phone for the queue)
    app.page.get_by_role("button", name="Thành viên tổ", exact=True).click()
    expect(app.page.locator("flt-semantics").get_by_text("Nguyễn Thị Lan").first).to_be_visible(timeout=20_000)
    # the screen's own back arrow, as a person goes back (the browser's history Back was seen now
    # and then to leave the team list on screen)
    app.page.get_by_role("button", name="Quay lại", exact=True).click()
    app.settle(1.0)
    expect(app.tab("Duyệt")).to_be_visible(timeout=20_000)
    app.tab("Duyệt").click()
    expect(app.page.locator("flt-semantics").get_by_text("Nguyễn Thị Lan · ngày", exact=False).first
           ).to_be_visible(timeout=20_000)
    app.page.mouse.move(195, 500)  # over the list, so the wheel scrolls it
    app.page.mouse.wheel(0, 150)  # past the tools: the count, then the first group, its sample first
    app.settle(1.5)
    app.screenshot("review-390x844")
    app.resize(360, 640)
    app.settle(1.5)
    app.page.mouse.wheel(0, -2000)  # at 360×640 the first visit shows without scrolling
    app.settle(1.0)
    app.screenshot("review-360x640")
    app.page.mouse.wheel(0, -2000)
    app.settle(0.5)

    # filter to one volunteer: the filters unfold under "Lọc"
    app.page.get_by_role("button", name="Lọc", exact=True).click()
    # each dropdown is named by its tooltip (Flutter tells no name for a dropdown's drawn label)
    app.page.get_by_role("button", name="Tình nguyện viên").first.click()
    app.settle(1.0)
    app.screenshot("review-filter-open-360x640")
    app.page.locator("flt-semantics").get_by_text("Trần Văn Bình", exact=True).last.click()
    expect(app.text("Đang lọc: 3 lượt thăm khớp")).to_be_visible(timeout=10_000)
    app.settle(1.5)
    app.screenshot("review-filtered-360x640")
    app.resize(390, 844)
    app.settle(1.5)
    app.screenshot("review-filtered-390x844")

    app.page.mouse.wheel(0, -2000)
    app.settle(0.5)
    app.page.get_by_role("button", name="Cài đặt của tổ", exact=True).click()
    expect(app.text("Lưu")).to_be_visible(timeout=10_000)
    app.settle(1.5)
    app.screenshot("team-settings-390x844")
    app.resize(360, 640)
    app.settle(1.5)
    app.screenshot("team-settings-360x640")
