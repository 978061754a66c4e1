"""Enrolment codes are one-time and short-lived; tokens are checked on every call."""
from __future__ import annotations

import json

import httpx

from ..support import cli


def _enrol(server, code):  # type: ignore[no-untyped-def]
    return httpx.post(server.url + "/api/v1/enroll", json={"code": code})


def test_code_enrols_once(server):
    code = server.code("officer", commune="10525")
    first = _enrol(server, code)
    assert first.status_code == 200
    body = first.json()
    assert body["role"] == "officer" and body["scope"]["commune"] == "10525"
    assert len(body["token"]) >= 40
    again = _enrol(server, code)
    assert again.status_code == 410 and again.json()["error"] == "used_code"


def test_code_is_forgiving_about_case_and_dashes(server):
    code = server.code("admin")
    assert _enrol(server, code.lower().replace("-", " ")).status_code == 200


def test_expired_and_unknown_codes(server):
    expired = server.code("admin", hours=-1)  # made an hour past its end: no waiting for it to expire
    answer = _enrol(server, expired)
    assert answer.status_code == 410 and answer.json()["error"] == "expired_code"
    unknown = _enrol(server, "AAAA-BBBB-CCCC")
    assert unknown.status_code == 400 and unknown.json()["error"] == "unknown_code"
    empty = _enrol(server, "")
    assert empty.status_code == 400 and empty.json()["error"] == "bad_request"


def test_missing_unknown_and_revoked_tokens(server):
    device = server.enroll("admin")
    assert device.get("/api/v1/sync/receipt").status_code == 200
    bare = httpx.get(server.url + "/api/v1/sync/receipt")
    assert bare.status_code == 401 and bare.json()["error"] == "unauthenticated"
    wrong = httpx.get(server.url + "/api/v1/sync/receipt", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "unknown_token"
    assert cli(server.db_url, "revoke", device.id).returncode == 0
    revoked = device.get("/api/v1/sync/receipt")
    assert revoked.status_code == 403 and revoked.json()["error"] == "revoked"
    assert device.push([]).json()["error"] == "revoked"
    assert cli(server.db_url, "revoke", device.id, check=False).returncode == 2


def test_enrol_command_checks_scope(server):
    result = cli(server.db_url, "enroll", "--role", "officer", "--json", check=False)
    assert result.returncode == 2 and "--commune" in result.stderr
    result = cli(server.db_url, "enroll", "--role", "leader", "--team", "nope", "--json", check=False)
    assert result.returncode == 2 and "team" in result.stderr


def test_tokens_are_stored_hashed(server):
    device = server.enroll("admin")
    from sqlalchemy import select

    from sync_server.store import schema as t
    from sync_server.store.db import make_engine
    engine = make_engine(server.db_url)
    with engine.connect() as conn:
        hashes = conn.execute(select(t.devices.c.token_hash)).scalars().all()
        codes = conn.execute(select(t.enrolments.c.code_hash)).scalars().all()
    engine.dispose()
    assert device.token not in hashes
    assert all(len(h) == 64 for h in hashes + codes)


def test_healthz_and_openapi(server):
    assert httpx.get(server.url + "/healthz").json() == {"ok": True}
    spec = httpx.get(server.url + "/openapi.json").json()
    for path in ("/api/v1/enroll", "/api/v1/sync/push", "/api/v1/sync/pull", "/api/v1/sync/receipt",
                 "/api/v1/totals", "/api/v1/conflicts", "/healthz"):
        assert path in spec["paths"], path


def test_enroll_command_prints_a_code_that_enrols(server):
    import json
    printed = json.loads(cli(server.db_url, "enroll", "--role", "officer", "--commune", "10525", "--json").stdout)
    assert set(printed) == {"code", "url", "expires_at"}
    assert printed["url"].startswith("gocua://enrol?") and "code=" + printed["code"] in printed["url"]
    answer = _enrol(server, printed["code"])
    assert answer.status_code == 200 and answer.json()["role"] == "officer"
    text = cli(server.db_url, "enroll", "--role", "admin").stdout
    assert "code:" in text and ("▀" in text or "█" in text)  # the QR code drawn in the terminal


def test_the_enrolment_link_names_the_address_phones_use(server) -> None:
    from urllib.parse import parse_qs, urlparse

    def link(*args: str) -> tuple[str, str]:
        done = cli(server.db_url, "enroll", "--role", "admin", "--json", *args)
        return parse_qs(urlparse(json.loads(done.stdout)["url"]).query)["server"][0], done.stderr

    given, said = link("--server", "http://192.168.1.10:9000/")
    assert given == "http://192.168.1.10:9000" and said == ""
    _, said = link()
    assert "GOCUA_PUBLIC_URL is not set" in said, "never a silent guess at port 8000"


# ---- named volunteers (issue #13, item 1) ------------------------------------------------------------


def _team_names(server, leader):  # type: ignore[no-untyped-def]
    rows = leader.get("/api/v1/team/devices").json()["devices"]
    return {row["device_id"]: row["name"] for row in rows}


def test_enroll_name_reaches_the_answer_and_the_team_list_and_stays_on_re_enrolment(server):
    team = "named-" + server.db_url[-6:].replace("/", "")
    cli(server.db_url, "team", team, "--name", "Tổ tên", "--commune", "10525")
    printed = json.loads(cli(server.db_url, "enroll", "--role", "volunteer", "--team", team,
                             "--name", "  Nguye\u0302\u0303n  Thị Lan ", "--json").stdout)
    first = _enrol(server, printed["code"]).json()
    assert first["name"] == "Nguyễn Thị Lan"  # NFC, trimmed, inner spaces collapsed
    leader = server.enroll("leader", team=team)
    assert _team_names(server, leader)[first["device_id"]] == "Nguyễn Thị Lan"
    # the same phone enrolled again with a code made without a name keeps its name
    again = httpx.post(server.url + "/api/v1/enroll", json={"code": server.code("volunteer", team=team)},
                       headers={"Authorization": f"Bearer {first['token']}"}).json()
    assert again["device_id"] != first["device_id"] and again["name"] == "Nguyễn Thị Lan"
    names = _team_names(server, leader)
    assert names[again["device_id"]] == "Nguyễn Thị Lan"
    # a name typed on the phone counts when the code has none; the code's own wins over it
    typed = httpx.post(server.url + "/api/v1/enroll",
                       json={"code": server.code("volunteer", team=team), "name": "Trần Văn Bình"}).json()
    assert typed["name"] == "Trần Văn Bình"
    coded = httpx.post(server.url + "/api/v1/enroll",
                       json={"code": server.code("volunteer", team=team, name="Lê Hoa"), "name": "Khác"}).json()
    assert coded["name"] == "Lê Hoa"
    unnamed = _enrol(server, server.code("volunteer", team=team)).json()
    assert unnamed["name"] is None and names.get(unnamed["device_id"]) is None


def test_bad_names_are_refused_and_spend_nothing(server):
    long = cli(server.db_url, "enroll", "--role", "admin", "--name", "x" * 61, "--json", check=False)
    assert long.returncode == 2 and "60" in long.stderr
    control = cli(server.db_url, "enroll", "--role", "admin", "--name", "Lan\x07", "--json", check=False)
    assert control.returncode == 2 and "control" in control.stderr
    code = server.code("admin")
    refused = httpx.post(server.url + "/api/v1/enroll", json={"code": code, "name": "y" * 61})
    assert refused.status_code == 400 and refused.json()["error"] == "bad_name"
    assert _enrol(server, code).status_code == 200  # the code was not spent by the refusal


def test_the_audit_log_names_who_held_the_device(server):
    from ..support import enrolled_device
    admin = enrolled_device(server, server.code("admin", name="Phạm Quản Trị"))
    assert admin.get("/api/v1/conflicts", commune="10525").status_code == 200  # audited: conflicts.view
    entries = admin.get("/api/v1/audit", order="newest").json()["entries"]
    mine = [e for e in entries if e["device_id"] == admin.id]
    assert mine and all(e["name"] == "Phạm Quản Trị" for e in mine)
