"""Which blockers are being resolved, and by which help (GET /followup/counts `blockers`), on
both backends: people living here who still have each blocker, and the help visits not taken
back gave them; a blocker cleared leaves its count; the phone's rule (campaign.guides) agrees."""
from __future__ import annotations

import pytest

from campaign import guides
from campaign import vocabulary as v
from campaign.ids import uuid7

from ..support import hamlet_data, household_data, person_data
from .reporting import WARD, ok


@pytest.fixture
def world(server):  # type: ignore[no-untyped-def]
    admin = server.enroll("admin")
    officer = server.enroll("officer", commune=WARD)
    hamlet, household = uuid7(), uuid7()
    sim, sim2, phone, moved = uuid7(), uuid7(), uuid7(), uuid7()
    visit, wrong = uuid7(), uuid7()
    events = [admin.event("hamlet.created", hamlet, hamlet_data("Tổ gỡ vướng")),
              admin.event("household.created", household, household_data(hamlet, "Số 3, phố Gỡ"))]
    for pid, blockers, presence in ((sim, ["sim_not_own"], "home"), (sim2, ["sim_not_own", "no_smartphone"], "home"),
                                    (phone, ["otp_old_number"], "home"), (moved, ["sim_not_own"], "moved")):
        events += [admin.event("person.added", pid, {**person_data(household, f"Người {pid[-4:]}", 1970,
                                                                   "cccd_chip", "no_app"), "presence": presence}),
                   admin.event("person.updated", pid, {"blockers": blockers})]
    events += [
        admin.event("visit.recorded", visit, {"household_id": household, "outcome": "met",
                                              "actions": ["referred_phone_change", "explained"],
                                              "people_helped": [sim, phone, moved], "note": ""}),
        admin.event("visit.recorded", wrong, {"household_id": household, "outcome": "met",
                                              "actions": ["referred_l2"], "people_helped": [sim2], "note": ""}),
        admin.event("visit.voided", wrong, {"reason": "nhầm hộ"}),
    ]
    assert ok(admin.push(events))["quarantined"] == []
    return {"admin": admin, "officer": officer, "phone": phone}


def _blockers(client):  # type: ignore[no-untyped-def]
    return ok(client.get("/api/v1/followup/counts", commune=WARD))["blockers"]


def test_each_blocker_shows_who_still_has_it_and_the_help_given(world) -> None:
    got = _blockers(world["officer"])
    assert list(got) == list(v.BLOCKERS.codes)  # every blocker, zeros included
    # the moved person counts nowhere; the voided visit's help counts nowhere
    assert got["sim_not_own"] == {"open": 2, "helped": {"explained": 1, "referred_phone_change": 1}}
    assert got["no_smartphone"] == {"open": 1, "helped": {}}
    assert got["otp_old_number"] == {"open": 1, "helped": {"explained": 1, "referred_phone_change": 1}}
    assert got["refused"] == {"open": 0, "helped": {}}
    # the number changed: the blocker is cleared and leaves the count
    assert ok(world["admin"].push([world["admin"].event("person.updated", world["phone"], {"blockers": []})]))[
        "quarantined"] == []
    assert _blockers(world["officer"])["otp_old_number"] == {"open": 0, "helped": {}}


def test_the_rule_counts_people_living_here_and_help_not_taken_back() -> None:
    a, b, gone = "a", "b", "c"
    visits = [{"people_helped": [a, gone], "actions": ["referred_phone_change"]},
              {"people_helped": [b], "actions": ["referred_l2"], "voided_at": "2026-01-01T00:00:00Z"}]
    helped = guides.help_given(visits)
    people = [(a, {"presence": "home", "blockers": ["sim_not_own"]}),
              (b, {"presence": "abroad", "blockers": ["sim_not_own"]}),
              (gone, {"presence": "deceased", "blockers": ["sim_not_own"]})]
    got = guides.progress(people, helped)
    assert got["sim_not_own"].wire() == {"open": 2, "helped": {"referred_phone_change": 1}}
    both = guides.merge([got, got])
    assert both["sim_not_own"].wire() == {"open": 4, "helped": {"referred_phone_change": 2}}


def test_children_are_counted_apart_by_what_can_be_done(server) -> None:  # type: ignore[no-untyped-def]
    from sync_server.services.followup import this_year
    year = this_year()
    admin = server.enroll("admin")
    officer = server.enroll("officer", commune=WARD)
    before = ok(officer.get("/api/v1/followup/counts", commune=WARD))["children"]
    hamlet, with_parent, without = uuid7(), uuid7(), uuid7()
    events = [admin.event("hamlet.created", hamlet, hamlet_data("Tổ trẻ em")),
              admin.event("household.created", with_parent, household_data(hamlet, "Số 1, phố Trẻ")),
              admin.event("household.created", without, household_data(hamlet, "Số 2, phố Trẻ"))]
    for household, born, card, vneid in ((with_parent, 1990, "cccd_chip", "l2_active"),
                                         (with_parent, year - 3, "none", "unknown"),
                                         (with_parent, year - 8, "none", "unknown"),
                                         (with_parent, year - 10, "can_cuoc", "unknown"),
                                         (without, 1985, "cccd_chip", "l1_active"),
                                         (without, year - 12, "none", "unknown")):
        events.append(admin.event("person.added", uuid7(), person_data(household, f"Người {born}", born, card,
                                                                       vneid)))
    assert ok(admin.push(events))["quarantined"] == []
    after = ok(officer.get("/api/v1/followup/counts", commune=WARD))["children"]
    assert {k: after[k] - before.get(k, 0) for k in after} == {"now": 1, "capture": 1, "parent_first": 1,
                                                                "done": 1}
