"""Capture sessions on the phone (issue #13, item 5): a volunteer's phone pulls its commune's
sessions (filed under no hamlet), books a person offline, and the booking reaches the roster;
past capacity it is still taken, and the roster flags it overbooked.

The server is the real application on a SQLite file, in process (as tests/test_hamlet_order.py)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from campaign.events import InvalidEvent
from field_app.net.sync import SyncClient
from sync_server.app import create_app
from sync_server.config import Settings
from sync_server.store import migrate
from sync_server.store.db import make_engine

from .store_support import add_hamlet, outbox_rows
from .support import enrolled_store, issue_code, wire_event
from .test_store import open_store, seed

COMMUNE = "10525"


def test_a_volunteer_books_offline_into_the_officers_session_past_capacity(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'server.db'}")
    migrate.upgrade(engine)
    http = TestClient(create_app(Settings(database_url="unused", public_url="http://testserver"), engine))
    admin = enrolled_store(tmp_path / "admin", "http://testserver", issue_code(engine, "admin"), http=http)
    hamlet = add_hamlet(admin, COMMUNE, "Tổ dân phố 3", "to_dan_pho", "2025-07-01")
    household = admin.add_household(hamlet, "Số 4, phố Hẹn", "given")
    people = [admin.add_person(household, name, 1940, "home", "none", "no_app") for name in ("Lò Văn Páo", "Mai")]
    SyncClient(admin, client=http).sync_once()
    officer = http.post("/api/v1/enroll", json={"code": issue_code(engine, "officer", commune=COMMUNE)}).json()
    session = "01a24000-0000-7000-8000-000000000001"
    made = http.post("/api/v1/sync/push", headers={"Authorization": f"Bearer {officer['token']}"}, json={
        "schema": 1, "events": [wire_event(officer["device_id"], 1, "session.created", session, {
            "commune": COMMUNE, "kind": "mobile_capture", "starts_at": "2026-12-05T08:00:00+07:00",
            "ends_at": "2026-12-05T11:00:00+07:00", "place": "Nhà văn hoá", "capacity": 1})]})
    assert made.status_code == 200 and made.json()["quarantined"] == [], made.text

    phone = enrolled_store(tmp_path / "phone", "http://testserver",
                           issue_code(engine, "volunteer", hamlets=(hamlet,)), http=http)
    SyncClient(phone, client=http).sync_once()
    assert [s.id for s in phone.sessions()] == [session]
    bookings = [phone.book(session, p) for p in people]  # offline: the phone cannot know it is full
    assert [b.id for b in phone.bookings_of(people[1])] == [bookings[1]]
    SyncClient(phone, client=http).sync_once()
    roster = http.get(f"/api/v1/sessions/{session}/roster", headers={"Authorization": f"Bearer {officer['token']}"})
    assert roster.status_code == 200, roster.text
    assert [(r["booking"], r["overbooked"]) for r in roster.json()["rows"]] == [(bookings[0], False),
                                                                               (bookings[1], True)]


def test_a_booking_moves_to_another_session_in_one_step(tmp_path: Path) -> None:
    """Store.move_booking (the roster's move): the booking cancelled and the person booked into
    the other session, both or neither; a cancelled booking, or a move to its own session, is
    refused and nothing is written."""
    store = open_store(tmp_path / "a")
    _hamlet, household = seed(store)
    person = store.add_person(household, "Lò Văn Páo", 1940, "home", "none", "no_app")
    first, second = "01a24000-0000-7000-8000-00000000000a", "01a24000-0000-7000-8000-00000000000b"
    for session, day in ((first, "05"), (second, "06")):
        store.record("session.created", session, {
            "commune": COMMUNE, "kind": "mobile_capture", "starts_at": f"2026-12-{day}T08:00:00+07:00",
            "ends_at": f"2026-12-{day}T11:00:00+07:00", "place": "Nhà văn hoá", "capacity": 1})
    booking = store.book(first, person)
    written = len(outbox_rows(store))
    with pytest.raises(InvalidEvent):
        store.move_booking(booking, first)
    assert len(outbox_rows(store)) == written
    moved = store.move_booking(booking, second)
    assert [(r["kind"], json.loads(r["body"])["data"]) for r in outbox_rows(store)[written:]] == [
        ("booking.updated", {"status": "cancelled"}),
        ("booking.made", {"session_id": second, "person_id": person})]
    assert {b.id: (b.parent_id, b.data["status"]) for b in store.bookings_of(person)} == {
        booking: (first, "cancelled"), moved: (second, "booked")}
    with pytest.raises(InvalidEvent):
        store.move_booking(booking, second)  # cancelled: nothing to move
    with pytest.raises(InvalidEvent):
        store.move_booking(moved, "01a24000-0000-7000-8000-00000000000c")  # no such session: neither written
    assert store.bookings_of(person)[-1].data["status"] == "booked"
    assert len(outbox_rows(store)) == written + 2
    store.close()


def test_a_phone_of_the_hamlet_a_household_joined_gets_its_peoples_bookings(tmp_path: Path) -> None:
    """A household moved to another hamlet comes to that hamlet's phones with its history, its
    people's capture bookings included (they move with it): the person screen shows the booking."""
    engine = make_engine(f"sqlite:///{tmp_path / 'server.db'}")
    migrate.upgrade(engine)
    http = TestClient(create_app(Settings(database_url="unused", public_url="http://testserver"), engine))
    admin = enrolled_store(tmp_path / "admin", "http://testserver", issue_code(engine, "admin"), http=http)
    here = add_hamlet(admin, COMMUNE, "Tổ dân phố 3", "to_dan_pho", "2025-07-01")
    there = add_hamlet(admin, COMMUNE, "Tổ dân phố 4", "to_dan_pho", "2025-07-01")
    household = admin.add_household(here, "Số 4, phố Hẹn", "given")
    person = admin.add_person(household, "Lò Văn Páo", 1940, "home", "none", "no_app")
    session = "01a24000-0000-7000-8000-000000000002"
    admin.record("session.created", session, {
        "commune": COMMUNE, "kind": "home_capture", "starts_at": "2026-12-05T08:00:00+07:00",
        "ends_at": "2026-12-05T11:00:00+07:00", "place": "Tại nhà", "capacity": 5})
    booking = admin.book(session, person)
    SyncClient(admin, client=http).sync_once()
    admin.update_household(household, hamlet_id=there)
    SyncClient(admin, client=http).sync_once()
    assert admin.quarantined() == []

    phone = enrolled_store(tmp_path / "phone", "http://testserver",
                           issue_code(engine, "volunteer", hamlets=(there,)), http=http)
    SyncClient(phone, client=http).sync_once()
    assert phone.person(person) is not None
    assert [(b.id, b.data["status"]) for b in phone.bookings_of(person)] == [(booking, "booked")]
    assert [b.id for b in phone.bookings_in(session)] == [booking]
    # filed under the hamlet the household joined, on both phones as on the server
    assert {b.hamlet_id for b in (*phone.bookings_of(person), *admin.bookings_of(person))} == {there}


def test_a_change_to_the_session_keeps_its_bookings_on_the_phone(tmp_path: Path) -> None:
    """The officer's session.updated, pulled, recomputes the session on the phone: its bookings
    (each its own unit of replay) stay. Found by tests/test_convergence.py once bookings were in
    it: the replay took the session's bookings into its family and, not finding their events
    among the session's, deleted them (seen to fail without the fix in store/replay.py)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'server.db'}")
    migrate.upgrade(engine)
    http = TestClient(create_app(Settings(database_url="unused", public_url="http://testserver"), engine))
    admin = enrolled_store(tmp_path / "admin", "http://testserver", issue_code(engine, "admin"), http=http)
    hamlet = add_hamlet(admin, COMMUNE, "Tổ dân phố 3", "to_dan_pho", "2025-07-01")
    household = admin.add_household(hamlet, "Số 4, phố Hẹn", "given")
    person = admin.add_person(household, "Lò Văn Páo", 1940, "home", "none", "no_app")
    SyncClient(admin, client=http).sync_once()
    officer = http.post("/api/v1/enroll", json={"code": issue_code(engine, "officer", commune=COMMUNE)}).json()
    headers = {"Authorization": f"Bearer {officer['token']}"}
    session = "01a24000-0000-7000-8000-000000000021"
    data = {"commune": COMMUNE, "kind": "mobile_capture", "starts_at": "2026-12-05T08:00:00+07:00",
            "ends_at": "2026-12-05T11:00:00+07:00", "place": "Nhà văn hoá", "capacity": 1}
    made = http.post("/api/v1/sync/push", headers=headers, json={
        "schema": 1, "events": [wire_event(officer["device_id"], 1, "session.created", session, data)]})
    assert made.status_code == 200 and made.json()["quarantined"] == [], made.text

    phone = enrolled_store(tmp_path / "phone", "http://testserver",
                           issue_code(engine, "volunteer", hamlets=(hamlet,)), http=http)
    SyncClient(phone, client=http).sync_once()
    booking = phone.book(session, person)
    SyncClient(phone, client=http).sync_once()
    changed = http.post("/api/v1/sync/push", headers=headers, json={
        "schema": 1, "events": [wire_event(officer["device_id"], 2, "session.updated", session, {"capacity": 3},
                                           base=1)]})
    assert changed.status_code == 200 and changed.json()["quarantined"] == [], changed.text
    SyncClient(phone, client=http).sync_once()
    [held] = phone.sessions()
    assert held.data["capacity"] == 3
    assert [b.id for b in phone.bookings_in(session)] == [booking]
