"""The campaign's settings from the dashboard, against a real server: the form shows
what the server holds, a refusal is shown in words and changes nothing, a save moves
the target the dashboard shows, and only officers and admins may open it."""
from __future__ import annotations

import flet as ft

from field_app.views.campaign_settings import parse_day
from field_app.views.dashboard import CAMPAIGN_ROUTE
from tests.support import HTTP

from .harness import wait_for
from .test_dashboard import WARD, engine, loaded, on_sqlite, open_app, world  # noqa: F401
from .test_volunteer_layout import problems


def campaign(world) -> dict:  # type: ignore[no-untyped-def]
    return world.officer.get(f"/api/v1/campaigns/{WARD}").json()


def form_shown(h) -> bool:  # type: ignore[no-untyped-def]
    return h.exists(key="campaign:save")


def pick_date(h, name: str, day: str) -> None:  # type: ignore[no-untyped-def]
    """Choose `day` (ISO) on the field's calendar, as a person would: the field cannot be typed in."""
    assert h.get(key=f"campaign:{name}")["read_only"] is True
    h.click(h.get(key=f"campaign:{name}:pick"))
    picker = h.get(ft.DatePicker)
    h.change(picker, f"{day}T00:00:00.000")


@on_sqlite
def test_the_form_holds_the_servers_settings_and_refuses_bad_dates(world, make_harness) -> None:
    before = campaign(world)
    h = open_app(make_harness, world.officer_dir, route=CAMPAIGN_ROUTE, width=360, height=640)
    wait_for(h, lambda: form_shown(h))
    assert h.get(key="campaign:name")["value"] == before["name"]
    assert h.get(key="campaign:target_value")["value"] == str(before["target_value"])
    start = before["start"].split("-")
    assert h.get(key="campaign:start")["value"] == f"{start[2]}/{start[1]}/{start[0]}"
    assert [p for root in h.screen() for p in problems(root)] == []
    # the deadline before the start: the server refuses, the form says why, nothing changes
    pick_date(h, "deadline", "2022-01-01")
    assert h.get(key="campaign:deadline")["value"] == "01/01/2022"
    h.click(h.get(key="campaign:save"))
    wait_for(h, lambda: h.get(key="campaign:error").visible)
    assert h.get(key="campaign:error")["value"].startswith("Ngày không hợp lệ: hạn hoàn thành phải sau ngày bắt đầu")
    assert campaign(world) == before


@on_sqlite
def test_a_saved_target_moves_the_dashboard_and_is_audited(world, make_harness) -> None:
    before = campaign(world)
    h = open_app(make_harness, world.officer_dir)
    loaded(h)
    h.click(h.get(key="dashboard:campaign"))
    wait_for(h, lambda: form_shown(h))
    h.change(h.get(key="campaign:kind"), ["people"], prop="selected")  # the segment "Số người"
    h.change(h.get(key="campaign:target_value"), "5")
    h.click(h.get(key="campaign:ends:clear"))
    h.click(h.get(key="campaign:save"))
    wait_for(h, lambda: h.route == "/totals" and h.exists(key="dashboard:target_reached"))
    after = campaign(world)
    assert (after["target_kind"], after["target_value"], after["ends"]) == ("people", 5, None)
    assert after["start"] == before["start"] and after["deadline"] == before["deadline"]
    assert "5 người" in h.get(key="dashboard:target_reached").text
    audit = world.admin.get("/api/v1/audit", commune=WARD, action="campaign.update", order="newest").json()
    assert audit["entries"] and audit["entries"][0]["device_id"] == world.officer.id
    # put it back for the other tests of the module
    restore = {k: before[k] for k in ("name", "target_kind", "target_value", "start", "deadline", "ends",
                                       "retention_days")}
    assert HTTP.put(f"{world.server.url}/api/v1/campaigns/{WARD}", json=restore,
                    headers=world.admin.headers).status_code == 200


@on_sqlite
def test_a_leader_cannot_change_the_target(world, make_harness, tmp_path) -> None:
    from .test_dashboard import enrolled
    leader = enrolled(world.server, tmp_path / "leader", "leader", team=world.team)
    h = open_app(make_harness, leader, route="/totals")
    loaded(h)
    assert not h.exists(key="dashboard:campaign")
    h.go(CAMPAIGN_ROUTE)
    assert h.exists(ft.Text, text="Chỉ công an cấp xã và quản trị viên được sửa mục tiêu chiến dịch.")


def test_dates_are_read_as_people_write_them() -> None:
    assert parse_day("30/04/2027") == parse_day("30-4-2027") == parse_day("2027-04-30") == "2027-04-30"
    assert parse_day("31/02/2027") is None and parse_day("") is None and parse_day("hôm nay") is None
