"""Every route of the app × every kind of caller: the answer each gets.

The routes come from `create_app().routes`: an endpoint added without a row in
MATRIX fails `test_every_route_has_a_row`. Each row is a realistic request (in
Phường Hải Dương, the world's home commune, unless said otherwise) and, for each
caller, the class of answer:

- A: 2xx;
- S: 2xx, and the answer holds nothing outside the caller's scope (a volunteer
  or leader: their team's hamlet; an officer of another commune: nothing of
  this one), checked by `SCOPED` for that route;
- Q: 2xx, and the write is quarantined `forbidden` (a push outside the scope);
- a number: exactly that status.

One server per backend (the module's); a few hundred requests in all.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from campaign.ids import uuid7
from sync_server.services import enrolment

from ..support import Device, Server, household_data, served_routes
from .reporting import RURAL, WARD, World, build_world, engine_for, enroll, http

A, S, Q = "2xx", "2xx, scoped", "2xx, quarantined"
ROLES = ("none", "unknown", "revoked", "volunteer", "leader", "officer", "officer_other", "admin")


def public(answer: Any = A) -> dict[str, Any]:
    return {role: answer for role in ROLES}


def authed(volunteer: Any, leader: Any, officer: Any, officer_other: Any, admin: Any) -> dict[str, Any]:
    return {"none": 401, "unknown": 401, "revoked": 403, "volunteer": volunteer, "leader": leader,
            "officer": officer, "officer_other": officer_other, "admin": admin}


READERS = authed(403, A, A, 403, A)  # reports: leaders (their hamlets), officers (their commune), admins
MANAGERS = authed(403, 403, A, 403, A)  # settings, imports, audit: officers and admins
REVIEWERS_SCOPED = authed(403, S, S, S, A)  # team lists: each sees their own


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, Any] | None = None
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] | None = None


@dataclass
class Matrix:
    """The world of reporting.build_world, plus a caller per role."""
    world: World
    callers: dict[str, Device | None]
    import_id: str
    docs_url: str = ""  # a server of the same database with GOCUA_DOCS=1

    def ward_ids(self) -> set[str]:
        w = self.world
        return {w.households["h1"], w.households["h2"], w.households["h3"]} | \
            {w.people[p] for p in ("An", "Bình", "Cường", "Dung", "Bé", "Chuyển", "Giang", "Hà", "Khoa")}

    def outside_team_ids(self) -> set[str]:
        """What the team (hamlet A) must not see: hamlet B's and Thanh Hà's households and people."""
        w = self.world
        return {w.households["h3"], w.households["h4"], w.people["Hà"], w.people["Khoa"], w.people["Lan"]}


def _csv(m: Matrix) -> bytes:
    name = m.world.names[m.world.hamlet_a]
    return f"Thôn/Tổ,Địa chỉ,Họ và tên,Năm sinh,Thẻ,VNeID\n{name},Số 9,Người 1,1980,,\n".encode()


def _push(m: Matrix, role: str) -> Request:
    device = m.callers[role]
    event = (device.event("household.created", uuid7(), household_data(m.world.hamlet_b)) if device is not None
             else {"seq": 1})
    return Request("POST", "/api/v1/sync/push", json={"schema": 1, "events": [event]})


def _enroll(m: Matrix, role: str) -> Request:
    # Without a live token (none, unknown, revoked: a revoked phone re-enrols): a fresh code, 200.
    # With one: an unknown code, 400, so that no caller of the matrix is replaced by re-enrolment.
    if role in ("none", "unknown", "revoked"):
        with engine_for(m.world.server).begin() as conn:
            code, _ = enrolment.create_enrolment(conn, "volunteer", hamlets=[m.world.hamlet_a])
        return Request("POST", "/api/v1/enroll", json={"code": code})
    return Request("POST", "/api/v1/enroll", json={"code": "AAAA-BBBB-CCCC"})


CAMPAIGN = {"name": "Chiến dịch thử", "target_kind": "percent", "target_value": 80, "start": "2026-01-01",
            "deadline": "2026-03-31", "ends": "2026-04-30", "retention_days": 90}

Build = Callable[[Matrix, str], Request]
MATRIX: dict[tuple[str, str], tuple[Build, dict[str, Any]]] = {
    ("GET", "/healthz"): (lambda m, r: Request("GET", "/healthz"), public()),
    ("GET", "/openapi.json"): (lambda m, r: Request("GET", "/openapi.json"), public()),
    # the three pages below exist only with GOCUA_DOCS=1: asked of a second server that has them on
    ("GET", "/docs"): (lambda m, r: Request("GET", "/docs"), public()),
    ("GET", "/docs/oauth2-redirect"): (lambda m, r: Request("GET", "/docs/oauth2-redirect"), public()),
    ("GET", "/redoc"): (lambda m, r: Request("GET", "/redoc"), public()),
    ("POST", "/api/v1/enroll"): (_enroll, {**public(400), "none": A, "unknown": A, "revoked": A}),
    # a household in hamlet B: the officer's commune, outside the team (hamlet A), outside Thanh Hà
    ("POST", "/api/v1/sync/push"): (_push, authed(Q, Q, A, Q, A)),
    ("GET", "/api/v1/sync/pull"): (lambda m, r: Request("GET", "/api/v1/sync/pull", {"after": 0, "limit": 2000}),
                                   authed(S, S, S, S, A)),
    ("GET", "/api/v1/sync/receipt"): (lambda m, r: Request("GET", "/api/v1/sync/receipt"), authed(A, A, A, A, A)),
    ("GET", "/api/v1/totals"): (lambda m, r: Request("GET", "/api/v1/totals", {"commune": WARD, "by": "hamlet"}),
                                authed(S, S, A, 403, A)),
    ("GET", "/api/v1/communes"): (lambda m, r: Request("GET", "/api/v1/communes"), authed(403, S, S, S, A)),
    ("GET", "/api/v1/conflicts"): (lambda m, r: Request("GET", "/api/v1/conflicts", {"commune": WARD}),
                                   authed(403, A, A, 403, A)),
    ("GET", "/api/v1/team/devices"): (lambda m, r: Request("GET", "/api/v1/team/devices"), REVIEWERS_SCOPED),
    ("GET", "/api/v1/team/quarantined"): (
        lambda m, r: Request("GET", "/api/v1/team/quarantined", {"device_id": m.world.volunteer.id}),
        authed(403, A, A, 403, A)),
    ("GET", "/api/v1/campaigns/{commune}"): (lambda m, r: Request("GET", f"/api/v1/campaigns/{WARD}"), READERS),
    ("PUT", "/api/v1/campaigns/{commune}"): (lambda m, r: Request("PUT", f"/api/v1/campaigns/{WARD}", json=CAMPAIGN),
                                             MANAGERS),
    ("GET", "/api/v1/progress"): (lambda m, r: Request("GET", "/api/v1/progress", {"commune": WARD}), READERS),
    ("GET", "/api/v1/followup"): (
        lambda m, r: Request("GET", "/api/v1/followup", {"commune": WARD, "list": "card_capture"}),
        authed(403, S, A, 403, A)),
    ("GET", "/api/v1/followup/counts"): (
        lambda m, r: Request("GET", "/api/v1/followup/counts", {"commune": WARD}), authed(403, S, A, 403, A)),
    ("GET", "/api/v1/followup/duplicates"): (
        lambda m, r: Request("GET", "/api/v1/followup/duplicates", {"commune": WARD}), authed(403, S, A, 403, A)),
    ("GET", "/api/v1/exports/totals.xlsx"): (
        lambda m, r: Request("GET", "/api/v1/exports/totals.xlsx", {"commune": WARD}), READERS),
    ("GET", "/api/v1/exports/totals.csv"): (
        lambda m, r: Request("GET", "/api/v1/exports/totals.csv", {"commune": WARD}), READERS),
    ("POST", "/api/v1/imports"): (
        lambda m, r: Request("POST", "/api/v1/imports", {"commune": WARD, "dry_run": "true"}, content=_csv(m),
                             headers={"Content-Type": "text/csv"}), MANAGERS),
    ("GET", "/api/v1/imports/template.xlsx"): (
        lambda m, r: Request("GET", "/api/v1/imports/template.xlsx", {"commune": WARD}), MANAGERS),
    ("GET", "/api/v1/imports/{import_id}"): (
        lambda m, r: Request("GET", f"/api/v1/imports/{m.import_id}"), MANAGERS),
    ("GET", "/api/v1/audit"): (lambda m, r: Request("GET", "/api/v1/audit", {"commune": WARD}), MANAGERS),
    ("POST", "/api/v1/token/rotate"): (lambda m, r: Request("POST", "/api/v1/token/rotate"), authed(A, A, A, A, A)),
}


def _ids_in(events: list[dict[str, Any]]) -> set[str]:
    out = set()
    for e in events:
        out.add(e["entity"])
        out.update(v for k, v in e["data"].items() if k in ("household_id", "hamlet_id") and isinstance(v, str))
    return out


def _scoped_pull(m: Matrix, role: str, body: Any) -> None:
    seen = _ids_in(body["events"])
    if role == "officer_other":
        assert not seen & m.ward_ids() and m.world.households["h4"] in seen
    elif role == "officer":
        assert m.world.households["h4"] not in seen and m.world.households["h3"] in seen
    else:  # the team's volunteer and leader: hamlet A only
        assert not seen & m.outside_team_ids() and m.world.households["h1"] in seen


def _scoped_totals(m: Matrix, role: str, body: Any) -> None:
    assert {row["key"] for row in body["rows"]} == {m.world.hamlet_a}


def _scoped_devices(m: Matrix, role: str, body: Any) -> None:
    seen = {d["device_id"] for d in body["devices"]}
    ward = {m.world.officer.id, m.world.leader.id, m.world.volunteer.id}
    if role == "officer_other":
        assert not seen & ward and m.world.other_officer.id in seen
    elif role == "leader":
        assert m.world.officer.id not in seen and m.world.volunteer.id in seen
    else:
        assert ward <= seen and m.world.other_officer.id not in seen


def _scoped_followup(m: Matrix, role: str, body: Any) -> None:
    assert body["rows"] and all(row["hamlet_id"] == m.world.hamlet_a for row in body["rows"]), body["rows"][:2]


def _scoped_communes(m: Matrix, role: str, body: Any) -> None:
    codes = [c["code"] for c in body["communes"]]
    assert codes == ([RURAL] if role == "officer_other" else [WARD]), codes
    if role == "leader":  # counted over the team's hamlet only
        team = _send(m, "leader", Request("GET", "/api/v1/totals", {"commune": WARD}))
        assert body["communes"][0]["total"]["households"] == team.json()["total"]["households"]


def _scoped_counts(m: Matrix, role: str, body: Any) -> None:
    """A leader's counts are the team hamlet's lists, no more."""
    for name, n in body["counts"].items():
        page = _send(m, role, Request("GET", "/api/v1/followup", {"commune": WARD, "list": name, "limit": 1000}))
        assert n == len(page.json()["rows"]), name


def _scoped_duplicates(m: Matrix, role: str, body: Any) -> None:
    """A leader's pairs are of the team's hamlet only."""
    assert all(p["hamlet_id"] == m.world.hamlet_a for pair in body["pairs"] for p in pair["people"]), body


SCOPED: dict[tuple[str, str], Callable[[Matrix, str, Any], None]] = {
    ("GET", "/api/v1/sync/pull"): _scoped_pull,
    ("GET", "/api/v1/totals"): _scoped_totals,
    ("GET", "/api/v1/team/devices"): _scoped_devices,
    ("GET", "/api/v1/followup"): _scoped_followup,
    ("GET", "/api/v1/communes"): _scoped_communes,
    ("GET", "/api/v1/followup/counts"): _scoped_counts,
    ("GET", "/api/v1/followup/duplicates"): _scoped_duplicates,
}


ROUTES = sorted(served_routes(docs=True))  # every route the app can serve
DOCS_ROUTES = set(ROUTES) - served_routes(docs=False)  # served only with GOCUA_DOCS=1


def test_the_docs_pages_are_the_ones_settings_switch():
    assert {("GET", "/docs"), ("GET", "/docs/oauth2-redirect"), ("GET", "/redoc")} == DOCS_ROUTES


def test_every_route_has_a_row():
    missing = [r for r in ROUTES if r not in MATRIX]
    assert not missing, f"routes without an expectation in MATRIX: {missing}"
    for route, (_build, expect) in MATRIX.items():
        assert set(expect) == set(ROLES), route
        if any(e == S for e in expect.values()):
            assert route in SCOPED, route


@pytest.fixture(scope="module")
def docs_server(server) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    """The module's database served a second time, with the API's documentation pages on."""
    docs = Server(server.db_url, env={"GOCUA_DOCS": "1"}).start()
    yield docs
    docs.close()


@pytest.fixture(scope="module")
def matrix(server, docs_server) -> Matrix:  # type: ignore[no-untyped-def]
    world = build_world(server, "rm")
    revoked = enroll(server, "volunteer", hamlets=(world.hamlet_a,))
    with engine_for(server).begin() as conn:
        enrolment.revoke(conn, revoked.id)
    unknown = Device(server, str(uuid7()), "not-a-token-this-server-gave", "volunteer")
    callers: dict[str, Device | None] = {
        "none": None, "unknown": unknown, "revoked": revoked, "volunteer": world.volunteer, "leader": world.leader,
        "officer": world.officer, "officer_other": world.other_officer, "admin": world.admin}
    m = Matrix(world, callers, import_id="", docs_url=docs_server.url)
    answer = _send(m, "admin", _build_for(m, ("PUT", "/api/v1/campaigns/{commune}"), "admin"))
    assert answer.status_code == 200, answer.text
    answer = _send(m, "officer", _build_for(m, ("POST", "/api/v1/imports"), "officer"))
    assert answer.status_code == 200, answer.text
    m.import_id = answer.json()["import_id"]
    return m


def _build_for(m: Matrix, route: tuple[str, str], role: str) -> Request:
    return MATRIX[route][0](m, role)


def _send(m: Matrix, role: str, req: Request, *, url: str | None = None) -> httpx.Response:
    device = m.callers[role]
    headers = dict(req.headers or {})
    if device is not None:
        headers["Authorization"] = f"Bearer {device.token}"
    return http.request(req.method, (url or m.world.server.url) + req.path, params=req.params, json=req.json,
                        content=req.content, headers=headers)


CASES = [(route, role) for route in ROUTES if route in MATRIX for role in ROLES]


@pytest.mark.parametrize("route, role", CASES, ids=[f"{m} {p} as {r}" for (m, p), r in CASES])
def test_role_gets_the_expected_answer(matrix: Matrix, route: tuple[str, str], role: str) -> None:
    build, expect = MATRIX[route]
    expected = expect[role]
    answer = _send(matrix, role, build(matrix, role), url=matrix.docs_url if route in DOCS_ROUTES else None)
    where = f"{route[0]} {route[1]} as {role}: {answer.status_code} {answer.text[:300]}"
    if isinstance(expected, int):
        assert answer.status_code == expected, where
        assert answer.json()["error"], where
        if expected == 403 and role == "revoked":
            assert answer.json()["error"] == "revoked", where
        if expected == 401:
            assert answer.headers.get("www-authenticate") == "Bearer", where
        return
    assert 200 <= answer.status_code < 300, where
    if route == ("POST", "/api/v1/token/rotate"):  # the caller goes on with its new token
        device = matrix.callers[role]
        assert device is not None
        device.token = answer.json()["token"]
    if expected == Q:
        quarantined = answer.json()["quarantined"]
        assert quarantined and quarantined[0]["reason"].startswith("forbidden"), where
    elif route == ("POST", "/api/v1/sync/push"):
        assert answer.json()["quarantined"] == [], where
    if expected == S:
        SCOPED[route](matrix, role, answer.json())


@pytest.mark.parametrize("route", sorted(DOCS_ROUTES), ids=[p for _, p in sorted(DOCS_ROUTES)])
def test_the_docs_pages_are_off_by_default(matrix: Matrix, route: tuple[str, str]) -> None:
    """Without GOCUA_DOCS=1 (the module's server), nobody gets the documentation pages."""
    for role in ROLES:
        answer = _send(matrix, role, MATRIX[route][0](matrix, role))
        assert answer.status_code == 404, f"{route} as {role}: {answer.status_code}"


def test_the_world_has_both_communes(matrix: Matrix) -> None:
    """The matrix means something only if the other commune has data to leak."""
    answer = _send(matrix, "officer_other", Request("GET", "/api/v1/totals", {"commune": RURAL}))
    assert answer.status_code == 200 and answer.json()["rows"], answer.text
