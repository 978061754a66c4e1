"""L4 (issue #12), the server's side: POST /api/v1/device/sign-out kills the caller's own token,
is audited and idempotent; an enrolment that presents the previous token revokes it."""
from __future__ import annotations

import json

import pytest

from sync_server.services import enrolment

from .reporting import WARD, audit_rows, build_world, engine_for, http, ok

SIGN_OUT = "/api/v1/device/sign-out"


@pytest.fixture(scope="module")
def world(server):  # type: ignore[no-untyped-def]
    return build_world(server, "so")


def _sign_out(device) -> dict:  # type: ignore[no-untyped-def]
    return ok(http.post(device.server.url + SIGN_OUT, headers=device.headers))


def test_the_token_is_dead_after_sign_out(world):
    v = world.server.enroll("volunteer", team="team-so")
    assert v.get("/api/v1/sync/receipt").status_code == 200
    before = len(audit_rows(world.server))
    assert _sign_out(v) == {"signed_out": True}
    for path in ("/api/v1/sync/receipt", "/api/v1/sync/pull", "/api/v1/totals?commune=" + WARD):
        answer = http.get(world.server.url + path, headers=v.headers)
        assert answer.status_code == 403 and answer.json()["error"] == "revoked", (path, answer.text)
    # idempotent: the same request again changes nothing and says so
    assert _sign_out(v) == {"signed_out": False}
    rows = audit_rows(world.server)[before:]
    assert [(r.action, r.device_id, r.role, r.commune) for r in rows] == [("device.sign_out", v.id, "volunteer", WARD)]
    assert json.loads(rows[0].detail) == {} and world.hamlet_a in rows[0].scope
    # the leader sees the device as revoked in the team's list
    members = {d["device_id"]: d for d in ok(world.leader.get("/api/v1/team/devices"))["devices"]}
    assert members[v.id]["revoked"] is True
    # the officer reads the row (Phường Hải Dương's)
    entries = ok(world.officer.get("/api/v1/audit", commune=WARD, action="device"))["entries"]
    assert [e["device_id"] for e in entries] == [v.id]


def test_sign_out_needs_a_token_and_touches_no_other_device(world):
    answer = http.post(world.server.url + SIGN_OUT)
    assert answer.status_code == 401 and answer.json()["error"] == "unauthenticated"
    answer = http.post(world.server.url + SIGN_OUT, headers={"Authorization": "Bearer never-issued"})
    assert answer.status_code == 401 and answer.json()["error"] == "unknown_token"
    a, b = (world.server.enroll("volunteer", team="team-so") for _ in range(2))
    _sign_out(a)
    assert b.get("/api/v1/sync/receipt").status_code == 200


def test_a_rotated_token_signs_out_nothing(world):
    v = world.server.enroll("volunteer", team="team-so")
    old = v.token
    v.token = ok(http.post(world.server.url + "/api/v1/token/rotate", headers=v.headers))["token"]
    answer = http.post(world.server.url + SIGN_OUT, headers={"Authorization": f"Bearer {old}"})
    assert answer.status_code == 401 and answer.json()["error"] == "unknown_token"
    assert v.get("/api/v1/sync/receipt").status_code == 200


def test_enrolling_with_the_previous_token_revokes_it(world):
    old = world.server.enroll("volunteer", team="team-so")
    new = world.server.enroll("volunteer", team="team-so")  # a plain second enrolment kills nothing
    assert old.get("/api/v1/sync/receipt").status_code == 200
    with engine_for(world.server).begin() as conn:
        code, _ = enrolment.create_enrolment(conn, "volunteer", "team-so")
    answer = http.post(world.server.url + "/api/v1/enroll", json={"code": code}, headers=old.headers)
    assert answer.status_code == 200
    refused = old.get("/api/v1/sync/receipt")
    assert refused.status_code == 403 and refused.json()["error"] == "revoked"
    assert new.get("/api/v1/sync/receipt").status_code == 200
