"""The leader's walk lists end to end (headless Chromium, a real server on SQLite): the leader's
app (`gocua-app --web --enrol CODE`) opens "Giao hộ" from the review tab and sees who holds
what, then below it the households to pick and the run of house numbers; a volunteer's app opens
its households on "Của tôi". Screenshots: screenshots/walk-lists-360x640.png, walk-lists-390x844.png,
walk-pick-*.png, walk-range-*.png, mine-360x640.png, mine-390x844.png."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from campaign.ids import uuid7
from tests.server.reporting import make_team
from tests.support import hamlet_data, household_data

from .conftest import open_page, served

pytestmark = pytest.mark.e2e


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    with served(tmp_path) as up:
        server = up.server
        admin = server.enroll("admin")
        hamlet = uuid7()
        events = [admin.event("hamlet.created", hamlet, hamlet_data("Tổ dân phố 3"))]
        for address in ("Số 2, phố Lê Lợi", "Số 4, phố Lê Lợi", "Số 1, phố Trần Phú", "Số 3, phố Trần Phú"):
            events.append(admin.event("household.created", uuid7(), household_data(hamlet, address)))
        assert admin.push(events).json()["quarantined"] == []
        make_team(server, "t3", "10525", [hamlet])
        server.enroll("volunteer", team="t3")
        app = up.app("leader", enrol=server.code("leader", team="t3"))
        yield {"server": server, "app": app}


def test_the_leader_opens_walk_lists_at_both_sizes(browser, world) -> None:
    app = open_page(browser, world["app"].url, 360, 640)
    app.set_pin()
    app.settle(1.5)
    expect(app.tab("Duyệt")).to_be_visible(timeout=20_000)
    app.tab("Duyệt").click()
    app.page.get_by_role("button", name="Giao hộ", exact=True).click()
    expect(app.text("Ai đang giữ hộ nào")).to_be_visible()
    expect(app.text("Chưa giao: 4 hộ")).to_be_visible(timeout=20_000)  # once the leader's phone has synced
    app.settle(1.5)
    app.screenshot("walk-lists-360x640")
    app.page.mouse.wheel(0, 420)  # the households to pick, below the street
    app.settle(1.5)
    app.screenshot("walk-pick-360x640")
    app.page.mouse.wheel(0, 500)  # the run of house numbers
    app.settle(1.5)
    app.screenshot("walk-range-360x640")
    app.resize(390, 844)
    app.page.mouse.wheel(0, -2000)
    app.settle(1.5)
    app.screenshot("walk-lists-390x844")
    app.page.mouse.wheel(0, 600)
    app.settle(1.5)
    app.screenshot("walk-pick-390x844")
    app.page.mouse.wheel(0, 400)
    app.settle(1.5)
    app.screenshot("walk-range-390x844")


def test_the_volunteers_list_opens_on_mine(browser, tmp_path) -> None:
    with served(tmp_path) as up:
        server = up.server
        admin = server.enroll("admin")
        hamlet, mine = uuid7(), uuid7()
        events = [admin.event("hamlet.created", hamlet, hamlet_data("Tổ dân phố 3")),
                  admin.event("household.created", mine, household_data(hamlet, "Số 9, phố Trần Phú"))]
        for address in ("Số 2, phố Lê Lợi", "Số 4, phố Lê Lợi"):
            events.append(admin.event("household.created", uuid7(), household_data(hamlet, address)))
        assert admin.push(events).json()["quarantined"] == []
        make_team(server, "t4", "10525", [hamlet])
        leader = server.enroll("leader", team="t4")
        app = up.app("volunteer", enrol=server.code("volunteer", team="t4"))
        devices = leader.get("/api/v1/team/devices").json()
        rows = devices["devices"] if isinstance(devices, dict) else devices
        volunteer = next(d["device_id"] for d in rows if d.get("role") == "volunteer")
        assert leader.push([leader.event("assignment.set", mine, {"device_id": volunteer})]).json()["quarantined"] == []

        page = open_page(browser, app.url, 360, 640)
        expect(page.tab("Đồng bộ")).to_be_visible(timeout=20_000)
        page.tab("Đồng bộ").click()  # the leader's assignment reaches the phone
        page.by_role("button", "Đồng bộ ngay").click()
        page.tab("Hộ dân").click()
        expect(page.text("Của tôi (1 hộ)")).to_be_visible(timeout=30_000)
        page.settle(1.5)
        page.screenshot("mine-360x640")
        page.resize(390, 844)
        page.settle(1.5)
        page.screenshot("mine-390x844")
