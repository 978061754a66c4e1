"""L5 and L6 (issue #12): viewing the conflicts list is audited; a volunteer reads no
other commune's report, on any report endpoint."""
from __future__ import annotations

import json

import pytest

from campaign.ids import uuid7
from sync_server.app import create_app
from sync_server.config import Settings

from .reporting import RURAL, WARD, audit_rows, build_world, http, ok


@pytest.fixture(scope="module")
def world(server):  # type: ignore[no-untyped-def]
    world = build_world(server, "rs")
    leader = world.leader  # the leader had not seen the volunteer's changes: a conflict on Cường's blockers
    assert ok(leader.push([leader.event("person.updated", world.people["Cường"], {"blockers": ["old_device"]})]))[
        "quarantined"] == []
    return world


def test_viewing_the_conflicts_list_is_audited(world):
    before = len(audit_rows(world.server))
    shown = ok(world.leader.get("/api/v1/conflicts", commune=WARD))["conflicts"]
    assert len(shown) >= 1
    ok(world.officer.get("/api/v1/conflicts", commune=WARD))
    assert world.other_officer.get("/api/v1/conflicts", commune=WARD).status_code == 403  # refused: no row
    rows = audit_rows(world.server)[before:]
    assert [(r.action, r.device_id, r.role, r.commune) for r in rows] == [
        ("conflicts.view", world.leader.id, "leader", WARD), ("conflicts.view", world.officer.id, "officer", WARD)]
    assert json.loads(rows[0].detail)["rows"] == len(shown)
    assert world.hamlet_a in rows[0].scope and world.hamlet_b not in rows[0].scope
    assert rows[0].at  # when
    # the officer reads it back, as every audit row
    actions = [e["action"] for e in ok(world.officer.get("/api/v1/audit", commune=WARD))["entries"]]
    assert "conflicts.view" in actions


def _report_requests() -> list[tuple[str, str, dict[str, str]]]:
    """Every GET route that takes a commune (a query parameter or the path's), with the
    request shapes that matter."""
    out: list[tuple[str, str, dict[str, str]]] = []
    schema = create_app(Settings(database_url="sqlite:///unused-by-these-tests.db")).openapi()
    for path, operations in sorted(schema["paths"].items()):
        get = operations.get("get")
        if not get or not any(p["name"] == "commune" for p in get.get("parameters", [])):
            continue
        extra: list[dict[str, str]] = [{}]
        if path == "/api/v1/totals":
            extra = [{"by": by} for by in ("hamlet", "team", "day")]
        elif path == "/api/v1/followup":
            extra = [{"list": "card_capture"}, {"list": "revisit", "format": "csv"}]
        out += [("GET", path, e) for e in extra]
    out.append(("POST", "/api/v1/imports", {"dry_run": "true"}))
    return out


REPORTS = _report_requests()


def test_the_report_endpoints_are_all_tried():
    paths = {p for _m, p, _e in REPORTS}
    assert {"/api/v1/totals", "/api/v1/conflicts", "/api/v1/followup", "/api/v1/followup/counts",
            "/api/v1/progress", "/api/v1/campaigns/{commune}", "/api/v1/exports/totals.xlsx",
            "/api/v1/exports/totals.csv", "/api/v1/audit", "/api/v1/team/devices",
            "/api/v1/imports/template.xlsx"} <= paths


@pytest.mark.parametrize("method,path,extra", REPORTS, ids=[f"{m} {p} {e}" for m, p, e in REPORTS])
def test_a_volunteer_gets_403_for_another_communes_report(world, method, path, extra):
    # the team's volunteer (Phường Hải Dương) asks about Xã Thanh Hà; volunteer_b (a hamlet in each)
    # about a third commune
    for device, commune in ((world.volunteer, RURAL), (world.volunteer_b, "10507")):
        url = world.server.url + path.replace("{commune}", commune)
        params = {**extra, **({} if "{commune}" in path else {"commune": commune})}
        if method == "POST":
            answer = http.post(url, params=params, content=b"Th\xc3\xb4n,\xc4\x90\xe1\xbb\x8ba ch\xe1\xbb\x89\n",
                               headers={**device.headers, "Content-Type": "text/csv"})
        else:
            answer = http.get(url, params=params, headers=device.headers)
        assert answer.status_code == 403, (device.id, path, extra, answer.status_code, answer.text[:200])
        assert answer.json()["error"] == "forbidden"


def test_a_volunteer_still_reads_the_totals_of_its_own_hamlets(world):
    for by in ("hamlet", "team", "day"):
        rows = ok(world.volunteer.get("/api/v1/totals", commune=WARD, by=by))["rows"]
        if by == "hamlet":
            assert [r["key"] for r in rows] == [world.hamlet_a]
    # a volunteer given hamlets in two communes (no team) reads both
    for commune, hamlet in ((WARD, world.hamlet_b), (RURAL, world.hamlet_rural)):
        rows = ok(world.volunteer_b.get("/api/v1/totals", commune=commune))["rows"]
        assert [r["key"] for r in rows] == [hamlet]
    lone = world.server.enroll("volunteer", hamlets=(uuid7(),))  # a hamlet that does not exist: no commune
    assert lone.get("/api/v1/totals", commune=WARD).status_code == 403


def test_an_officers_totals_without_a_commune_are_of_their_one_commune(world):
    mine = world.officer.get("/api/v1/totals")
    assert mine.status_code == 200, mine.text
    assert mine.json() == ok(world.officer.get("/api/v1/totals", commune=WARD))
    # an admin reads any commune, so must name it: a clear 400, not a guess
    answer = world.admin.get("/api/v1/totals")
    assert answer.status_code == 400 and answer.json()["error"] == "missing_commune"
