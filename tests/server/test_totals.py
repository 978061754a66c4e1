"""Totals are maintained in the push transaction and equal a recount from the log."""
from __future__ import annotations

from datetime import datetime

from campaign.ids import uuid7

from ..support import VN, cli, hamlet_data, household_data, person_data


def _row(device, commune, hamlet):  # type: ignore[no-untyped-def]
    rows = device.get("/api/v1/totals", commune=commune).json()["rows"]
    return next(r for r in rows if r["key"] == hamlet)


def test_totals_follow_each_change_and_agree_with_recount(server, admin):
    hamlet = uuid7()
    admin.push([admin.event("hamlet.created", hamlet, hamlet_data("Tổ tổng hợp"))])
    v = server.enroll("volunteer", hamlets=(hamlet,))
    h1, h2, p1, p2, p3 = (uuid7() for _ in range(5))
    v.push([v.event("household.created", h1, household_data(hamlet)),
            v.event("household.created", h2, household_data(hamlet, "Số 2")),
            v.event("person.added", p1, person_data(h1, "Trần Thị Bình", 1990, "cccd_chip", "l1_approved")),
            v.event("person.added", p2, person_data(h1, "Trần Văn Cường", 2015, "none", "not_eligible")),
            v.event("person.added", p3, person_data(h2, "Lê Văn Dũng", 1950, "cmnd_only", "no_app",
                                                    presence="deceased"))])
    row = _row(v, "10525", hamlet)
    assert (row["households"], row["visited"], row["people"]) == (2, 0, 2)  # the deceased is not counted
    assert row["card"]["cccd_chip"] == 1 and row["card"]["none"] == 1 and row["card"]["cmnd_only"] == 0
    def visits_by_day() -> dict[str, int]:  # the whole commune's: other tests of the module visit it too
        return {d["key"]: d["visits"] for d in v.get("/api/v1/totals", commune="10525", by="day").json()["rows"]}

    days_before = visits_by_day()
    visit = uuid7()
    v.push([v.event("visit.recorded", visit, {"household_id": h1, "outcome": "met",
                                              "actions": ["activation_help"], "people_helped": [p1], "note": ""}),
            v.event("person.updated", p1, {"vneid": "l1_active"}, base=None),
            v.event("visit.recorded", uuid7(), {"household_id": h2, "outcome": "not_home", "actions": [],
                                                "people_helped": [], "note": "Hẹn quay lại"})])
    row = _row(v, "10525", hamlet)
    assert (row["visited"], row["revisit"], row["visits"], row["helped"]) == (2, 1, 2, 1)
    assert row["vneid"]["l1_active"] == 1 and row["vneid"]["l1_approved"] == 0
    assert row["actions"]["activation_help"] == 1
    assert row["eid_active"] == 1 and row["chip_card"] == 1
    today = datetime.now(VN).date().isoformat()  # the events' `at`: now, in Vietnam
    assert visits_by_day() == {**days_before, today: days_before.get(today, 0) + 2}
    assert cli(server.db_url, "recount").returncode == 0


def test_recount_finds_a_tampered_total(server, admin, hamlet):
    from sqlalchemy import update

    from sync_server.store import schema as t
    from sync_server.store.db import make_engine
    v = server.enroll("volunteer", hamlets=(hamlet,))
    v.push([v.event("household.created", uuid7(), household_data(hamlet))])
    engine = make_engine(server.db_url)
    with engine.begin() as conn:
        conn.execute(update(t.totals).where(t.totals.c.hamlet_id == hamlet, t.totals.c.metric == "households")
                     .values(n=t.totals.c.n + 5))
    try:
        result = cli(server.db_url, "recount", check=False)
        assert result.returncode == 1
        assert "households" in result.stdout and "stored" in result.stdout
        assert cli(server.db_url, "recount", "--fix").returncode == 0
        assert cli(server.db_url, "recount").returncode == 0
    finally:
        engine.dispose()


def test_totals_check_the_commune(server, admin):
    officer = server.enroll("officer", commune="10813")
    assert officer.get("/api/v1/totals", commune="10525").status_code == 403
    assert officer.get("/api/v1/totals", commune="10813").status_code == 200
    assert officer.get("/api/v1/totals", commune="99999").json()["error"] == "unknown_commune"
    assert officer.get("/api/v1/totals", commune="10813", by="week").status_code == 400


def test_communes_overview_sums_what_totals_report(server, admin):
    """GET /api/v1/communes (the dashboard's commune picker) agrees with GET /api/v1/totals
    for every commune it lists, and lists a commune as soon as it has a hamlet."""
    hamlet = uuid7()
    admin.push([admin.event("hamlet.created", hamlet, hamlet_data("Thôn tổng quan", commune="10813"))])
    listed = {c["code"]: c for c in admin.get("/api/v1/communes").json()["communes"]}
    assert "10813" in listed and listed["10813"]["name"].endswith("Thanh Hà")
    for code, entry in listed.items():
        total = admin.get("/api/v1/totals", commune=code).json()["total"]
        assert (entry["households"], entry["visited"], entry["people"]) == \
            (total["households"], total["visited"], total["people"]), code
        assert entry["total"]["eid_active"] == total["eid_active"] and entry["total"]["card"] == total["card"]
    officer = server.enroll("officer", commune="10813")
    mine = officer.get("/api/v1/communes").json()["communes"]
    assert [c["code"] for c in mine] == ["10813"] and mine[0]["total"]["households"] == listed["10813"]["households"]
