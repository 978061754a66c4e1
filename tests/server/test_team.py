"""GET /api/v1/team/devices and /api/v1/team/quarantined: each role, each scope."""
from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from campaign.ids import uuid7

from ..support import Device, Server, cli, hamlet_data, household_data, person_data

DEVICE_FIELDS = {"device_id", "name", "role", "team", "enrolled_at", "revoked", "acked_seq", "last_push_at",
                 "last_pull_at", "quarantined"}


@dataclass
class Teams:
    """Two teams of Phường Hải Dương (10525), each with a hamlet, a leader and a volunteer,
    a volunteer enrolled for team A's hamlet only, and a hamlet of Xã Thanh Hà (10813)."""
    a: str
    b: str
    hamlet_a: str
    hamlet_b: str
    hamlet_elsewhere: str
    leader_a: Device
    leader_b: Device
    volunteer_a: Device
    volunteer_b: Device
    hamlet_volunteer: Device  # enrolled with --hamlet hamlet_a, no team
    elsewhere: Device  # a volunteer of the other commune


@pytest.fixture()
def teams(server: Server, admin: Device) -> Teams:
    hamlet_a, hamlet_b, hamlet_elsewhere = uuid7(), uuid7(), uuid7()
    answer = admin.push([admin.event("hamlet.created", hamlet_a, hamlet_data("Tổ dân phố A")),
                         admin.event("hamlet.created", hamlet_b, hamlet_data("Tổ dân phố B")),
                         admin.event("hamlet.created", hamlet_elsewhere, hamlet_data("Thôn Đông", "10813"))])
    assert answer.json()["quarantined"] == [], answer.text
    a, b = f"a-{uuid7()[-8:]}", f"b-{uuid7()[-8:]}"
    cli(server.db_url, "team", a, "--name", "Tổ A", "--commune", "10525", "--hamlet", hamlet_a)
    cli(server.db_url, "team", b, "--name", "Tổ B", "--commune", "10525", "--hamlet", hamlet_b)
    return Teams(a, b, hamlet_a, hamlet_b, hamlet_elsewhere,
                 leader_a=server.enroll("leader", team=a), leader_b=server.enroll("leader", team=b),
                 volunteer_a=server.enroll("volunteer", team=a), volunteer_b=server.enroll("volunteer", team=b),
                 hamlet_volunteer=server.enroll("volunteer", hamlets=(hamlet_a,)),
                 elsewhere=server.enroll("volunteer", hamlets=(hamlet_elsewhere,)))


def devices(who: Device, **params: str) -> dict[str, dict]:
    answer = who.get("/api/v1/team/devices", **params)
    assert answer.status_code == 200, answer.text
    rows = answer.json()["devices"]
    assert all(set(r) == DEVICE_FIELDS for r in rows)
    return {r["device_id"]: r for r in rows}


def test_a_leader_sees_their_team_and_the_volunteers_of_its_hamlets(teams: Teams) -> None:
    seen = devices(teams.leader_a)
    assert set(seen) == {teams.leader_a.id, teams.volunteer_a.id, teams.hamlet_volunteer.id}
    row = seen[teams.volunteer_a.id]
    assert (row["role"], row["team"], row["revoked"], row["acked_seq"], row["quarantined"]) == \
        ("volunteer", teams.a, False, 0, 0)
    assert row["enrolled_at"] and row["last_push_at"] is None and row["last_pull_at"] is None
    assert seen[teams.hamlet_volunteer.id]["team"] is None


def test_a_leader_of_another_team_sees_nothing_of_yours(teams: Teams) -> None:
    ours = {teams.leader_a.id, teams.volunteer_a.id, teams.hamlet_volunteer.id}
    theirs = devices(teams.leader_b)
    assert set(theirs) == {teams.leader_b.id, teams.volunteer_b.id}
    assert not ours & set(theirs)
    answer = teams.leader_b.get("/api/v1/team/quarantined", device_id=teams.volunteer_a.id)
    assert answer.status_code == 403 and answer.json()["error"] == "forbidden"


def test_an_officer_sees_their_commune_only(server: Server, teams: Teams) -> None:
    officer = server.enroll("officer", commune="10525")
    seen = devices(officer)
    commune = {teams.leader_a.id, teams.leader_b.id, teams.volunteer_a.id, teams.volunteer_b.id,
               teams.hamlet_volunteer.id, officer.id}
    assert commune <= set(seen)
    assert teams.elsewhere.id not in seen
    assert devices(officer, commune="10525") == seen

    other = server.enroll("officer", commune="10813")
    theirs = devices(other)
    assert teams.elsewhere.id in theirs and not commune & set(theirs)
    answer = other.get("/api/v1/team/devices", commune="10525")
    assert answer.status_code == 403 and answer.json()["error"] == "forbidden"
    answer = other.get("/api/v1/team/quarantined", device_id=teams.volunteer_a.id)
    assert answer.status_code == 403 and answer.json()["error"] == "forbidden"


def test_an_admin_sees_everyone_or_one_commune(admin: Device, teams: Teams) -> None:
    everyone = devices(admin)
    assert {teams.leader_a.id, teams.volunteer_b.id, teams.elsewhere.id, admin.id} <= set(everyone)
    in_10813 = devices(admin, commune="10813")
    assert teams.elsewhere.id in in_10813
    assert not {teams.leader_a.id, teams.volunteer_b.id, teams.hamlet_volunteer.id} & set(in_10813)
    answer = admin.get("/api/v1/team/devices", commune="99999")
    assert answer.status_code == 400 and answer.json()["error"] == "unknown_commune"
    answer = admin.get("/api/v1/team/devices", commune="abc")
    assert answer.status_code == 400 and answer.json()["error"] == "bad_request"
    answer = admin.get("/api/v1/team/quarantined", device_id="no-such-device")
    assert answer.status_code == 404 and answer.json()["error"] == "unknown_device"


def test_volunteers_and_strangers_are_refused(server: Server, teams: Teams) -> None:
    for path, params in (("/api/v1/team/devices", {}),
                         ("/api/v1/team/quarantined", {"device_id": teams.volunteer_a.id})):
        answer = teams.volunteer_a.get(path, **params)
        assert answer.status_code == 403 and answer.json()["error"] == "forbidden"
        answer = httpx.get(server.url + path, params=params, timeout=10)
        assert answer.status_code == 401 and answer.json()["error"] == "unauthenticated"
    # a leader learns nothing of which device ids exist beyond their team: unknown = another team's
    unknown = teams.leader_a.get("/api/v1/team/quarantined", device_id="no-such-device")
    theirs = teams.leader_a.get("/api/v1/team/quarantined", device_id=teams.volunteer_b.id)
    assert unknown.status_code == theirs.status_code == 403
    assert unknown.json()["error"] == theirs.json()["error"] == "forbidden"
    answer = teams.leader_a.get("/api/v1/team/quarantined")
    assert answer.status_code == 400 and answer.json()["error"] == "bad_request"


def test_sync_bookkeeping_and_quarantined_events_without_personal_data(server: Server, teams: Teams) -> None:
    v = teams.volunteer_a
    household = uuid7()
    answer = v.push([
        v.event("household.created", household, household_data(teams.hamlet_a, "Số 7, ngõ Bí Mật")),
        v.event("household.created", uuid7(), household_data(teams.hamlet_b, "Số 9, phố Ngoài Vùng")),
        v.event("person.added", uuid7(), person_data(household, "Nguyễn Thị Riêng Tư", card="cccd_chip")),
        v.event("review.decided", uuid7(), {"decision": "approved", "comment": ""}),
    ])
    assert answer.status_code == 200
    assert [q["seq"] for q in answer.json()["quarantined"]] == [2, 4]
    assert v.get("/api/v1/sync/pull", after=0).status_code == 200

    row = devices(teams.leader_a)[v.id]
    assert (row["acked_seq"], row["quarantined"]) == (4, 2)
    assert row["last_push_at"] and row["last_pull_at"]
    assert devices(teams.leader_a)[teams.hamlet_volunteer.id]["quarantined"] == 0

    for who in (teams.leader_a, server.enroll("officer", commune="10525"), server.enroll("admin")):
        answer = who.get("/api/v1/team/quarantined", device_id=v.id)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["device_id"] == v.id
        assert [(q["seq"], q["kind"]) for q in body["quarantined"]] == \
            [(2, "household.created"), (4, "review.decided")]
        assert body["quarantined"][0]["reason"].startswith("forbidden")
        assert body["quarantined"][1]["reason"].startswith(("forbidden", "unknown_entity"))
        assert all(q["received_at"] for q in body["quarantined"])
        for private in ("Bí Mật", "Ngoài Vùng", "Riêng Tư"):
            assert private not in answer.text
    assert "Riêng Tư" not in teams.leader_a.get("/api/v1/team/devices").text


def test_a_revoked_member_is_listed_as_revoked(server: Server, teams: Teams) -> None:
    cli(server.db_url, "revoke", teams.volunteer_a.id)
    assert devices(teams.leader_a)[teams.volunteer_a.id]["revoked"] is True


def test_the_endpoints_are_in_the_openapi(server: Server) -> None:
    paths = httpx.get(server.url + "/openapi.json", timeout=10).json()["paths"]
    assert set(paths["/api/v1/team/devices"]["get"]["responses"]) >= {"200", "400", "401", "403"}
    assert set(paths["/api/v1/team/quarantined"]["get"]["responses"]) >= {"200", "403", "404"}
