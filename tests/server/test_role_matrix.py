"""Every route of the app × every kind of caller: the answer each gets.

The routes come from `create_app().routes`: an endpoint added without a row in
MATRIX fails `test_every_route_has_a_row`. Each row is a realistic request (in
Phường Hải Dương, the world's home commune, unless said otherwise), some routes
with several shapes (totals by hamlet, team and day; a follow-up list as JSON and
as CSV; each family of pushed event in `test_push_of_each_family`), and, for
each caller, the class of answer:

- A: 2xx;
- S: 2xx, and the answer holds nothing outside the caller's scope (a volunteer
  or leader: their team's hamlet; an officer of another commune: nothing of
  this one), checked by `SCOPED` for that row;
- Q: 2xx, and the write is quarantined `forbidden` (a push outside the scope);
- a number: exactly that status.

The callers: nobody, an unknown token, a revoked device; the team's volunteer
and leader (hamlet A); a volunteer and a leader of another team of the same
commune (hamlet B); a volunteer and a leader of a team of another commune (Xã
Thanh Hà); the commune's officer, another commune's officer, an admin.

One server per backend (the module's); several hundred requests in all.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from campaign.ids import uuid7
from campaign.roles import LEADER_KINDS, Capability, can
from sync_server.services import enrolment

from ..support import Device, Server, household_data, person_data, served_routes
from .reporting import RURAL, WARD, World, build_world, engine_for, http, make_team

A, S, Q = "2xx", "2xx, scoped", "2xx, quarantined"
ROLES = ("none", "unknown", "revoked", "volunteer", "volunteer_team2", "volunteer_rural", "leader", "leader_team2",
         "leader_rural", "officer", "officer_other", "admin")
# the hamlet each scoped caller sees (A: the team's; B: the commune's second team's; R: Thanh Hà's)
HAMLET_OF = {"volunteer": "a", "leader": "a", "volunteer_team2": "b", "leader_team2": "b",
             "volunteer_rural": "rural", "leader_rural": "rural"}
REFUSED_FROM = {"none": "127.0.0.31", "unknown": "127.0.0.32", "revoked": "127.0.0.33"}  # a bucket each


def public(answer: Any = A) -> dict[str, Any]:
    return {role: answer for role in ROLES}


def authed(volunteer: Any, leader: Any, officer: Any, officer_other: Any, admin: Any, **others: Any) -> dict[str, Any]:
    """The answers by role; the other team's and the other commune's callers answer as the
    team's, unless `others` says otherwise."""
    out = {"none": 401, "unknown": 401, "revoked": 403, "volunteer": volunteer, "leader": leader,
           "officer": officer, "officer_other": officer_other, "admin": admin,
           "volunteer_team2": volunteer, "leader_team2": leader, "volunteer_rural": volunteer, "leader_rural": leader}
    assert set(others) <= set(out), others
    return {**out, **others}


OUTSIDE = {"volunteer_rural": 403, "leader_rural": 403}  # Phường Hải Dương's reports, asked by Thanh Hà's team
READERS = authed(403, A, A, 403, A, **OUTSIDE)  # reports: leaders (their hamlets), officers (their commune), admins
READERS_SCOPED = authed(S, S, A, 403, A, **OUTSIDE)  # totals: volunteers too, of their hamlets
MANAGERS = authed(403, 403, A, 403, A)  # settings, imports, audit: officers and admins
REVIEWERS_SCOPED = authed(403, S, S, S, A)  # team lists: each sees their own
TEAM_SETTINGS = authed(403, A, A, 403, A, leader_team2=403, leader_rural=403)  # the team's: not another team's


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
    visit_b: str = ""  # a visit in hamlet B, for the leaders' reviews
    session: str = ""  # a capture session of the ward, with a booking in hamlet A and one in hamlet B

    def ward_ids(self) -> set[str]:
        w = self.world
        return {w.households["h1"], w.households["h2"], w.households["h3"]} | \
            {w.people[p] for p in ("An", "Bình", "Cường", "Dung", "Bé", "Chuyển", "Giang", "Hà", "Khoa")}

    def outside_team_ids(self) -> set[str]:
        """What the team (hamlet A) must not see: hamlet B's and Thanh Hà's households and people."""
        w = self.world
        return {w.households["h3"], w.households["h4"], w.people["Hà"], w.people["Khoa"], w.people["Lan"]}

    def hamlet(self, role: str) -> str:
        """The one hamlet a scoped caller (a volunteer or a leader) sees."""
        w = self.world
        return {"a": w.hamlet_a, "b": w.hamlet_b, "rural": w.hamlet_rural}[HAMLET_OF[role]]

    def ids_of(self, hamlet: str) -> set[str]:
        """The world's households and people of one hamlet."""
        w = self.world
        h1, h2, h3, h4 = (w.households[k] for k in ("h1", "h2", "h3", "h4"))
        people = {w.hamlet_a: ("An", "Bình", "Cường", "Dung", "Bé", "Chuyển", "Giang"), w.hamlet_b: ("Hà", "Khoa"),
                  w.hamlet_rural: ("Lan",)}[hamlet]
        households = {w.hamlet_a: {h1, h2}, w.hamlet_b: {h3}, w.hamlet_rural: {h4}}[hamlet]
        return households | {w.people[p] for p in people}

    def hamlets_seen(self, role: str) -> set[str]:
        """The hamlets whose data `role` may see (of the world's three)."""
        w = self.world
        if role in HAMLET_OF:
            return {self.hamlet(role)}
        return {"officer": {w.hamlet_a, w.hamlet_b}, "officer_other": {w.hamlet_rural}}.get(
            role, {w.hamlet_a, w.hamlet_b, w.hamlet_rural})


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
        return Request("POST", "/api/v1/enroll", json={"code": m.world.server.code("volunteer",
                                                                                 hamlets=(m.world.hamlet_a,))})
    return Request("POST", "/api/v1/enroll", json={"code": "AAAA-BBBB-CCCC"})


def _sign_out(m: Matrix, role: str) -> Request:
    fresh = {"volunteer": lambda: m.world.server.enroll("volunteer", hamlets=(m.world.hamlet_a,)),
             "volunteer_team2": lambda: m.world.server.enroll("volunteer", team=TEAM2),
             "volunteer_rural": lambda: m.world.server.enroll("volunteer", team=TEAM_RURAL),
             "leader": lambda: m.world.server.enroll("leader", team="team-rm"),
             "leader_team2": lambda: m.world.server.enroll("leader", team=TEAM2),
             "leader_rural": lambda: m.world.server.enroll("leader", team=TEAM_RURAL),
             "officer": lambda: m.world.server.enroll("officer", commune=WARD),
             "officer_other": lambda: m.world.server.enroll("officer", commune=RURAL),
             "admin": lambda: m.world.server.enroll("admin")}
    headers = {"Authorization": f"Bearer {fresh[role]().token}"} if role in fresh else None
    return Request("POST", "/api/v1/device/sign-out", headers=headers)


TEAM2, TEAM_RURAL = "team-rm-2", "team-rm-rural"

CAMPAIGN = {"name": "Chiến dịch thử", "target_kind": "percent", "target_value": 80, "start": "2026-01-01",
            "deadline": "2026-03-31", "ends": "2026-04-30", "retention_days": 90}

Build = Callable[[Matrix, str], Request]
Row = tuple[str, str, str]  # method, path, shape ("" for the route's usual request)
PUSH_EXPECT = authed(Q, Q, A, Q, A, volunteer_team2=A, leader_team2=A)  # hamlet B: the second team's


def _get(path: str, **params: Any) -> Build:
    return lambda m, r: Request("GET", path, params or None)


MATRIX: dict[Row, tuple[Build, dict[str, Any]]] = {
    ("GET", "/healthz", ""): (_get("/healthz"), public()),
    ("GET", "/openapi.json", ""): (_get("/openapi.json"), public()),
    # the three pages below exist only with GOCUA_DOCS=1: asked of a second server that has them on
    ("GET", "/docs", ""): (_get("/docs"), public()),
    ("GET", "/docs/oauth2-redirect", ""): (_get("/docs/oauth2-redirect"), public()),
    ("GET", "/redoc", ""): (_get("/redoc"), public()),
    ("POST", "/api/v1/enroll", ""): (_enroll, {**public(400), "none": A, "unknown": A, "revoked": A}),
    # a household in hamlet B: the officer's commune and the second team's, outside the team and Thanh Hà
    # (every family of event: test_push_of_each_family)
    ("POST", "/api/v1/sync/push", ""): (_push, PUSH_EXPECT),
    ("GET", "/api/v1/sync/pull", ""): (_get("/api/v1/sync/pull", after=0, limit=2000), authed(S, S, S, S, A)),
    ("GET", "/api/v1/sync/receipt", ""): (_get("/api/v1/sync/receipt"), authed(A, A, A, A, A)),
    ("GET", "/api/v1/totals", ""): (_get("/api/v1/totals", commune=WARD, by="hamlet"), READERS_SCOPED),
    ("GET", "/api/v1/totals", "by team"): (_get("/api/v1/totals", commune=WARD, by="team"), READERS_SCOPED),
    ("GET", "/api/v1/totals", "by day"): (_get("/api/v1/totals", commune=WARD, by="day"), READERS_SCOPED),
    ("GET", "/api/v1/totals", "Thanh Hà"): (_get("/api/v1/totals", commune=RURAL),
                                            authed(403, 403, 403, A, A, volunteer_rural=S, leader_rural=S)),
    ("GET", "/api/v1/communes", ""): (_get("/api/v1/communes"), authed(403, S, S, S, A)),
    ("GET", "/api/v1/conflicts", ""): (_get("/api/v1/conflicts", commune=WARD), authed(403, S, S, 403, A, **OUTSIDE)),
    ("GET", "/api/v1/team/devices", ""): (_get("/api/v1/team/devices"), REVIEWERS_SCOPED),
    ("GET", "/api/v1/team/quarantined", ""): (
        lambda m, r: Request("GET", "/api/v1/team/quarantined", {"device_id": m.world.volunteer.id}),
        authed(403, A, A, 403, A, leader_team2=403, leader_rural=403)),
    # a new member of the team of hamlet A: its leader, the ward's officer, an admin (services/members.py)
    ("POST", "/api/v1/team/enrolments", ""): (
        lambda m, r: Request("POST", "/api/v1/team/enrolments", json={"name": "Người Mới", "team": "team-rm"}),
        authed(403, A, A, 403, A, leader_team2=403, leader_rural=403)),
    # the team's settings: its leader, the commune's officer, an admin (the defaults, written back unchanged)
    ("GET", "/api/v1/team/settings", ""): (_get("/api/v1/team/settings", team="team-rm"), TEAM_SETTINGS),
    ("PUT", "/api/v1/team/settings", ""): (
        lambda m, r: Request("PUT", "/api/v1/team/settings", {"team": "team-rm"},
                             json={"sample_every": 10, "lapse_days": 5}), TEAM_SETTINGS),
    ("GET", "/api/v1/campaigns/{commune}", ""): (_get(f"/api/v1/campaigns/{WARD}"), READERS),
    ("PUT", "/api/v1/campaigns/{commune}", ""): (
        lambda m, r: Request("PUT", f"/api/v1/campaigns/{WARD}", json=CAMPAIGN), MANAGERS),
    ("GET", "/api/v1/progress", ""): (_get("/api/v1/progress", commune=WARD), READERS),
    ("GET", "/api/v1/followup", ""): (_get("/api/v1/followup", commune=WARD, list="card_capture"),
                                      authed(403, S, S, 403, A, **OUTSIDE)),
    ("GET", "/api/v1/followup", "csv"): (_get("/api/v1/followup", commune=WARD, list="revisit", format="csv"),
                                         authed(403, S, S, 403, A, **OUTSIDE)),
    ("GET", "/api/v1/followup/counts", ""): (_get("/api/v1/followup/counts", commune=WARD),
                                             authed(403, S, A, 403, A, **OUTSIDE)),
    ("GET", "/api/v1/followup/duplicates", ""): (_get("/api/v1/followup/duplicates", commune=WARD),
                                                 authed(403, S, S, 403, A, **OUTSIDE)),
    ("GET", "/api/v1/exports/totals.xlsx", ""): (_get("/api/v1/exports/totals.xlsx", commune=WARD), READERS),
    ("GET", "/api/v1/exports/totals.csv", ""): (_get("/api/v1/exports/totals.csv", commune=WARD),
                                                authed(403, S, S, 403, A, **OUTSIDE)),
    # hamlet A: the team's leader, the commune's officer; the second team's leader is refused
    ("GET", "/api/v1/exports/walksheet.pdf", ""): (
        lambda m, r: Request("GET", "/api/v1/exports/walksheet.pdf", {"hamlet": m.world.hamlet_a}),
        authed(403, A, A, 403, A, leader_team2=403, **OUTSIDE)),
    ("POST", "/api/v1/imports", ""): (
        lambda m, r: Request("POST", "/api/v1/imports", {"commune": WARD, "dry_run": "true"}, content=_csv(m),
                             headers={"Content-Type": "text/csv"}), MANAGERS),
    ("GET", "/api/v1/imports/template.xlsx", ""): (_get("/api/v1/imports/template.xlsx", commune=WARD), MANAGERS),
    ("GET", "/api/v1/imports/{import_id}", ""): (
        lambda m, r: Request("GET", f"/api/v1/imports/{m.import_id}"), MANAGERS),
    ("GET", "/api/v1/audit", ""): (_get("/api/v1/audit", commune=WARD), MANAGERS),
    ("POST", "/api/v1/token/rotate", ""): (lambda m, r: Request("POST", "/api/v1/token/rotate"), authed(A, A, A, A, A)),
    # capture sessions: the list is no personal data; a roster names people (leaders: their hamlets' rows)
    ("GET", "/api/v1/sessions", ""): (_get("/api/v1/sessions", commune=WARD), authed(A, A, A, 403, A, **OUTSIDE)),
    ("GET", "/api/v1/sessions/{session_id}/roster", ""): (
        lambda m, r: Request("GET", f"/api/v1/sessions/{m.session}/roster"), authed(403, S, A, 403, A, **OUTSIDE)),
    ("GET", "/api/v1/exports/roster.xlsx", ""): (
        lambda m, r: Request("GET", "/api/v1/exports/roster.xlsx", {"session": m.session}),
        authed(403, A, A, 403, A, **OUTSIDE)),
    # each active caller signs out a fresh device of its own kind (the matrix's callers live on);
    # a revoked device: nothing to do, the same 200 (idempotent)
    ("POST", "/api/v1/device/sign-out", ""): (_sign_out, {**public(A), "none": 401, "unknown": 401}),
    # the sealed relay: the server's public keys are for anyone; a bundle or a signing key is taken
    # from any enrolled phone (tests/server/test_relay.py sends real ones): a broken one is a 400
    ("GET", "/api/v1/server-key", ""): (_get("/api/v1/server-key"), public()),
    ("POST", "/api/v1/sync/relay", ""): (
        lambda m, r: Request("POST", "/api/v1/sync/relay", content=b"not a bundle",
                             headers={"Content-Type": "application/octet-stream"}), authed(400, 400, 400, 400, 400)),
    ("POST", "/api/v1/sync/sign-key", ""): (
        lambda m, r: Request("POST", "/api/v1/sync/sign-key", json={"sign_key": "x" * 43}),
        authed(400, 400, 400, 400, 400)),
    ("POST", "/api/v1/sync/box-key", ""): (
        lambda m, r: Request("POST", "/api/v1/sync/box-key", json={"box_key": "x" * 43}),
        authed(400, 400, 400, 400, 400)),
    # a down bundle for team A's volunteer: its leader, the commune's officer, an admin get past the
    # access check to the phone's missing box key (409; tests/server/test_relay_down.py makes real
    # ones); a volunteer, another team's leader, another commune's officer are refused
    ("GET", "/api/v1/sync/relay-down", ""): (
        lambda m, r: Request("GET", "/api/v1/sync/relay-down", {"device": m.callers["volunteer"].id}),
        authed(403, 409, 409, 403, 409, leader_team2=403, **OUTSIDE)),
}


def _ids_in(events: list[dict[str, Any]]) -> set[str]:
    out = set()
    for e in events:
        out.add(e["entity"])
        out.update(v for k, v in e["data"].items() if k in ("household_id", "hamlet_id") and isinstance(v, str))
    return out


def _scoped_pull(m: Matrix, role: str, body: Any) -> None:
    seen = _ids_in(body["events"])
    for hamlet in (m.world.hamlet_a, m.world.hamlet_b, m.world.hamlet_rural):
        if hamlet in m.hamlets_seen(role):
            assert seen & m.ids_of(hamlet), (role, hamlet)  # its own data is there …
        else:
            assert not seen & m.ids_of(hamlet), (role, hamlet)  # … and nobody else's


def _team_of(role: str) -> str:
    return {"a": "team-rm", "b": TEAM2, "rural": TEAM_RURAL}[HAMLET_OF[role]]


def _totals_by_hamlet(m: Matrix, role: str, commune: str = WARD) -> dict[str, Any]:
    answer = _send(m, role, Request("GET", "/api/v1/totals", {"commune": commune, "by": "hamlet"}))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _scoped_totals(m: Matrix, role: str, body: Any) -> None:
    assert {row["key"] for row in body["rows"]} == m.hamlets_seen(role), body["rows"]


def _scoped_totals_by_team(m: Matrix, role: str, body: Any) -> None:
    """Other teams' rows may be listed (their names are the commune's), but count nothing of theirs."""
    for row in body["rows"]:
        if row["key"] != _team_of(role):
            assert row["households"] == 0 and row["people"] == 0 and row["visits"] == 0, row
    assert body["total"] == _totals_by_hamlet(m, role)["total"]


def _scoped_totals_by_day(m: Matrix, role: str, body: Any) -> None:
    assert body["total"] == _totals_by_hamlet(m, role)["total"]


def _scoped_totals_rural(m: Matrix, role: str, body: Any) -> None:
    assert {row["key"] for row in body["rows"]} == {m.world.hamlet_rural}


def _scoped_devices(m: Matrix, role: str, body: Any) -> None:
    seen = {d["device_id"] for d in body["devices"]}
    ids = {r: d.id for r, d in m.callers.items() if d is not None and r not in REFUSED_FROM}
    members = {"leader": {"volunteer", "leader"}, "leader_team2": {"volunteer_team2", "leader_team2"},
               "leader_rural": {"volunteer_rural", "leader_rural"},
               "officer": {"volunteer", "leader", "volunteer_team2", "leader_team2", "officer"},
               "officer_other": {"volunteer_rural", "leader_rural", "officer_other"}}[role]
    assert {ids[r] for r in members} <= seen, role
    assert not {ids[r] for r in ids if r not in members and r != "admin"} & seen, role


def _scoped_followup(m: Matrix, role: str, body: Any) -> None:
    assert all(row["hamlet_id"] in m.hamlets_seen(role) for row in body["rows"]), body["rows"][:2]
    if role in ("leader", "officer"):  # hamlet A has people to card
        assert body["rows"]


def _csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def _names(m: Matrix, role: str) -> set[str]:
    return {m.world.names[h] for h in m.hamlets_seen(role)}


def _scoped_followup_csv(m: Matrix, role: str, content: bytes) -> None:
    rows = _csv_rows(content)[1:]
    assert {r[0] for r in rows} <= _names(m, role), rows[:2]
    if role in ("leader", "officer"):  # hamlet A has a household nobody was home at
        assert rows


def _scoped_export_csv(m: Matrix, role: str, content: bytes) -> None:
    names = {r[0] for r in _csv_rows(content)[1:-1]}  # between the header and the total
    ward = {m.world.names[h] for h in (m.world.hamlet_a, m.world.hamlet_b)}
    assert names & (ward | {m.world.names[m.world.hamlet_rural]}) == _names(m, role) & ward, names


def _scoped_communes(m: Matrix, role: str, body: Any) -> None:
    codes = [c["code"] for c in body["communes"]]
    rural = role in ("officer_other", "leader_rural")
    assert codes == ([RURAL] if rural else [WARD]), codes
    if role in HAMLET_OF:  # a leader's: counted over the team's hamlet only
        team = _totals_by_hamlet(m, role, RURAL if rural else WARD)
        assert body["communes"][0]["total"]["households"] == team["total"]["households"]


def _scoped_counts(m: Matrix, role: str, body: Any) -> None:
    """A leader's counts are the team hamlet's lists, no more."""
    for name, n in body["counts"].items():
        page = _send(m, role, Request("GET", "/api/v1/followup", {"commune": WARD, "list": name, "limit": 1000}))
        assert n == len(page.json()["rows"]), name
        assert all(row["hamlet_id"] in m.hamlets_seen(role) for row in page.json()["rows"]), name


def _scoped_duplicates(m: Matrix, role: str, body: Any) -> None:
    """Each caller's pairs are of its hamlets only."""
    seen = m.hamlets_seen(role)
    assert all(p["hamlet_id"] in seen for pair in body["pairs"] for p in pair["people"]), body


def _scoped_conflicts(m: Matrix, role: str, body: Any) -> None:
    assert all(c["hamlet_id"] in m.hamlets_seen(role) for c in body["conflicts"]), body["conflicts"]
    assert all(o["hamlet_id"] in m.hamlets_seen(role) for o in body["overbooked"]), body["overbooked"]
    if role in ("leader", "officer"):  # the conflict on Cường, hamlet A
        assert body["conflicts"]


def _scoped_roster(m: Matrix, role: str, body: Any) -> None:
    """A leader's roster holds their hamlet's booking only."""
    assert [r["hamlet_id"] for r in body["rows"]] == [m.hamlet(role)], body["rows"]


Check = Callable[[Matrix, str, Any], None]
SCOPED: dict[Row, Check] = {
    ("GET", "/api/v1/sessions/{session_id}/roster", ""): _scoped_roster,
    ("GET", "/api/v1/sync/pull", ""): _scoped_pull,
    ("GET", "/api/v1/totals", ""): _scoped_totals,
    ("GET", "/api/v1/totals", "by team"): _scoped_totals_by_team,
    ("GET", "/api/v1/totals", "by day"): _scoped_totals_by_day,
    ("GET", "/api/v1/totals", "Thanh Hà"): _scoped_totals_rural,
    ("GET", "/api/v1/team/devices", ""): _scoped_devices,
    ("GET", "/api/v1/followup", ""): _scoped_followup,
    ("GET", "/api/v1/communes", ""): _scoped_communes,
    ("GET", "/api/v1/followup/counts", ""): _scoped_counts,
    ("GET", "/api/v1/conflicts", ""): _scoped_conflicts,
    ("GET", "/api/v1/followup/duplicates", ""): _scoped_duplicates,
}
SCOPED_FILES: dict[Row, Check] = {  # answers that are files, not JSON
    ("GET", "/api/v1/followup", "csv"): _scoped_followup_csv,
    ("GET", "/api/v1/exports/totals.csv", ""): _scoped_export_csv,
}


ROUTES = sorted(served_routes(docs=True))  # every route the app can serve
DOCS_ROUTES = set(ROUTES) - served_routes(docs=False)  # served only with GOCUA_DOCS=1


def test_the_docs_pages_are_the_ones_settings_switch():
    assert {("GET", "/docs"), ("GET", "/docs/oauth2-redirect"), ("GET", "/redoc")} == DOCS_ROUTES


def test_every_route_has_a_row():
    missing = [r for r in ROUTES if (*r, "") not in MATRIX]
    assert not missing, f"routes without an expectation in MATRIX: {missing}"
    for row, (_build, expect) in MATRIX.items():
        assert row[:2] in ROUTES, row
        assert set(expect) == set(ROLES), row
        if any(e == S for e in expect.values()):
            assert row in SCOPED or row in SCOPED_FILES, row


@pytest.fixture(scope="module")
def docs_server(server) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    """The module's database served a second time, with the API's documentation pages on."""
    docs = Server(server.db_url, env={"GOCUA_DOCS": "1"}).start()
    yield docs
    docs.close()


@pytest.fixture(scope="module")
def matrix(server, docs_server) -> Matrix:  # type: ignore[no-untyped-def]
    world = build_world(server, "rm")
    revoked = server.enroll("volunteer", hamlets=(world.hamlet_a,))
    with engine_for(server).begin() as conn:
        enrolment.revoke(conn, revoked.id)
    make_team(server, TEAM2, WARD, [world.hamlet_b])
    make_team(server, TEAM_RURAL, RURAL, [world.hamlet_rural])
    unknown = Device(server, str(uuid7()), "not-a-token-this-server-gave", "volunteer")
    callers: dict[str, Device | None] = {
        "none": None, "unknown": unknown, "revoked": revoked, "volunteer": world.volunteer, "leader": world.leader,
        "volunteer_team2": server.enroll("volunteer", team=TEAM2), "leader_team2": server.enroll("leader", team=TEAM2),
        "volunteer_rural": server.enroll("volunteer", team=TEAM_RURAL),
        "leader_rural": server.enroll("leader", team=TEAM_RURAL),
        "officer": world.officer, "officer_other": world.other_officer, "admin": world.admin}
    m = Matrix(world, callers, import_id="", docs_url=docs_server.url)
    leader, vb = world.leader, world.volunteer_b
    # a conflict in hamlet A (the leader had not seen the volunteer's change of Cường's blockers),
    # and a visit in hamlet B for the leaders to review
    assert leader.push([leader.event("person.updated", world.people["Cường"], {"blockers": ["old_device"]})]).json()[
        "quarantined"] == []
    m.visit_b = uuid7()
    assert vb.push([vb.event("visit.recorded", m.visit_b, {"household_id": world.households["h3"], "outcome": "met",
                                                          "actions": [], "people_helped": [], "note": ""})]).json()[
        "quarantined"] == []
    m.session = uuid7()
    session = {"commune": WARD, "kind": "mobile_capture", "starts_at": "2026-12-05T08:00:00+07:00",
               "ends_at": "2026-12-05T11:00:00+07:00", "place": "Nhà văn hoá", "capacity": 1}
    officer, va = world.officer, world.volunteer
    assert officer.push([officer.event("session.created", m.session, session)]).json()["quarantined"] == []
    for device, person in ((va, world.people["An"]), (vb, world.people["Hà"])):
        booked = device.push([device.event("booking.made", uuid7(), {"session_id": m.session, "person_id": person})])
        assert booked.json()["quarantined"] == [], booked.text
    answer = _send(m, "admin", _build_for(m, ("PUT", "/api/v1/campaigns/{commune}", ""), "admin"))
    assert answer.status_code == 200, answer.text
    answer = _send(m, "officer", _build_for(m, ("POST", "/api/v1/imports", ""), "officer"))
    assert answer.status_code == 200, answer.text
    m.import_id = answer.json()["import_id"]
    return m


def _build_for(m: Matrix, row: Row, role: str) -> Request:
    return MATRIX[row][0](m, role)


_refused_clients: dict[str, httpx.Client] = {}


def _client(role: str) -> httpx.Client:
    """The shared client; the callers that are refused leave from addresses of their own, so that
    their refusals (limited per address) do not run into each other's limit."""
    if role not in REFUSED_FROM:
        return http
    if role not in _refused_clients:
        _refused_clients[role] = httpx.Client(transport=httpx.HTTPTransport(local_address=REFUSED_FROM[role]),
                                              timeout=60)
    return _refused_clients[role]


def _send(m: Matrix, role: str, req: Request, *, url: str | None = None) -> httpx.Response:
    device = m.callers[role]
    headers = dict(req.headers or {})
    if device is not None and "Authorization" not in headers:  # a row may bring its own caller
        headers["Authorization"] = f"Bearer {device.token}"
    return _client(role).request(req.method, (url or m.world.server.url) + req.path, params=req.params,
                                 json=req.json, content=req.content, headers=headers)


CASES = [(row, role) for row in MATRIX for role in ROLES]


@pytest.mark.parametrize("row, role", CASES, ids=[f"{m} {p}{' ' + s if s else ''} as {r}" for (m, p, s), r in CASES])
def test_role_gets_the_expected_answer(matrix: Matrix, row: Row, role: str) -> None:
    build, expect = MATRIX[row]
    expected = expect[role]
    route = row[:2]
    answer = _send(matrix, role, build(matrix, role), url=matrix.docs_url if route in DOCS_ROUTES else None)
    where = f"{row} as {role}: {answer.status_code} {answer.text[:300]}"
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
        if row in SCOPED_FILES:
            SCOPED_FILES[row](matrix, role, answer.content)
        else:
            SCOPED[row](matrix, role, answer.json())


@pytest.mark.parametrize("route", sorted(DOCS_ROUTES), ids=[p for _, p in sorted(DOCS_ROUTES)])
def test_the_docs_pages_are_off_by_default(matrix: Matrix, route: tuple[str, str]) -> None:
    """Without GOCUA_DOCS=1 (the module's server), nobody gets the documentation pages."""
    for role in ROLES:
        answer = _send(matrix, role, MATRIX[(*route, "")][0](matrix, role))
        assert answer.status_code == 404, f"{route} as {role}: {answer.status_code}"


def test_the_world_has_both_communes(matrix: Matrix) -> None:
    """The matrix means something only if the other commune has data to leak."""
    answer = _send(matrix, "officer_other", Request("GET", "/api/v1/totals", {"commune": RURAL}))
    assert answer.status_code == 200 and answer.json()["rows"], answer.text


# ---- push: every family of event, about hamlet B, from every caller that may push -------------

def _families(m: Matrix) -> dict[str, Callable[[Device], dict[str, Any]]]:
    w = m.world
    h3, ha = w.households["h3"], w.people["Hà"]
    return {
        "household.created": lambda d: d.event("household.created", uuid7(), household_data(w.hamlet_b, "Số 5")),
        "household.updated": lambda d: d.event("household.updated", h3, {"consent": "given"}),
        "person.added": lambda d: d.event("person.added", uuid7(), person_data(h3, "Người thử", 1990)),
        "person.updated": lambda d: d.event("person.updated", ha, {"presence": "home"}),
        "visit.recorded": lambda d: d.event("visit.recorded", uuid7(), {
            "household_id": h3, "outcome": "not_home", "actions": [], "people_helped": [], "note": ""}),
        "review.decided": lambda d: d.event("review.decided", m.visit_b, {"decision": "approved", "comment": ""}),
        "assignment.set": lambda d: d.event("assignment.set", h3, {"device_id": w.volunteer_b.id}),
        "conflict.resolved": lambda d: d.event("conflict.resolved", ha, {"field": "vneid", "value": "l2_approved"}),
    }


FAMILIES = ["household.created", "household.updated", "person.added", "person.updated", "visit.recorded",
            "review.decided", "assignment.set", "conflict.resolved"]
PUSHERS = [r for r in ROLES if r not in REFUSED_FROM]
PUSH_CASES = [(kind, role) for kind in FAMILIES for role in PUSHERS]


@pytest.mark.parametrize("kind, role", PUSH_CASES, ids=[f"{k} as {r}" for k, r in PUSH_CASES])
def test_push_of_each_family(matrix: Matrix, kind: str, role: str) -> None:
    """An event about hamlet B is quarantined `forbidden` unless the caller's scope holds hamlet B
    and its role may write that kind; otherwise it is not refused for its scope (it may still be
    refused on its merits: a conflict that is not open …)."""
    device = matrix.callers[role]
    assert device is not None
    event = _families(matrix)[kind](device)
    answer = _send(matrix, role, Request("POST", "/api/v1/sync/push", json={"schema": 1, "events": [event]}))
    assert answer.status_code == 200, answer.text
    reasons = [q["reason"] for q in answer.json()["quarantined"]]
    in_scope = matrix.world.hamlet_b in matrix.hamlets_seen(role)
    may = in_scope and (kind not in LEADER_KINDS or can(device.role, Capability.WRITE_LEADER_KINDS))
    if may:
        assert not any(r.startswith("forbidden") for r in reasons), (kind, role, reasons)
    else:
        assert len(reasons) == 1 and reasons[0].startswith("forbidden"), (kind, role, reasons)
