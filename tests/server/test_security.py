"""Hardening, each proven: headers, CORS, body and rate limits, tokens (rotation,
re-enrolment, revocation mid-session), consent enforced on the server, and logs that
carry no personal data. SECURITY.md points here."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import httpx
import pytest

from campaign.ids import uuid7
from sync_server.services import enrolment
from sync_server.store import devices

from ..support import (
    ROOT,
    Device,
    cli,
    enrolled_device,
    free_port,
    hamlet_data,
    household_data,
    issue_code,
    person_data,
    spend_code,
    wait_until,
)
from .reporting import WARD, World, build_world, engine_for, http

CSP = "default-src 'none'"


@pytest.fixture(scope="module")
def world(server) -> World:  # type: ignore[no-untyped-def]
    return build_world(server, "se")


def from_address(address: str) -> httpx.Client:
    """A client whose connections leave from another loopback address (127.0.0.0/8 is all
    loopback on Linux): the server sees a different client, with its own buckets."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=30)


def new_code(world: World, role: str = "volunteer") -> str:
    return world.server.code(role, hamlets=(world.hamlet_a,) if role == "volunteer" else ())


# ---- headers ----------------------------------------------------------------------------

def test_security_headers_on_every_answer(server, world):
    answers = {
        "health": http.get(server.url + "/healthz"),
        "openapi": http.get(server.url + "/openapi.json"),
        "receipt": world.admin.get("/api/v1/sync/receipt"),
        "no token": http.get(server.url + "/api/v1/sync/receipt"),
        "not found": http.get(server.url + "/api/v1/nothing"),
        "bad code": http.post(server.url + "/api/v1/enroll", json={"code": ""}),
        "csv": world.officer.get("/api/v1/exports/totals.csv", commune=WARD),
    }
    for what, answer in answers.items():
        h = answer.headers
        assert h["x-content-type-options"] == "nosniff", what
        assert h["x-frame-options"] == "DENY", what
        assert h["referrer-policy"] == "no-referrer", what
        csp = h["content-security-policy"]
        assert csp.startswith(CSP) and "frame-ancestors 'none'" in csp, what
        assert h["cross-origin-resource-policy"] == "same-origin", what
        assert "strict-transport-security" not in h, what  # plain http here
        if answer.url.path.startswith("/api/"):
            assert h["cache-control"] == "no-store", what


def test_hsts_when_the_request_came_over_https(app_with):
    # X-Forwarded-Proto is believed only from a configured proxy (GOCUA_TRUSTED_PROXIES; over
    # real sockets: tests/server/test_proxy_limits.py); TestClient's peer is "testclient"
    client, _ = app_with(GOCUA_TRUSTED_PROXIES="testclient")
    answer = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert answer.headers["strict-transport-security"] == "max-age=31536000"
    client, _ = app_with(GOCUA_TRUSTED_PROXIES="")  # the default: nobody's
    assert "strict-transport-security" not in client.get("/healthz", headers={"X-Forwarded-Proto": "https"}).headers


def test_docs_are_not_served_unless_asked(server):
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        assert http.get(server.url + path).status_code == 404, path
    assert http.get(server.url + "/openapi.json").status_code == 200


# ---- in-process apps with other settings ---------------------------------------------------------

@pytest.fixture()
def app_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """make(**env): the real app, in this process, over a fresh SQLite database, with these
    environment variables; returns (TestClient, engine)."""
    from fastapi.testclient import TestClient

    from sync_server.app import create_app
    from sync_server.config import Settings
    from sync_server.store import migrate
    from sync_server.store.db import make_engine

    made: list[Any] = []

    def make(public_url: str = "http://testserver", **env: str):  # type: ignore[no-untyped-def]
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        url = f"sqlite:///{tmp_path / f'app{len(made)}.db'}"
        engine = make_engine(url)
        migrate.upgrade(engine)
        settings = replace(Settings.from_env(), database_url=url, public_url=public_url)  # the environment, read once
        client = TestClient(create_app(settings, engine))
        made.append((client, engine))
        return client, engine

    yield make
    for client, engine in made:
        client.close()
        engine.dispose()


def test_docs_with_gocua_docs_get_their_own_csp(app_with):
    client, _ = app_with(GOCUA_DOCS="1")
    docs = client.get("/docs")
    assert docs.status_code == 200 and "cdn.jsdelivr.net" in docs.headers["content-security-policy"]
    assert client.get("/healthz").headers["content-security-policy"].startswith(CSP)


def test_hsts_when_the_public_url_is_https(app_with):
    client, _ = app_with(public_url="https://gocua.example.vn")
    assert client.get("/healthz").headers["strict-transport-security"] == "max-age=31536000"


def test_cors_is_denied_by_default(server):
    preflight = http.options(server.url + "/api/v1/sync/receipt", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})
    assert preflight.status_code == 403 and preflight.json()["error"] == "cors_denied"
    assert "access-control-allow-origin" not in preflight.headers
    simple = http.get(server.url + "/healthz", headers={"Origin": "https://evil.example"})
    assert simple.status_code == 200 and "access-control-allow-origin" not in simple.headers


def test_cors_allows_only_the_listed_origins(app_with):
    client, _ = app_with(GOCUA_ALLOWED_ORIGINS="https://bang.example.vn, https://other.example.vn/")
    ok = client.options("/api/v1/sync/receipt", headers={
        "Origin": "https://bang.example.vn", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "https://bang.example.vn"
    assert "access-control-allow-credentials" not in ok.headers
    get = client.get("/healthz", headers={"Origin": "https://other.example.vn"})
    assert get.headers["access-control-allow-origin"] == "https://other.example.vn"
    denied = client.options("/api/v1/sync/receipt", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert denied.status_code == 403 and "access-control-allow-origin" not in denied.headers
    evil = client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in evil.headers


# ---- body limits ------------------------------------------------------------------------

def test_every_json_body_is_limited(server, world):
    big = {"name": "x" * 70_000, "target_kind": "percent", "target_value": 80, "start": "2026-01-01",
           "deadline": "2026-03-31"}
    answer = http.put(server.url + f"/api/v1/campaigns/{WARD}", json=big, headers=world.admin.headers)
    assert answer.status_code == 413 and answer.json()["error"] == "too_large"
    answer = http.post(server.url + "/api/v1/enroll", json={"code": "A" * 70_000})
    assert answer.status_code == 413
    # no Content-Length (chunked): counted as it arrives
    chunks = (b'{"code": "' + b"A" * 8192 for _ in range(10))
    answer = http.post(server.url + "/api/v1/enroll", content=chunks, headers={"Content-Type": "application/json"})
    assert answer.status_code == 413
    # a push has its own, larger limit (5 MB): 300 events are more than 64 KiB
    volunteer = server.enroll("volunteer", hamlets=(world.hamlet_a,))
    events = [volunteer.event("household.created", uuid7(), household_data(world.hamlet_a, f"Số {i}, ngõ 7"))
              for i in range(300)]
    assert len(json.dumps({"schema": 1, "events": events})) > 64 * 1024
    assert volunteer.push(events).json() == {"acked_seq": 300, "quarantined": [], "cursors": ANY, "caught_up": None,
            "team_settings": None}


# ---- rate limits ------------------------------------------------------------------------

def test_guessing_enrolment_codes_is_limited_per_address(server, world):
    with from_address("127.0.0.7") as guesser:
        answers = [guesser.post(server.url + "/api/v1/enroll", json={"code": f"AAAA-BBBB-{i:04d}"})
                   for i in range(10)]
        assert all(a.status_code == 400 and a.json()["error"] == "unknown_code" for a in answers)
        for i in range(10):  # one more token every 6 s: on a slow machine one or two more guesses may pass
            limited = guesser.post(server.url + "/api/v1/enroll", json={"code": f"AAAA-CCCC-{i:04d}"})
            if limited.status_code != 400:
                break
        assert limited.status_code == 429 and limited.json()["error"] == "rate_limited"
        assert 1 <= limited.json()["retry_after"] <= 6
        # even a right code is refused from that address until it waits: a hit cannot show itself
        code = new_code(world)
        assert guesser.post(server.url + "/api/v1/enroll", json={"code": code}).status_code == 429
    # another address is not held back, and a good code costs nothing
    with from_address("127.0.0.9") as other:
        for _ in range(12):
            assert other.post(server.url + "/api/v1/enroll", json={"code": new_code(world)}).status_code == 200
    assert http.post(server.url + "/api/v1/enroll", json={"code": code}).status_code == 200


def test_unknown_tokens_are_limited_per_address_but_known_tokens_never(server, world):
    with from_address("127.0.0.8") as client:
        statuses = [client.get(server.url + "/api/v1/sync/receipt",
                               headers={"Authorization": f"Bearer guess-{i}"}).status_code for i in range(60)]
        assert statuses == [401] * 60
        for i in range(60):  # one more token a second: on a slow machine a few more may be answered 401
            status = client.get(server.url + "/api/v1/sync/receipt",
                                headers={"Authorization": f"Bearer more-{i}"}).status_code
            if status != 401:
                break
        assert status == 429
        assert client.get(server.url + "/api/v1/sync/receipt", headers=world.admin.headers).status_code == 200


def test_every_authenticated_request_is_limited_per_device(app_with):
    client, engine = app_with(GOCUA_DEVICE_REQUESTS_PER_MINUTE="6")  # bursts of 3
    token = spend_code("", issue_code(engine, "admin"), client)["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert [client.get("/api/v1/sync/receipt", headers=headers).status_code for _ in range(3)] == [200] * 3
    limited = client.get("/api/v1/sync/pull", headers=headers)
    assert limited.status_code == 429 and limited.json()["retry_after"] >= 1
    other = spend_code("", issue_code(engine, "admin"), client)["token"]  # another device has its own bucket
    assert client.get("/api/v1/sync/receipt", headers={"Authorization": f"Bearer {other}"}).status_code == 200


# ---- tokens -----------------------------------------------------------------------------

def test_a_token_replayed_after_rotation_is_refused(server, world):
    volunteer = server.enroll("volunteer", hamlets=(world.hamlet_a,))
    first = volunteer.event("household.created", uuid7(), household_data(world.hamlet_a))
    assert volunteer.push([first]).status_code == 200
    old = volunteer.token
    answer = http.post(server.url + "/api/v1/token/rotate", headers=volunteer.headers)
    assert answer.status_code == 200 and set(answer.json()) == {"token"}
    new = answer.json()["token"]
    assert new != old and len(new) >= 40
    replayed = http.get(server.url + "/api/v1/sync/receipt", headers={"Authorization": f"Bearer {old}"})
    assert replayed.status_code == 401 and replayed.json()["error"] == "unknown_token"
    assert http.post(server.url + "/api/v1/token/rotate",
                     headers={"Authorization": f"Bearer {old}"}).status_code == 401
    volunteer.token = new  # same device, same seq: the log goes on
    answer = volunteer.push([volunteer.event("household.created", uuid7(), household_data(world.hamlet_a))])
    assert answer.json() == {"acked_seq": 2, "quarantined": [], "cursors": ANY, "caught_up": None,
            "team_settings": None}
    with engine_for(server).connect() as conn:
        from sqlalchemy import select

        from sync_server.store import schema as t
        stored = conn.execute(select(t.devices.c.token_hash).where(t.devices.c.id == volunteer.id)).scalar_one()
    assert stored == devices.hash_secret(new) and new not in stored


def test_re_enrolling_with_the_old_token_revokes_the_old_device(server, world):
    phone = server.enroll("volunteer", hamlets=(world.hamlet_a,))
    answer = http.post(server.url + "/api/v1/enroll", json={"code": new_code(world)}, headers=phone.headers)
    assert answer.status_code == 200
    again = Device(server, answer.json()["device_id"], answer.json()["token"], "volunteer")
    assert again.id != phone.id
    old = phone.get("/api/v1/sync/receipt")
    assert old.status_code == 403 and old.json()["error"] == "revoked"
    assert again.get("/api/v1/sync/receipt").status_code == 200
    # a bad code revokes nothing; an unknown or revoked old token does not stop an enrolment
    assert http.post(server.url + "/api/v1/enroll", json={"code": "AAAA-AAAA-AAAA"},
                     headers=again.headers).status_code == 400
    assert again.get("/api/v1/sync/receipt").status_code == 200
    for stale in ("never-issued", phone.token):
        answer = http.post(server.url + "/api/v1/enroll", json={"code": new_code(world)},
                           headers={"Authorization": f"Bearer {stale}"})
        assert answer.status_code == 200
    assert again.get("/api/v1/sync/receipt").status_code == 200


def test_a_device_revoked_mid_session_is_refused_on_its_next_request(server, world):
    volunteer = server.enroll("volunteer", hamlets=(world.hamlet_a,))
    # one kept-alive connection, as the app's sync keeps
    with httpx.Client(base_url=server.url, headers=volunteer.headers, timeout=30) as session:
        assert session.get("/api/v1/sync/pull").status_code == 200
        event = volunteer.event("household.created", uuid7(), household_data(world.hamlet_a))
        assert session.post("/api/v1/sync/push", json={"schema": 1, "events": [event]}).status_code == 200
        with engine_for(server).begin() as conn:
            assert enrolment.revoke(conn, volunteer.id)
        late = volunteer.event("household.created", uuid7(), household_data(world.hamlet_a))
        refused = session.post("/api/v1/sync/push", json={"schema": 1, "events": [late]})
        assert refused.status_code == 403 and refused.json()["error"] == "revoked"
        assert session.get("/api/v1/sync/pull").json()["error"] == "revoked"
    with engine_for(server).connect() as conn:
        assert devices.get(conn, volunteer.id).acked_seq == 1  # nothing of the late push was stored


# ---- consent ----------------------------------------------------------------------------

def test_names_sent_for_a_household_that_declined_are_quarantined(server, world):
    v = world.volunteer
    household = uuid7()
    batch = [v.event("household.created", household, household_data(world.hamlet_a, consent="declined")),
             v.event("person.added", uuid7(), person_data(household, "Người 1")),
             v.event("person.added", uuid7(), person_data(household, "Trần Văn Tên"))]
    body = v.push(batch).json()
    got = [(q["seq"], q["reason"].split(":")[0]) for q in body["quarantined"]]
    assert got == [(batch[2]["seq"], "consent_declined")]


def test_declining_while_people_still_carry_names_is_quarantined(server, world):
    v = world.volunteer
    household, named, generic = uuid7(), uuid7(), uuid7()
    assert v.push([v.event("household.created", household, household_data(world.hamlet_a)),
                   v.event("person.added", named, person_data(household, "Đỗ Thị Còn Tên")),
                   v.event("person.added", generic, person_data(household, "Người 2"))]).json()["quarantined"] == []
    decline = v.event("household.updated", household, {"consent": "declined"})
    body = v.push([decline]).json()
    assert [q["seq"] for q in body["quarantined"]] == [decline["seq"]]
    assert body["quarantined"][0]["reason"].startswith("consent_declined")
    entities = {e["entity"]: e for e in world.admin.pull_all() if e["entity"] == household}
    assert all(e["data"].get("consent") != "declined" for e in entities.values())


def test_declining_is_accepted_when_the_same_push_renames_first(server, world):
    v = world.volunteer
    household, p1, p2 = uuid7(), uuid7(), uuid7()
    assert v.push([v.event("household.created", household, household_data(world.hamlet_a)),
                   v.event("person.added", p1, person_data(household, "Vũ Văn Một")),
                   v.event("person.added", p2, person_data(household, "Vũ Thị Hai"))]).json()["quarantined"] == []
    body = v.push([v.event("person.updated", p1, {"label": "Người 1"}),  # as field_app/store.py _anonymise does
                   v.event("person.updated", p2, {"label": "Người 2"}),
                   v.event("household.updated", household, {"consent": "declined"})]).json()
    assert body["quarantined"] == []
    renamed = v.event("person.updated", p1, {"label": "Vũ Văn Một"})
    assert v.push([renamed]).json()["quarantined"][0]["reason"].startswith("consent_declined")


# ---- logs -------------------------------------------------------------------------------

NAMES = ("Phạm Thị Lộc", "Hoàng Văn Thư", "Số 77, ngõ Hoà Bình", "Hẹn chiều thứ bảy gặp cô Lộc")


@dataclass
class ChattyServer:
    url: str
    log: Path
    db: str
    proc: subprocess.Popen[bytes]

    def stop(self) -> None:
        """SIGTERM and wait: once the process is gone, everything it logged is in the file."""
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture()
def chatty_server(tmp_path: Path) -> Iterator[ChattyServer]:
    """uvicorn at its most talkative (trace: every ASGI message and the request headers;
    access log: every URL), its output captured in a file."""
    db = f"sqlite:///{tmp_path / 'chatty.db'}"
    cli(db, "init")
    port, log = free_port(), tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "sync_server.app:create_app", "--factory", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "trace", "--access-log"],
            env={**os.environ, "DATABASE_URL": db}, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
    server = ChattyServer(f"http://127.0.0.1:{port}", log, db, proc)

    def answers() -> bool:
        assert proc.poll() is None, log.read_text()[-2000:]
        try:
            return httpx.get(server.url + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(answers, 30, every=0.1, message=lambda: log.read_text()[-2000:])
        yield server
    finally:
        server.stop()


def test_no_personal_data_or_token_reaches_the_logs(chatty_server):
    url, log, db = chatty_server.url, chatty_server.log, chatty_server.db
    from sync_server.store.db import make_engine
    engine = make_engine(db)
    secrets = []

    def enrol(role: str, **scope: Any) -> Device:
        code = issue_code(engine, role, **scope)
        device = enrolled_device(chatty_server, code)
        secrets.extend([code, device.token])
        return device

    def push(device: Device, events: list[dict[str, Any]]) -> httpx.Response:
        return httpx.post(url + "/api/v1/sync/push", json={"schema": 1, "events": events}, headers=device.headers)

    admin = enrol("admin")
    hamlet = uuid7()
    assert push(admin, [admin.event("hamlet.created", hamlet, hamlet_data("Tổ dân phố Nhật Ký"))]).status_code == 200
    volunteer = enrol("volunteer", hamlets=[hamlet])
    household, person = uuid7(), uuid7()
    batch = [volunteer.event("household.created", household, household_data(hamlet, NAMES[2])),
             volunteer.event("person.added", person, person_data(household, NAMES[0])),
             volunteer.event("person.added", uuid7(), person_data(household, NAMES[1])),
             volunteer.event("visit.recorded", uuid7(), {"household_id": household, "outcome": "met",
                                                         "actions": ["explained"], "people_helped": [person],
                                                         "note": NAMES[3]}),
             volunteer.event("household.updated", household, {"consent": "declined"})]  # quarantined: names left
    assert push(volunteer, batch).json()["quarantined"][0]["seq"] == 5
    clash = {**batch[1], "data": {**batch[1]["data"], "label": NAMES[1]}}
    assert push(volunteer, [clash]).status_code == 409  # the same seq with other content
    assert httpx.post(url + "/api/v1/sync/push", content=json.dumps({"schema": 1, "events": [batch[1]]})[:-3],
                      headers=volunteer.headers).status_code == 400
    assert httpx.get(url + "/api/v1/sync/pull", headers=admin.headers).status_code == 200
    rotated = httpx.post(url + "/api/v1/token/rotate", headers=volunteer.headers).json()["token"]
    secrets.append(rotated)
    assert httpx.get(url + "/api/v1/sync/receipt", headers=volunteer.headers).status_code == 401
    chatty_server.stop()  # every line it wrote is in the file
    engine.dispose()
    text = log.read_text(encoding="utf-8")
    assert '"POST /api/v1/sync/push HTTP/1.1" 200' in text and "ASGI [" in text  # every URL, every message
    for secret in NAMES + tuple(secrets):
        assert secret not in text, f"{secret!r} is in the server's log"


def test_the_log_filter_redacts_tokens_and_personal_fields():
    from sync_server.api.security import RedactingFilter
    record = logging.LogRecord("sync_server", logging.WARNING, __file__, 1, "push from %s: %s headers=%r", (
        "dev-1", '{"data":{"label":"Phạm Thị Lộc","address":"Số 77","note":"gặp cô Lộc"}}',
        [(b"authorization", b"Bearer abcDEF123_-xyz")]), None)
    assert RedactingFilter().filter(record)
    text = record.getMessage()
    for secret in ("Phạm Thị Lộc", "Số 77", "gặp cô Lộc", "abcDEF123_-xyz"):
        assert secret not in text
    assert "dev-1" in text and text.count("[redacted]") == 4
    access = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5", "GET", "/x?token=abc123&commune=10525", "1.1", 200), None)
    RedactingFilter().filter(access)
    assert access.args[2] == '/x?token="[redacted]"&commune=10525' and "abc123" not in access.getMessage()
