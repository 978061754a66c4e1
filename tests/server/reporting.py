"""What the report tests share: a small commune with known needs, built on the real server
(devices enrolled with `Server.enroll`, tests/support.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import create_engine, func, select
from sqlalchemy.pool import NullPool

from campaign.ids import uuid7
from campaign.totals import VIETNAM
from sync_server.services import team as teams
from sync_server.store import schema as t

from ..support import Device, Server, hamlet_data, household_data, person_data

WARD, RURAL = "10525", "10813"
# One client for every request: httpx.get() builds a new client (and TLS context) each call,
# about 45 ms, which over a few hundred requests is most of these tests' time.
http = httpx.Client(timeout=60)
YEAR = datetime.now(VIETNAM).year


def engine_for(server: Server):  # type: ignore[no-untyped-def]
    return create_engine(server.db_url, poolclass=NullPool)


def enroll(server: Server, role: str, **scope: Any) -> Device:
    """Kept for tests written before `Server.enroll` was the one way: use `server.enroll(role, ...)`."""
    return server.enroll(role, **scope)


def make_team(server: Server, team_id: str, commune: str, hamlets: list[str]) -> None:
    with engine_for(server).begin() as conn:
        teams.create_team(conn, team_id, f"Tổ {team_id}", commune, hamlets)


def count(server: Server, table: Any, *where: Any) -> int:
    with engine_for(server).connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def audit_rows(server: Server, action: str | None = None) -> list[Any]:
    query = select(t.audit).order_by(t.audit.c.id)
    if action:
        query = query.where(t.audit.c.action == action)
    with engine_for(server).connect() as conn:
        return list(conn.execute(query))


@dataclass
class CliRun:
    returncode: int
    stdout: str
    stderr: str


def run_cli(server: Server, *args: str) -> CliRun:
    """`gocua-server ARGS` in this process (the same main(), without a second's start-up)."""
    import contextlib
    import io
    import os

    from sync_server import cli
    out, err = io.StringIO(), io.StringIO()
    saved = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = server.db_url
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(list(args))
    finally:
        if saved is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = saved
    return CliRun(code, out.getvalue(), err.getvalue())


def put(device: Device, path: str, json: Any) -> httpx.Response:
    return http.put(device.server.url + path, json=json, headers=device.headers)


def ok(answer: httpx.Response) -> Any:
    assert answer.status_code == 200, answer.text
    return answer.json()


@dataclass
class World:
    """Two hamlets of Phường Hải Dương (A is the team's), one of Xã Thanh Hà, and their people.

    Known needs (this year = YEAR):
      hamlet A, household 1 (met): "An" card none (card_capture); "Bình" l1_approved (activation);
        "Cường" no_smartphone + no_app (level2); "Dung" cmnd_only + cannot_travel (card_capture,
        home_capture); "Bé" 10 years old, card none (nothing); "Chuyển" moved, card none (nothing)
      hamlet A, household 2: nobody home (revisit); "Giang" card none, booked a home capture at
        an earlier visit (card_capture, home_capture)
      hamlet B, household 3: "Hà" l2_approved (activation); "Khoa" cccd_chip, l1_active (nothing)
      Thanh Hà: "Lan" card none (card_capture): another commune's
    """
    server: Server
    admin: Device
    officer: Device
    other_officer: Device
    leader: Device
    volunteer: Device
    volunteer_b: Device
    hamlet_a: str
    hamlet_b: str
    hamlet_rural: str
    names: dict[str, str]  # hamlet id -> name
    people: dict[str, str] = field(default_factory=dict)  # label -> id
    households: dict[str, str] = field(default_factory=dict)


def build_world(server: Server, tag: str) -> World:
    admin = server.enroll("admin")
    a, b, rural = uuid7(), uuid7(), uuid7()
    names = {a: f"Tổ dân phố {tag} 2", b: f"Tổ dân phố {tag} 10", rural: f"Thôn {tag}"}
    answer = admin.push([admin.event("hamlet.created", a, hamlet_data(names[a])),
                         admin.event("hamlet.created", b, hamlet_data(names[b])),
                         admin.event("hamlet.created", rural, hamlet_data(names[rural], commune=RURAL))])
    assert ok(answer)["quarantined"] == []
    team = f"team-{tag}"
    make_team(server, team, WARD, [a])
    world = World(server, admin, server.enroll("officer", commune=WARD), server.enroll("officer", commune=RURAL),
                  server.enroll("leader", team=team), server.enroll("volunteer", team=team),
                  server.enroll("volunteer", hamlets=(b, rural)), a, b, rural, names)
    v, vb = world.volunteer, world.volunteer_b
    h1, h2, h3, h4 = (uuid7() for _ in range(4))
    world.households = {"h1": h1, "h2": h2, "h3": h3, "h4": h4}
    people = {label: uuid7() for label in ("An", "Bình", "Cường", "Dung", "Bé", "Chuyển", "Giang", "Hà", "Khoa", "Lan")}
    world.people = people
    events = [
        v.event("household.created", h1, household_data(a, "Số 1, phố Lê Lợi")),
        v.event("person.added", people["An"], person_data(h1, "An", 1980, "none", "no_app")),
        v.event("person.added", people["Bình"], person_data(h1, "Bình", 1985, "cccd_chip", "l1_approved")),
        v.event("person.added", people["Cường"], person_data(h1, "Cường", 1950, "cccd_chip", "no_app")),
        v.event("person.added", people["Dung"], person_data(h1, "Dung", 1940, "cmnd_only", "unknown")),
        v.event("person.added", people["Bé"], person_data(h1, "Bé", YEAR - 10, "none", "not_eligible")),
        v.event("person.added", people["Chuyển"], person_data(h1, "Chuyển", 1990, "none", "no_app", presence="moved")),
        v.event("person.updated", people["Cường"], {"blockers": ["no_smartphone"]}),
        v.event("person.updated", people["Dung"], {"blockers": ["cannot_travel"]}),
        v.event("visit.recorded", uuid7(), {"household_id": h1, "outcome": "met", "actions": ["explained"],
                                            "people_helped": [people["An"]], "note": ""}),
        v.event("household.created", h2, household_data(a, "Số 2, phố Lê Lợi")),
        v.event("person.added", people["Giang"], person_data(h2, "Giang", 1970, "none", "no_app")),
        v.event("visit.recorded", uuid7(), {"household_id": h2, "outcome": "met",
                                            "actions": ["booked_home_capture"], "people_helped": [people["Giang"]],
                                            "note": ""}, at="2025-09-01T09:00:00+07:00"),
        v.event("visit.recorded", uuid7(), {"household_id": h2, "outcome": "not_home", "actions": [],
                                            "people_helped": [], "note": "Hẹn quay lại"}),
    ]
    assert ok(v.push(events))["quarantined"] == []
    events = [
        vb.event("household.created", h3, household_data(b, "Số 3, phố Trần Phú")),
        vb.event("person.added", people["Hà"], person_data(h3, "Hà", 1992, "cccd_chip", "l2_approved")),
        vb.event("person.added", people["Khoa"], person_data(h3, "Khoa", 1993, "cccd_chip", "l1_active")),
        vb.event("household.created", h4, household_data(rural, "Xóm 1, thôn Đông")),
        vb.event("person.added", people["Lan"], person_data(h4, "Lan", 1960, "none", "no_app")),
    ]
    assert ok(vb.push(events))["quarantined"] == []
    return world
