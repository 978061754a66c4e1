"""visit.voided on the server: who may take a visit back, and the visit leaving the totals at once."""
from __future__ import annotations

from campaign.ids import uuid7
from sync_server.services import team as teams
from sync_server.store.db import write_transaction

from ..support import cli, hamlet_data, household_data


def _visit(device, household: str, outcome: str = "not_home") -> dict:  # type: ignore[no-untyped-def]
    return device.event("visit.recorded", uuid7(), {"household_id": household, "outcome": outcome,
                                                     "actions": [], "people_helped": [], "note": ""})


def _row(device, hamlet: str) -> dict:  # type: ignore[no-untyped-def]
    rows = device.get("/api/v1/totals", commune="10525").json()["rows"]
    return next(r for r in rows if r["key"] == hamlet)


def _reason(answer) -> str:  # type: ignore[no-untyped-def]
    assert answer.status_code == 200, answer.text
    quarantined = answer.json()["quarantined"]
    return quarantined[0]["reason"] if quarantined else ""


def _team(server, *hamlets: str) -> str:  # type: ignore[no-untyped-def]
    team = f"t-{uuid7()[-8:]}"
    with write_transaction(server.engine) as conn:
        teams.create_team(conn, team, "Tổ 1", "10525", list(hamlets))
    return team


def test_a_void_takes_the_visit_out_of_the_totals_at_once(server, hamlet):
    volunteer = server.enroll("volunteer", hamlets=(hamlet,))
    household = uuid7()
    created = volunteer.event("household.created", household, household_data(hamlet))
    visit = _visit(volunteer, household)
    volunteer.push([created, visit])
    row = _row(volunteer, hamlet)
    assert (row["visited"], row["revisit"], row["visits"], row["outcomes"]["not_home"]) == (1, 1, 1, 1)
    assert _reason(volunteer.push([volunteer.event("visit.voided", visit["entity"], {"reason": ""})])) == ""
    row = _row(volunteer, hamlet)
    assert (row["visited"], row["revisit"], row["visits"], row["outcomes"]["not_home"]) == (0, 0, 0, 0)
    pulled = {e["kind"] for e in volunteer.pull_all()}
    assert "visit.voided" in pulled  # every device of the hamlet hears of it
    assert cli(server.db_url, "recount").returncode == 0


def test_a_visit_is_voided_once_and_never_reviewed_after(server, hamlet):
    volunteer = server.enroll("volunteer", hamlets=(hamlet,))
    leader = server.enroll("leader", team=_team(server, hamlet))
    household = uuid7()
    created = volunteer.event("household.created", household, household_data(hamlet))
    visit = _visit(volunteer, household, "met")
    volunteer.push([created, visit,
                    volunteer.event("visit.voided", visit["entity"], {"reason": ""})])
    again = volunteer.event("visit.voided", visit["entity"], {"reason": "lần nữa"})
    assert _reason(volunteer.push([again])).startswith("voided")
    review = leader.event("review.decided", visit["entity"], {"decision": "approved", "comment": ""})
    assert _reason(leader.push([review])).startswith("voided")


def test_another_volunteer_may_not_take_a_visit_back(server, hamlet):
    a = server.enroll("volunteer", hamlets=(hamlet,))
    b = server.enroll("volunteer", hamlets=(hamlet,))
    household = uuid7()
    created = a.event("household.created", household, household_data(hamlet))
    visit = _visit(a, household)
    a.push([created, visit])
    assert _reason(b.push([b.event("visit.voided", visit["entity"], {"reason": ""})])).startswith("forbidden")
    assert _row(a, hamlet)["visits"] == 1


def test_a_leader_of_the_team_takes_back_a_volunteers_visit(server, hamlet):
    volunteer = server.enroll("volunteer", hamlets=(hamlet,))
    leader = server.enroll("leader", team=_team(server, hamlet))
    household = uuid7()
    created = volunteer.event("household.created", household, household_data(hamlet))
    visit = _visit(volunteer, household)
    volunteer.push([created, visit])
    assert _reason(leader.push([leader.event("visit.voided", visit["entity"], {"reason": "Ghi nhầm"})])) == ""
    assert _row(volunteer, hamlet)["visits"] == 0


def test_outside_its_hamlets_a_void_is_forbidden_whatever_the_visits_state(server, admin, hamlet):
    """Scope first: a leader of another team hears `forbidden` for a live visit, a voided one and
    none at all, so the answer tells nothing about visits it may not see."""
    other = uuid7()
    admin.push([admin.event("hamlet.created", other, hamlet_data("Tổ khác"))])
    outsider = server.enroll("leader", team=_team(server, other))
    volunteer = server.enroll("volunteer", hamlets=(hamlet,))
    household = uuid7()
    created = volunteer.event("household.created", household, household_data(hamlet))
    live, voided = _visit(volunteer, household), _visit(volunteer, household)
    volunteer.push([created, live, voided,
                    volunteer.event("visit.voided", voided["entity"], {"reason": ""})])
    reasons = {_reason(outsider.push([outsider.event("visit.voided", target, {"reason": ""})]))
               for target in (live["entity"], voided["entity"], uuid7())}
    assert len(reasons) == 1 and reasons.pop().startswith("forbidden")
    assert _row(volunteer, hamlet)["visits"] == 1
