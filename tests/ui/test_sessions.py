"""Capture sessions on an officer's phone (issue #13, item 5): the dashboard opens them; the
officer adds one (a session.created that syncs); a roster lists the people booked in the order
they hold places, those past capacity flagged "Quá chỗ", and one tap records a no-show."""
from __future__ import annotations

from pathlib import Path

import flet as ft
import pytest

from campaign.ids import uuid7
from field_app.app_state import default_key
from field_app.net.sync import SyncClient
from field_app.store import Store

from ..support import Server, hamlet_data, household_data, person_data
from .harness import wait_for
from .test_dashboard import enrolled, open_app
from .volunteer import Taps

SESSION = {"commune": "10525", "kind": "mobile_capture", "starts_at": "2026-12-05T08:00:00+07:00",
           "ends_at": "2026-12-05T11:00:00+07:00", "place": "Nhà văn hoá tổ 5", "capacity": 1}


@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_an_officer_adds_a_session_and_marks_a_no_show_on_the_roster(server: Server, make_harness,
                                                                      tmp_path: Path) -> None:
    admin = server.enroll("admin")
    hamlet, home, first, second, session, b1, b2 = (uuid7() for _ in range(7))
    answer = admin.push([
        admin.event("hamlet.created", hamlet, hamlet_data("Tổ dân phố 5")),
        admin.event("household.created", home, household_data(hamlet, "Số 2, phố Hẹn")),
        admin.event("person.added", first, person_data(home, "Hà Thị Lan", 1939, "none", "no_app")),
        admin.event("person.added", second, person_data(home, "Hà Văn Sơn", 1937, "none", "no_app")),
        admin.event("session.created", session, SESSION),
        admin.event("booking.made", b1, {"session_id": session, "person_id": first}),
        admin.event("booking.made", b2, {"session_id": session, "person_id": second}),
    ])
    assert answer.status_code == 200 and answer.json()["quarantined"] == [], answer.text
    path = enrolled(server, tmp_path / "officer", "officer", commune="10525")
    with Store(path, key=default_key(path)) as store:
        SyncClient(store).sync_once()
    h = open_app(make_harness, path, width=360, height=640, route=f"/totals/sessions/{session}")
    wait_for(h, lambda: h.exists(key=f"roster.{b1}"))
    assert h.exists(key=f"roster.late.{b2}") and not h.exists(key=f"roster.late.{b1}")
    Taps(h)(h.get(key=f"roster.no_show.{b1}"))
    wait_for(h, lambda: "Không đến" in h.get(key=f"roster.status.{b1}").text)
    h.go("/totals/sessions")
    wait_for(h, lambda: h.exists(key="sessions.new.add"))
    h.change(h.get(key="sessions.new.place"), "Trụ sở công an phường")
    h.change(h.get(key="sessions.new.day"), "2026-12-12")
    h.change(h.get(key="sessions.new.hours"), "13:30-16:30")
    h.change(h.get(key="sessions.new.capacity"), "40")
    Taps(h)(h.get(key="sessions.new.add"))
    h.close()
    with Store(path, key=default_key(path)) as store:
        assert [s.data["place"] for s in store.sessions()] == ["Nhà văn hoá tổ 5", "Trụ sở công an phường"]
        SyncClient(store).sync_once()
    roster = admin.get(f"/api/v1/sessions/{session}/roster").json()["rows"]
    assert [r["status"] for r in roster] == ["no_show", "booked"]
    listed = admin.get("/api/v1/sessions", commune="10525").json()["sessions"]
    assert [(s["place"], s["capacity"]) for s in listed][-1] == ("Trụ sở công an phường", 40)


@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_an_officer_edits_moves_the_overbooked_and_cancels_a_session(server: Server, make_harness,
                                                                      tmp_path: Path) -> None:
    """Issue #13, items 2 and 5 of the helper's brief: the session edited (place, capacity, kind,
    hours), the booking past capacity moved to another session (cancelled + booked, one step),
    then the session cancelled: its people are back on the server's home-capture list."""
    admin = server.enroll("admin")
    hamlet, home, first, second, session, other, b1, b2 = (uuid7() for _ in range(8))
    answer = admin.push([
        admin.event("hamlet.created", hamlet, hamlet_data("Tổ dân phố 5")),
        admin.event("household.created", home, household_data(hamlet, "Số 2, phố Hẹn")),
        admin.event("person.added", first, person_data(home, "Hà Thị Lan", 1939, "none", "no_app")),
        admin.event("person.added", second, person_data(home, "Hà Văn Sơn", 1937, "none", "no_app")),
        admin.event("person.updated", first, {"blockers": ["cannot_travel"]}),
        admin.event("session.created", session, SESSION),
        admin.event("session.created", other, {**SESSION, "place": "Trụ sở công an phường",
                                               "starts_at": "2026-12-06T08:00:00+07:00",
                                               "ends_at": "2026-12-06T11:00:00+07:00", "capacity": 10}),
        admin.event("booking.made", b1, {"session_id": session, "person_id": first}),
        admin.event("booking.made", b2, {"session_id": session, "person_id": second}),
    ])
    assert answer.status_code == 200 and answer.json()["quarantined"] == [], answer.text
    follow = admin.get("/api/v1/followup", commune="10525", list="home_capture").json()["rows"]
    assert [r["label"] for r in follow] == []  # Lan holds a booking
    path = enrolled(server, tmp_path / "officer", "officer", commune="10525")
    with Store(path, key=default_key(path)) as store:
        SyncClient(store).sync_once()
    h = open_app(make_harness, path, width=360, height=640, route=f"/totals/sessions/{session}")
    wait_for(h, lambda: h.exists(key=f"roster.move.{b2}"))
    assert not h.exists(key=f"roster.move.{b1}")  # within capacity: nothing to move
    taps = Taps(h)

    # edit: a new place, two more places, home captures, later hours; nothing changed says so
    taps(h.get(key="session.edit"))
    taps(h.get(key="session.edit.save"))
    assert h.exists(ft.Text, text_contains="Chưa có gì thay đổi")  # the snack bar
    assert h.get(key="session.edit.place").get("value") == "Nhà văn hoá tổ 5"
    h.change(h.get(key="session.edit.place"), "Nhà văn hoá tổ 6")
    h.change(h.get(key="session.edit.capacity"), "3")
    h.change(h.get(key="session.edit.hours"), "14:00-17:00")
    h.change(h.get(key="session.edit.hours"), "17:00-14:00")  # ends before it starts: refused, said
    taps(h.get(key="session.edit.save"))
    assert h.exists(ft.Text, text_contains="giờ kết thúc sau giờ bắt đầu")
    with Store(path, key=default_key(path)) as store:  # nothing written
        assert [s.data["place"] for s in store.sessions() if s.id == session] == ["Nhà văn hoá tổ 5"]
    h.change(h.get(key="session.edit.hours"), "14:00-17:00")
    h.event(h.get(key="session.edit.kind.home_capture"), "select", True)
    taps(h.get(key="session.edit.save"))
    wait_for(h, lambda: "Nhà văn hoá tổ 6" in " ".join(h.texts()))
    assert not h.exists(key=f"roster.late.{b2}")  # three places now: nobody past capacity

    # back to one place; then Sơn (past it) moves to the other session
    taps(h.get(key="session.edit"))
    h.change(h.get(key="session.edit.capacity"), "1")
    taps(h.get(key="session.edit.save"))
    wait_for(h, lambda: h.exists(key=f"roster.move.{b2}"))
    assert other in {o["key"] for o in h.get(key=f"roster.move_to.{b2}")["options"]}
    h.update_props(h.get(key=f"roster.move_to.{b2}"), {"value": other})
    taps(h.get(key=f"roster.move.{b2}"))
    wait_for(h, lambda: "Đã huỷ" in h.get(key=f"roster.status.{b2}").text)

    # cancelled: a two-step tap; then the people still booked can be moved from it
    taps(h.get(key="session.cancel"))
    taps(h.get(key="session.cancel.yes"))
    wait_for(h, lambda: h.exists(key="roster.cancelled"))
    assert h.exists(key=f"roster.move.{b1}") and h.exists(key="session.reopen")
    assert "sự kiện" not in " ".join(h.texts())
    h.close()
    with Store(path, key=default_key(path)) as store:
        assert SyncClient(store).sync_once() is not None
        assert store.quarantined() == []
    listed = {s["id"]: s for s in admin.get("/api/v1/sessions", commune="10525").json()["sessions"]}
    edited = listed[session]
    assert (edited["place"], edited["capacity"], edited["kind"], edited["cancelled"]) == \
        ("Nhà văn hoá tổ 6", 1, "home_capture", True)
    assert edited["starts_at"].startswith("2026-12-05T14:00")
    moved = admin.get(f"/api/v1/sessions/{other}/roster").json()["rows"]
    assert [(r["person"], r["status"]) for r in moved] == [(second, "booked")]
    assert [r["status"] for r in admin.get(f"/api/v1/sessions/{session}/roster").json()["rows"]] == \
        ["booked", "cancelled"]
    follow = admin.get("/api/v1/followup", commune="10525", list="home_capture").json()["rows"]
    assert [r["label"] for r in follow] == ["Hà Thị Lan"]  # her session was cancelled: back on the list
