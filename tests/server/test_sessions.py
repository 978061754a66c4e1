"""Capture sessions and bookings on the server, both backends (issue #13, item 5): officers make
sessions, a volunteer books people offline into them (never refused for capacity: those past it
are overbooked on the roster and in GET /api/v1/conflicts), the roster (JSON and xlsx) is
audited and formula-neutral, attendance is for officers and leaders, totals equal a recount."""
from __future__ import annotations

import io

from campaign.ids import uuid7

from ..support import cli, hamlet_data, household_data, person_data
from .reporting import WARD, make_team, ok

OTHER_WARD = "00004"  # Phường Ba Đình, Hà Nội


def _session(capacity: int = 2, **over: object) -> dict[str, object]:
    return {"commune": WARD, "kind": "mobile_capture", "starts_at": "2026-12-05T08:00:00+07:00",
            "ends_at": "2026-12-05T11:30:00+07:00", "place": "Nhà văn hoá tổ 3", "capacity": capacity, **over}


def _reasons(answer) -> list[str]:  # type: ignore[no-untyped-def]
    return [q["reason"] for q in ok(answer)["quarantined"]]


def _ward(server):  # type: ignore[no-untyped-def]
    """A hamlet with three people (one named like a formula), its team, and its devices."""
    admin = server.enroll("admin")
    hamlet, home = uuid7(), uuid7()
    people = [uuid7() for _ in range(3)]
    labels = ["Lò Văn Páo", "=HYPERLINK(\"http://x\")", "Đinh Thị Mai"]
    assert _reasons(admin.push([
        admin.event("hamlet.created", hamlet, hamlet_data("Tổ hẹn")),
        admin.event("household.created", home, household_data(hamlet, "Số 7, ngõ Hẹn")),
        *[admin.event("person.added", p, person_data(home, label, 1940, "none", "no_app"))
          for p, label in zip(people, labels, strict=True)]])) == []
    team = f"t-{uuid7()[-8:]}"
    make_team(server, team, WARD, [hamlet])
    officer = server.enroll("officer", commune=WARD)
    leader = server.enroll("leader", team=team, commune=WARD)
    volunteer = server.enroll("volunteer", hamlets=(hamlet,))
    return hamlet, people, officer, leader, volunteer


def test_an_officer_makes_a_session_and_a_volunteer_books_past_capacity(server) -> None:  # type: ignore[no-untyped-def]
    _hamlet, people, officer, leader, volunteer = _ward(server)
    session = uuid7()
    assert _reasons(volunteer.push([volunteer.event("session.created", session, _session())]))[0].startswith(
        "forbidden")
    assert _reasons(leader.push([leader.event("session.created", session, _session())]))[0].startswith("forbidden")
    assert _reasons(officer.push([officer.event("session.created", uuid7(), _session(commune=OTHER_WARD))]))[0] \
        .startswith("forbidden")
    assert _reasons(officer.push([officer.event("session.created", session, _session(capacity=2))])) == []
    # the volunteer's phone pulls the session of its commune, though filed under no hamlet
    assert session in {e["entity"] for e in volunteer.pull_all() if e["kind"] == "session.created"}
    bookings = [uuid7() for _ in people]
    assert _reasons(volunteer.push([volunteer.event("booking.made", b, {"session_id": session, "person_id": p})
                                    for b, p in zip(bookings, people, strict=True)])) == []  # never refused
    roster = ok(officer.get(f"/api/v1/sessions/{session}/roster"))
    assert [r["booking"] for r in roster["rows"]] == bookings  # in the order they hold places
    assert [r["overbooked"] for r in roster["rows"]] == [False, False, True]
    assert [r["position"] for r in roster["rows"]] == [1, 2, 3]
    assert {r["address"] for r in roster["rows"]} == {"Số 7, ngõ Hẹn"} and roster["rows"][0]["hamlet"] == "Tổ hẹn"
    assert (roster["session"]["booked"], roster["session"]["overbooked"]) == (3, 1)
    late = ok(leader.get("/api/v1/conflicts", commune=WARD))["overbooked"]
    assert [(o["booking"], o["position"], o["capacity"]) for o in late] == [(bookings[2], 3, 2)]
    listed = ok(volunteer.get("/api/v1/sessions", commune=WARD))["sessions"]
    assert [(s["id"], s["booked"], s["overbooked"]) for s in listed] == [(session, 3, 1)]
    # the leader moves one: a cancelled booking frees its place
    assert _reasons(volunteer.push([volunteer.event("booking.updated", bookings[0], {"status": "cancelled"})])) == []
    assert ok(officer.get("/api/v1/conflicts", commune=WARD))["overbooked"] == []
    assert cli(server.db_url, "recount").returncode == 0


def test_attendance_is_for_officers_and_leaders_and_counts(server) -> None:  # type: ignore[no-untyped-def]
    _hamlet, people, officer, leader, volunteer = _ward(server)
    session, booking = uuid7(), uuid7()
    assert _reasons(officer.push([officer.event("session.created", session, _session())])) == []
    assert _reasons(volunteer.push([volunteer.event("booking.made", booking,
                                                    {"session_id": session, "person_id": people[0]})])) == []
    assert _reasons(volunteer.push([volunteer.event("booking.updated", booking, {"status": "attended"})]))[0] \
        .startswith("forbidden")
    assert _reasons(leader.push([leader.event("booking.updated", booking, {"status": "no_show"})])) == []
    assert _reasons(officer.push([officer.event("booking.updated", booking, {"status": "attended"})])) == []
    rows = ok(officer.get(f"/api/v1/sessions/{session}/roster"))["rows"]
    assert [r["status"] for r in rows] == ["attended"]
    assert volunteer.get(f"/api/v1/sessions/{session}/roster").status_code == 403
    assert cli(server.db_url, "recount").returncode == 0


def test_another_volunteer_of_the_hamlet_cancels_a_booking_they_did_not_make(server) -> None:  # type: ignore[no-untyped-def]
    """A booking belongs to the person, not to the phone that made it: the volunteer who finds the
    person has moved away cancels it, whoever booked (roles.may_set_booking: anyone who may change
    the person)."""
    hamlet, people, officer, _leader, volunteer = _ward(server)
    other = server.enroll("volunteer", hamlets=(hamlet,))
    session, booking = uuid7(), uuid7()
    assert _reasons(officer.push([officer.event("session.created", session, _session())])) == []
    assert _reasons(volunteer.push([volunteer.event("booking.made", booking,
                                                    {"session_id": session, "person_id": people[0]})])) == []
    assert _reasons(other.push([other.event("booking.updated", booking, {"status": "cancelled"})])) == []
    assert [r["status"] for r in ok(officer.get(f"/api/v1/sessions/{session}/roster"))["rows"]] == ["cancelled"]
    assert cli(server.db_url, "recount").returncode == 0


def test_a_booking_into_another_communes_session_is_refused(server) -> None:  # type: ignore[no-untyped-def]
    _hamlet, people, _officer, _leader, volunteer = _ward(server)
    admin = server.enroll("admin")
    far = uuid7()
    assert _reasons(admin.push([admin.event("session.created", far, _session(commune=OTHER_WARD))])) == []
    assert _reasons(volunteer.push([volunteer.event("booking.made", uuid7(),
                                                    {"session_id": far, "person_id": people[0]})]))[0] \
        .startswith("bad_booking")


def test_the_roster_workbook_is_audited_and_never_a_formula(server) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook
    _hamlet, people, officer, _leader, volunteer = _ward(server)
    session = uuid7()
    assert _reasons(officer.push([officer.event("session.created", session, _session(capacity=1))])) == []
    assert _reasons(volunteer.push([volunteer.event("booking.made", uuid7(), {"session_id": session, "person_id": p})
                                    for p in people[:2]])) == []
    answer = officer.get("/api/v1/exports/roster.xlsx", session=session)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(answer.content))["Danh sách hẹn"]
    cells = [c.value for row in ws.iter_rows() for c in row if c.value is not None]
    assert "Lò Văn Páo" in cells and "'=HYPERLINK(\"http://x\")" in cells
    assert "Quá chỗ" in [c.value for c in list(ws.iter_rows())[-1]]  # the second booking, past capacity 1
    entries = ok(officer.get("/api/v1/audit", commune=WARD, limit=1000))["entries"]
    assert any(e["action"] == "export.roster.xlsx" for e in entries)
    assert officer.get("/api/v1/exports/roster.xlsx", session=uuid7()).status_code == 404


def test_a_booking_takes_a_person_off_the_home_capture_list_and_a_no_show_puts_them_back(server) -> None:  # type: ignore[no-untyped-def]
    _hamlet, people, officer, leader, volunteer = _ward(server)
    bedridden = people[0]
    assert _reasons(volunteer.push([volunteer.event("person.updated", bedridden, {"blockers": ["cannot_travel"]})])) \
        == []

    def listed() -> bool:
        rows = ok(officer.get("/api/v1/followup", commune=WARD, list="home_capture", limit=1000))["rows"]
        return bedridden in {r["person_id"] for r in rows}

    assert listed()
    session, booking = uuid7(), uuid7()
    assert _reasons(officer.push([officer.event("session.created", session, _session(kind="home_capture"))])) == []
    assert _reasons(volunteer.push([volunteer.event("booking.made", booking,
                                                    {"session_id": session, "person_id": bedridden})])) == []
    assert not listed()
    assert _reasons(leader.push([leader.event("booking.updated", booking, {"status": "no_show"})])) == []
    assert listed()


def test_a_household_that_moves_hamlet_takes_its_peoples_bookings_along(server) -> None:  # type: ignore[no-untyped-def]
    """household.updated hamlet_id: the bookings of its people are filed under the hamlet it
    joined, as its people are: the roster names that hamlet, the follow-up list there still
    knows the person is booked, the counts move, and a leader of the new hamlet records the
    attendance. Before, the bookings stayed under the hamlet it left."""
    hamlet, people, officer, _leader, volunteer = _ward(server)
    admin = server.enroll("admin")
    bedridden = people[0]
    other = uuid7()
    assert _reasons(admin.push([admin.event("hamlet.created", other, hamlet_data("Tổ mới"))])) == []
    assert _reasons(volunteer.push([volunteer.event("person.updated", bedridden, {"blockers": ["cannot_travel"]})])) \
        == []
    session, booking = uuid7(), uuid7()
    assert _reasons(officer.push([officer.event("session.created", session, _session(kind="home_capture"))])) == []
    assert _reasons(volunteer.push([volunteer.event("booking.made", booking,
                                                    {"session_id": session, "person_id": bedridden})])) == []
    home = next(e["data"]["household_id"] for e in admin.pull_all() if e["entity"] == bedridden
                and e["kind"] == "person.added")
    assert _reasons(admin.push([admin.event("household.updated", home, {"hamlet_id": other})])) == []

    row = ok(officer.get(f"/api/v1/sessions/{session}/roster"))["rows"][0]
    assert (row["booking"], row["hamlet_id"], row["hamlet"]) == (booking, other, "Tổ mới")
    follow = ok(officer.get("/api/v1/followup", commune=WARD, list="home_capture", limit=1000))["rows"]
    assert bedridden not in {r["person_id"] for r in follow}  # still booked, wherever they live now
    team = f"t-{uuid7()[-8:]}"
    make_team(server, team, WARD, [other])
    new_leader = server.enroll("leader", team=team, commune=WARD)
    # the hamlet it joined pulls the household whole: its people's bookings come with its history
    pulled = new_leader.pull_all()
    assert booking in {e["entity"] for e in pulled if e["kind"] == "booking.made"}
    assert [e["kind"] for e in pulled if e["entity"] in (booking, home)][-1] == "household.updated"
    assert _reasons(new_leader.push([new_leader.event("booking.updated", booking, {"status": "no_show"})])) == []
    assert bedridden in {r["person_id"] for r in ok(officer.get(
        "/api/v1/followup", commune=WARD, list="home_capture", limit=1000))["rows"]}
    assert hamlet != other
    assert cli(server.db_url, "recount").returncode == 0
