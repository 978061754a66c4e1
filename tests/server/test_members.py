"""A leader's new member (services/members.py, POST /api/v1/team/enrolments): a named code for a
volunteer of the team, the name the phone gets, who may make one, and what a refusal leaves."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import Engine, func, select

from sync_server.services import audit, enrolment, members
from sync_server.services import team as teams
from sync_server.services.enrolment import Caller
from sync_server.services.errors import Forbidden, Invalid, NotFound
from sync_server.store import schema as t
from sync_server.store.db import make_engine, read_transaction, write_transaction

from ..support import Device, Server, cli, spend_code

WARD, RURAL = "10525", "10813"
PUBLIC = "https://gocua.example.vn/"


@pytest.fixture()
def engine(tmp_path: Path) -> Iterator[Engine]:
    made = make_engine(f"sqlite:///{tmp_path / 'members.db'}")
    t.metadata.create_all(made)
    with write_transaction(made) as conn:
        teams.create_team(conn, "to-1", "Tổ 1", WARD, [])
        teams.create_team(conn, "to-2", "Tổ 2", WARD, [])
        teams.create_team(conn, "to-rural", "Tổ Thanh Hà", RURAL, [])
    yield made
    made.dispose()


def caller(engine: Engine, role: str, **scope: str) -> Caller:
    with write_transaction(engine) as conn:
        device, token = enrolment.enrol(conn, enrolment.create_enrolment(conn, role, **scope).code)  # type: ignore[arg-type]
        return Caller(device, enrolment.scope_of(conn, device), token)


def counts(engine: Engine) -> tuple[int, int]:
    """(enrolment codes, audit rows) held: a refusal adds neither."""
    with read_transaction(engine) as conn:
        return (conn.execute(select(func.count()).select_from(t.enrolments)).scalar_one(),
                conn.execute(select(func.count()).select_from(t.audit)).scalar_one())


def test_a_leaders_code_enrols_a_named_volunteer_of_their_team_whatever_the_phone_types(engine: Engine) -> None:
    leader = caller(engine, "leader", team_id="to-1")
    with write_transaction(engine) as conn:
        made = members.new_member(conn, leader, "  Nguyễn Thi\u0323 Lan ", PUBLIC)  # decomposed, padded
    assert (made.team, made.name) == ("to-1", "Nguyễn Thị Lan")  # NFC, trimmed
    query = parse_qs(urlparse(made.url).query)
    assert made.url.startswith("gocua://enrol?") and query == {"server": ["https://gocua.example.vn"],
                                                              "code": [made.code]}
    with write_transaction(engine) as conn:
        device = enrolment.enrol(conn, made.code, name="Người khác").device
    assert (device.role, device.team_id, device.commune, device.name) == ("volunteer", "to-1", WARD, "Nguyễn Thị Lan")
    with read_transaction(engine) as conn:
        rows, _ = audit.entries(conn, caller(engine, "admin"), WARD)
    assert [(r.action, r.device_id, r.role, r.detail) for r in rows] == [
        ("device.enrol", leader.device.id, "leader", {"role": "volunteer", "team": "to-1", "named": True})]
    assert "Lan" not in repr(rows)  # the audit log holds no names


def test_officers_add_to_a_team_of_their_commune_and_admins_to_any(engine: Engine) -> None:
    officer = caller(engine, "officer", commune=WARD)
    admin = caller(engine, "admin")
    with write_transaction(engine) as conn:
        assert members.new_member(conn, officer, "Trần Văn Bình", PUBLIC, "to-2").team == "to-2"
        assert members.new_member(conn, admin, "Lê Thị Cúc", PUBLIC, "to-rural").team == "to-rural"


@pytest.mark.parametrize(("who", "name", "team", "refusal", "code"), [
    ("leader", "", None, Invalid, "missing_name"),
    ("leader", "   ", None, Invalid, "missing_name"),
    ("leader", "A" * 61, None, Invalid, "bad_name"),
    ("leader", "Lan\u0007", None, Invalid, "bad_name"),
    ("leader", "Lan", "to-2", Forbidden, "forbidden"),  # another team of the same commune
    ("officer", "Lan", "to-rural", Forbidden, "forbidden"),  # a team of another commune
    ("officer", "Lan", None, Invalid, "missing_scope"),
    ("admin", "Lan", "no-such-team", NotFound, "unknown_team"),
])
def test_a_refusal_says_why_and_stores_nothing(engine: Engine, who: str, name: str, team: str | None,
                                               refusal: type[Exception], code: str) -> None:
    by = {"leader": lambda: caller(engine, "leader", team_id="to-1"),
          "officer": lambda: caller(engine, "officer", commune=WARD),
          "admin": lambda: caller(engine, "admin")}[who]()
    before = counts(engine)
    with pytest.raises(refusal) as refused, write_transaction(engine) as conn:
        members.new_member(conn, by, name, PUBLIC, team)
    assert refused.value.code == code  # type: ignore[attr-defined]
    assert counts(engine) == before


# ---- over HTTP ------------------------------------------------------------------------------------


@pytest.fixture()
def team(server: Server) -> str:
    from campaign.ids import uuid7
    team_id = f"m-{uuid7()[-8:]}"
    cli(server.db_url, "team", team_id, "--name", "Tổ thêm người", "--commune", WARD)
    return team_id


def new_member(who: Device, **body: str | None) -> tuple[int, dict]:
    answer = who.client.post(f"{who.server.url}/api/v1/team/enrolments", json=body, headers=who.headers)
    return answer.status_code, answer.json()


def test_the_leader_gets_a_code_link_and_expiry_and_the_phone_gets_the_name(server: Server, team: str) -> None:
    leader = server.enroll("leader", team=team)
    status, answer = new_member(leader, name="Phạm Thị Hoa")
    assert status == 201, answer
    assert set(answer) == {"code", "url", "expires_at", "team", "name"}
    assert (answer["team"], answer["name"]) == (team, "Phạm Thị Hoa")
    assert parse_qs(urlparse(answer["url"]).query) == {"server": [server.url], "code": [answer["code"]]}
    phone = spend_code(server.url, answer["code"])
    assert (phone["role"], phone["name"], phone["scope"].get("team")) == ("volunteer", "Phạm Thị Hoa", team)
    rows = {r["device_id"]: r for r in leader.get("/api/v1/team/devices").json()["devices"]}
    assert rows[phone["device_id"]]["name"] == "Phạm Thị Hoa"  # the team list names the new member


def test_who_may_not_is_refused_in_words_the_app_knows(server: Server, team: str) -> None:
    leader = server.enroll("leader", team=team)
    assert new_member(server.enroll("volunteer", team=team), name="Lan")[0] == 403
    assert new_member(server.enroll("officer", commune=RURAL), name="Lan", team=team)[0] == 403
    status, answer = new_member(leader, name=" ")
    assert (status, answer["error"]) == (400, "missing_name")
    status, answer = new_member(leader, name="A" * 61)
    assert (status, answer["error"]) == (400, "bad_name")
    status, answer = new_member(leader, name="Lan", team="no-such-team")
    assert (status, answer["error"]) == (403, "forbidden")  # a leader's own team only, known or not
    status, answer = new_member(server.enroll("admin"), name="Lan", team="no-such-team")
    assert (status, answer["error"]) == (404, "unknown_team")


def test_a_code_made_at_the_command_line_is_audited_too_without_the_name(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    cli(url, "init")  # the command line migrates its database: not the create_all of `engine`
    engine = make_engine(url)
    with write_transaction(engine) as conn:
        teams.create_team(conn, "to-2", "Tổ 2", WARD, [])
    for args in (("--role", "volunteer", "--team", "to-2", "--name", "Trần Văn Bình"),
                 ("--role", "officer", "--commune", RURAL)):
        made = cli(url, "enroll", *args, "--json", check=False)
        assert made.returncode == 0, made.stderr
    admin = caller(engine, "admin")
    with read_transaction(engine) as conn:
        ward, _ = audit.entries(conn, admin, WARD)
        rural, _ = audit.entries(conn, admin, RURAL)
    engine.dispose()
    assert [(r.action, r.device_id, r.role, r.detail) for r in ward] == [
        ("device.enrol", None, audit.CLI_ROLE, {"role": "volunteer", "team": "to-2", "named": True})]
    assert [(r.action, r.device_id, r.detail) for r in rural] == [
        ("device.enrol", None, {"role": "officer", "named": False})]
    assert "Bình" not in repr(ward)
