"""Booking a person into a capture session from the person screen (issue #13, item 5): the
volunteer's phone holds the commune's sessions (the officer's, pulled), one tap books, offline;
the booking reaches the officer's roster at the next sync, flagged overbooked past capacity."""
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


@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_a_volunteer_books_a_person_from_the_person_screen(server: Server, make_harness, tmp_path: Path) -> None:
    admin = server.enroll("admin")
    hamlet, home, first, second, session = uuid7(), uuid7(), uuid7(), uuid7(), uuid7()
    answer = admin.push([
        admin.event("hamlet.created", hamlet, hamlet_data("Tổ dân phố hẹn")),
        admin.event("household.created", home, household_data(hamlet, "Số 8, phố Hẹn")),
        admin.event("person.added", first, person_data(home, "Lò Thị Xuân", 1938, "none", "no_app")),
        admin.event("person.added", second, person_data(home, "Lò Văn Thành", 1936, "none", "no_app")),
        admin.event("session.created", session, {
            "commune": "10525", "kind": "mobile_capture", "starts_at": "2026-12-05T08:00:00+07:00",
            "ends_at": "2026-12-05T11:00:00+07:00", "place": "Nhà văn hoá tổ 3", "capacity": 1}),
    ])
    assert answer.status_code == 200 and answer.json()["quarantined"] == [], answer.text
    path = enrolled(server, tmp_path / "volunteer", "volunteer", hamlets=(hamlet,))
    with Store(path, key=default_key(path)) as store:
        SyncClient(store).sync_once()  # the hamlet and the commune's session arrive
        store.book(session, first)  # someone booked already: this one will be past capacity
    h = open_app(make_harness, path, width=360, height=640, route=f"/households/{home}/people/{second}")
    wait_for(h, lambda: h.exists(key=f"booking.book.{session}"))
    assert "Nhà văn hoá tổ 3" in h.texts()
    Taps(h)(h.get(key=f"booking.book.{session}"))
    wait_for(h, lambda: h.exists(key=f"booking.status.{session}"))
    assert not h.exists(key=f"booking.book.{session}")
    h.close()
    with Store(path, key=default_key(path)) as store:
        assert [b.data["status"] for b in store.bookings_of(second)] == ["booked"]
        SyncClient(store).sync_once()
    roster = admin.get(f"/api/v1/sessions/{session}/roster").json()["rows"]
    assert [(r["person"], r["overbooked"]) for r in roster] == [(first, False), (second, True)]
