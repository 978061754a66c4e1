"""A team's settings (GET/PUT /api/v1/team/settings): who reads and changes them, what is
refused, the audit row, and that they reach the phones and change who holds a household on
both the phone's walk lists and the server's walk sheet."""
from __future__ import annotations

import json
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from campaign.ids import short_code, uuid7
from campaign.review import SAMPLE_EVERY
from campaign.time import VIETNAM
from field_app.net.sync import SyncClient

from ..support import enrolled_store, household_data
from .reporting import WARD, World, audit_rows, build_world, http, make_team, ok

PATH = "/api/v1/team/settings"


@pytest.fixture(scope="module")
def world(server):  # type: ignore[no-untyped-def]
    world = build_world(server, "tset")
    make_team(server, "team-tset-2", WARD, [world.hamlet_b])
    make_team(server, "team-tset-bad", WARD, [])
    return world


def team(world: World) -> str:
    return "team-tset"


def _put(who, team_id: str, body: object) -> httpx.Response:  # type: ignore[no-untyped-def]
    return http.put(who.server.url + PATH, params={"team": team_id}, json=body, headers=who.headers)


def test_the_defaults_until_changed_then_the_change_with_its_audit_row(world: World) -> None:
    fresh = "team-tset-3"
    make_team(world.server, fresh, WARD, [])
    assert ok(world.officer.get(PATH, team=fresh)) == {"team": fresh, "sample_every": SAMPLE_EVERY, "lapse_days": 5}
    before = len(audit_rows(world.server, "team.settings"))
    assert ok(_put(world.officer, fresh, {"sample_every": 4})) == {"team": fresh, "sample_every": 4, "lapse_days": 5}
    # a field left out keeps its value
    assert ok(_put(world.officer, fresh, {"lapse_days": 12})) == {"team": fresh, "sample_every": 4, "lapse_days": 12}
    assert ok(world.admin.get(PATH, team=fresh))["sample_every"] == 4
    rows = audit_rows(world.server, "team.settings")
    assert len(rows) == before + 2 and rows[-1].device_id == world.officer.id and rows[-1].commune == WARD
    assert json.loads(rows[-1].detail) == {"team": fresh, "sample_every": 4, "lapse_days": 12}


def test_the_teams_leader_changes_them_others_are_refused(world: World) -> None:
    t = team(world)
    assert ok(_put(world.leader, t, {"sample_every": 5, "lapse_days": 7}))["lapse_days"] == 7
    other_leader = world.server.enroll("leader", team="team-tset-2")
    for who in (world.volunteer, world.volunteer_b, other_leader, world.other_officer):
        assert who.get(PATH, team=t).status_code == 403
        answer = _put(who, t, {"sample_every": 1})
        assert answer.status_code == 403 and answer.json()["error"] == "forbidden", answer.text
    assert world.officer.get(PATH, team="no-such-team").json()["error"] == "unknown_team"
    assert ok(world.leader.get(PATH, team=t)) == {"team": t, "sample_every": 5, "lapse_days": 7}  # unchanged


@pytest.mark.parametrize("body, error", [
    ({"sample_every": 0}, "bad_sample_every"),
    ({"sample_every": 101}, "bad_sample_every"),
    ({"lapse_days": 0}, "bad_lapse_days"),
    ({"lapse_days": 61}, "bad_lapse_days"),
    ({"lapse_days": "7"}, "bad_request"),  # strict: no text for a number
    ({"sample_every": True}, "bad_request"),
    ({"colour": "red"}, "bad_request"),
])
def test_a_setting_outside_its_rule_is_refused_and_nothing_changes(world: World, body, error) -> None:
    fresh = "team-tset-bad"
    saved = ok(_put(world.officer, fresh, {"sample_every": 3, "lapse_days": 9}))
    before = len(audit_rows(world.server, "team.settings"))
    answer = _put(world.officer, fresh, body)
    assert answer.status_code == 400 and answer.json()["error"] == error, answer.text
    assert ok(world.officer.get(PATH, team=fresh)) == saved
    assert len(audit_rows(world.server, "team.settings")) == before


def test_the_last_pull_page_carries_the_devices_team_settings(world: World) -> None:
    ok(_put(world.leader, team(world), {"sample_every": 6, "lapse_days": 8}))
    page = ok(world.volunteer.get("/api/v1/sync/pull", after=0, limit=1))
    assert page["more"] is True and "team_settings" not in page  # only the last page says it
    last = ok(world.volunteer.get("/api/v1/sync/pull", after=0, limit=2000))
    assert last["more"] is False and last["team_settings"] == {"sample_every": 6, "lapse_days": 8}
    # hamlet B's volunteer has no team of its own: the team working its hamlets (team-tset-2), defaults
    other = ok(world.volunteer_b.get("/api/v1/sync/pull", after=0, limit=2000))
    assert other["team_settings"] == {"sample_every": SAMPLE_EVERY, "lapse_days": 5}


def test_a_push_that_needs_no_pull_carries_the_changed_settings(world: World, tmp_path: Path) -> None:
    """A phone caught up with its hamlet pushes a new household and pulls nothing after it (the
    push's answer says caught_up): the leader's change of the team's settings reaches it through
    that answer, not at some later pull."""
    t = team(world)
    phone = enrolled_store(tmp_path / "phone", world.server.url, world.server.code("volunteer", team=t))
    try:
        SyncClient(phone).sync_once()
        ok(_put(world.leader, t, {"sample_every": 9, "lapse_days": 13}))
        phone.add_household(world.hamlet_a, "Số 91, phố Lê Lợi")
        report = SyncClient(phone).sync_once()
        assert report.caught_up and report.pages == 0 and report.pushed == 1  # no pull was made
        assert (phone.team_settings().sample_every, phone.team_settings().lapse_days) == (9, 13)
    finally:
        phone.close()


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_a_changed_lapse_changes_who_holds_a_household_on_the_phone_and_on_the_walk_sheet(
        world: World, tmp_path: Path) -> None:
    """Assigned 7 days ago, never visited: lapsed at 5 days (back in the pool), held again at 10,
    on the volunteer's phone (its "Của tôi" list, after a sync) and on the server's walk sheet."""
    t = team(world)
    phone = enrolled_store(tmp_path / "phone", world.server.url, world.server.code("volunteer", team=t))
    household = uuid7()
    week_ago = (datetime.now(VIETNAM) - timedelta(days=7)).replace(microsecond=0).isoformat()
    lead = world.leader
    assert ok(lead.push([lead.event("household.created", household,
                                    household_data(world.hamlet_a, "Số 88, phố Lê Lợi"), at=week_ago),
                         lead.event("assignment.set", household, {"device_id": phone.device_id}, at=week_ago)]
                        ))["quarantined"] == []

    def phone_holds() -> bool:
        SyncClient(phone).sync_once()
        page = phone.households_search(world.hamlet_a, limit=1000)
        return any(r.id == household and r.mine for r in page.rows[:page.mine])

    def sheet_holds() -> bool:
        answer = lead.get("/api/v1/exports/walksheet.pdf", hamlet=world.hamlet_a, device=phone.device_id)
        path = tmp_path / "sheet.pdf"
        path.write_bytes(ok_pdf(answer))
        text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                              text=True).stdout
        return short_code(household) in text

    try:
        ok(_put(lead, t, {"lapse_days": 5}))
        assert not phone_holds() and not sheet_holds()
        assert phone.team_settings().lapse_days == 5
        ok(_put(lead, t, {"lapse_days": 10}))
        assert phone_holds() and sheet_holds()
        assert phone.team_settings().lapse_days == 10
        ok(_put(lead, t, {"lapse_days": 6}))
        assert not phone_holds() and not sheet_holds()
    finally:
        phone.close()


def ok_pdf(answer: httpx.Response) -> bytes:
    assert answer.status_code == 200, answer.text
    return answer.content
