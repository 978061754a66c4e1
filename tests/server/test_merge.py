"""person.merged on the server, both backends: leaders and officers see likely duplicates
across devices (audited) and merge them; the duplicate leaves the totals and the lists at
once (the people count drops by one) and the totals equal a recount before and after; later
events about it are quarantined `merged`; a volunteer may not merge."""
from __future__ import annotations

from campaign.ids import uuid7

from ..support import cli, hamlet_data, household_data, person_data
from .reporting import WARD, make_team, ok


def _people(client, hamlet: str) -> int:  # type: ignore[no-untyped-def]
    rows = ok(client.get("/api/v1/totals", commune=WARD))["rows"]
    return next(r for r in rows if r["key"] == hamlet)["people"]


def _reason(answer) -> str:  # type: ignore[no-untyped-def]
    quarantined = ok(answer)["quarantined"]
    return quarantined[0]["reason"] if quarantined else ""


def test_two_devices_record_one_person_and_the_leader_merges_them(server) -> None:  # type: ignore[no-untyped-def]
    admin = server.enroll("admin")
    hamlet, home_a, home_b = uuid7(), uuid7(), uuid7()
    assert ok(admin.push([admin.event("hamlet.created", hamlet, hamlet_data("Tổ trùng"))]))["quarantined"] == []
    officer = server.enroll("officer", commune=WARD)
    team = f"t-{uuid7()[-8:]}"
    make_team(server, team, WARD, [hamlet])
    leader = server.enroll("leader", team=team)
    one, two = (server.enroll("volunteer", hamlets=(hamlet,)) for _ in range(2))
    first, second = uuid7(), uuid7()
    assert ok(one.push([one.event("household.created", home_a, household_data(hamlet, "Số 1, phố Trùng")),
                        one.event("person.added", first, person_data(home_a, "Nguyễn Thị Lụa", 1961, "none",
                                                                     "no_app"))]))["quarantined"] == []
    assert ok(two.push([two.event("household.created", home_b, household_data(hamlet, "Số 1A, phố Trùng")),
                        two.event("person.added", second, person_data(home_b, "nguyen thi lua", 1962, "none",
                                                                      "no_app"))]))["quarantined"] == []
    assert cli(server.db_url, "recount").returncode == 0
    before = _people(officer, hamlet)
    pairs = ok(leader.get("/api/v1/followup/duplicates", commune=WARD))["pairs"]
    mine = [p for p in pairs if {x["person_id"] for x in p["people"]} == {first, second}]
    assert len(mine) == 1 and [x["address"] for x in mine[0]["people"]] == ["Số 1, phố Trùng",
                                                                            "Số 1A, phố Trùng"]
    assert _reason(one.push([one.event("person.merged", second, {"into": first})])).startswith("forbidden")
    assert _reason(leader.push([leader.event("person.merged", second, {"into": first})])) == ""
    assert _people(officer, hamlet) == before - 1
    assert cli(server.db_url, "recount").returncode == 0  # the totals kept equal a recount
    assert not [p for p in ok(officer.get("/api/v1/followup/duplicates", commune=WARD))["pairs"]
                if second in {x["person_id"] for x in p["people"]}]
    card = ok(officer.get("/api/v1/followup", commune=WARD, list="card_capture", limit=1000))["rows"]
    assert first in {r["person_id"] for r in card} and second not in {r["person_id"] for r in card}
    # the second phone, still offline, sends an update about the duplicate: quarantined `merged`
    assert _reason(two.push([two.event("person.updated", second, {"card": "cccd_chip"})])).startswith("merged")
    assert _people(officer, hamlet) == before - 1
    assert cli(server.db_url, "recount").returncode == 0
    # every device of the hamlet hears of the merge
    assert "person.merged" in {e["kind"] for e in one.pull_all()}


def test_viewing_duplicates_is_audited(server) -> None:  # type: ignore[no-untyped-def]
    officer = server.enroll("officer", commune=WARD)
    ok(officer.get("/api/v1/followup/duplicates", commune=WARD))
    rows = ok(officer.get("/api/v1/audit", commune=WARD, limit=1000))["entries"]
    assert any(r["action"] == "duplicates.view" for r in rows)


def test_a_home_capture_booked_for_the_duplicate_counts_for_the_person_kept(server) -> None:  # type: ignore[no-untyped-def]
    admin = server.enroll("admin")
    officer = server.enroll("officer", commune=WARD)
    hamlet, home, keep, dup = uuid7(), uuid7(), uuid7(), uuid7()
    assert ok(admin.push([
        admin.event("hamlet.created", hamlet, hamlet_data("Tổ hẹn tại nhà")),
        admin.event("household.created", home, household_data(hamlet, "Số 9, phố Hẹn")),
        admin.event("person.added", keep, person_data(home, "Lò Văn Páo", 1940, "none", "no_app")),
        admin.event("person.added", dup, person_data(home, "lo van pao", 1941, "none", "no_app")),
        admin.event("visit.recorded", uuid7(), {"household_id": home, "outcome": "met",
                                                "actions": ["booked_home_capture"], "people_helped": [dup],
                                                "note": ""}),
    ]))["quarantined"] == []

    def home_capture() -> set[str]:
        rows = ok(officer.get("/api/v1/followup", commune=WARD, list="home_capture", limit=1000))["rows"]
        return {r["person_id"] for r in rows if r["hamlet_id"] == hamlet}
    assert home_capture() == {dup}
    assert _reason(admin.push([admin.event("person.merged", dup, {"into": keep})])) == ""
    assert home_capture() == {keep}
