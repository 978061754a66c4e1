"""Capture sessions on an officer's phone (issue #13, item 5): the dashboard opens them; the
officer adds one (a session.created that syncs); a roster lists the people booked in the order
they hold places, those past capacity flagged "Quá chỗ", and one tap records a no-show."""
from __future__ import annotations

from pathlib import Path

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
