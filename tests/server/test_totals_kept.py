"""GET /totals keeps its answer per commune in each server process (services/reports.py
`kept_totals`) until the commune's counters change: every writer of the counters bumps the
commune's version in its own transaction (store/totals.py), and what else an answer is made
of (the hamlets' names, the caller's scope, the teams) is read by every request. Each writer
is seen here through the server: the answer after it equals the one the services compute
afresh from the database, and differs from the one before."""
from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import update

from campaign.ids import uuid7
from sync_server.services import enrolment, reports
from sync_server.services import team as teams
from sync_server.store import schema as t
from sync_server.store.db import read_transaction, write_transaction

from ..support import cli, hamlet_data, household_data, person_data

HERE, THERE = "10525", "10813"


def _fresh(server, device, commune: str, by: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The answer computed by the services straight from the database, nothing kept."""
    with read_transaction(server.engine) as conn:
        found = reports.totals(conn, enrolment.authenticate(conn, device.token), commune, by)
    return json.loads(json.dumps({"commune": found.commune, "by": found.by, "rows": found.rows, "total": found.total}))


def _served(device, commune: str, by: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    answer = device.get("/api/v1/totals", commune=commune, by=by)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _check(server, officers, communes=(HERE, THERE)) -> dict[tuple[str, str], dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Each commune's answers, by hamlet, team and day, twice (the second one kept), equal to a
    fresh computation; returned to be compared with the next writer's."""
    out = {}
    for commune in communes:
        for by in ("hamlet", "team", "day"):
            for _ in range(2):
                served = _served(officers[commune], commune, by)
                assert served == _fresh(server, officers[commune], commune, by), (commune, by)
            out[(commune, by)] = served
    return out


def test_every_writer_of_the_counters_reaches_the_next_answer(server, admin):
    a, c = uuid7(), uuid7()
    assert admin.push([admin.event("hamlet.created", a, hamlet_data("Tổ giữ A")),
                       admin.event("hamlet.created", c, hamlet_data("Thôn giữ C", THERE))]).status_code == 200
    team = f"t-{uuid7()[-8:]}"
    with write_transaction(server.engine) as conn:
        teams.create_team(conn, team, "Tổ giữ 1", HERE, [a])
    officers = {HERE: server.enroll("officer", commune=HERE), THERE: server.enroll("officer", commune=THERE)}
    v = server.enroll("volunteer", hamlets=(a, c))
    before = _check(server, officers)

    # a push
    home = uuid7()
    assert v.push([v.event("household.created", home, household_data(a)),
                   v.event("person.added", uuid7(), person_data(home, "Đỗ Văn Giữ"))]).json()["quarantined"] == []
    after = _check(server, officers)
    assert after[(HERE, "hamlet")]["total"]["households"] == before[(HERE, "hamlet")]["total"]["households"] + 1
    assert after[(HERE, "team")] != before[(HERE, "team")] and after[(HERE, "day")] != before[(HERE, "day")]

    # a move to another commune: both communes' counters change
    before = after
    assert v.push([v.event("household.updated", home, {"hamlet_id": c})]).json()["quarantined"] == []
    after = _check(server, officers)
    assert after[(HERE, "hamlet")]["total"]["households"] == before[(HERE, "hamlet")]["total"]["households"] - 1
    assert after[(THERE, "hamlet")]["total"]["households"] == before[(THERE, "hamlet")]["total"]["households"] + 1

    # a hamlet renamed and a team's hamlets changed: no counter moves, the answer still does
    before = after
    assert admin.push([admin.event("hamlet.updated", a, {"name": "Tổ giữ A mới"}, base=None)]).status_code == 200
    with write_transaction(server.engine) as conn:
        conn.execute(t.team_hamlets.delete().where(t.team_hamlets.c.team_id == team))
    after = _check(server, officers, (HERE,))
    assert after[(HERE, "hamlet")] != before[(HERE, "hamlet")] and after[(HERE, "team")] != before[(HERE, "team")]

    # recount --fix, in another process: counters changed behind the server's back (no version
    # bumped) are answered as they are, until the recount puts them right and bumps
    assert v.push([v.event("household.created", uuid7(), household_data(c, "Số 7"))]).json()["quarantined"] == []
    with write_transaction(server.engine) as conn:
        conn.execute(update(t.totals).where(t.totals.c.hamlet_id == c, t.totals.c.metric == "households")
                     .values(n=t.totals.c.n + 5))
    tampered = _check(server, officers, (THERE,))
    assert cli(server.db_url, "recount", "--fix").returncode == 0
    fixed = _check(server, officers, (THERE,))
    assert fixed[(THERE, "hamlet")]["total"]["households"] == tampered[(THERE, "hamlet")]["total"]["households"] - 5
    assert cli(server.db_url, "recount").returncode == 0


def test_the_kept_answer_is_sent_compressed_only_to_who_asks(server, admin, hamlet):
    """The kept answer carries its gzip, made once: sent as GZipMiddleware would, to a client
    that accepts gzip, and plain to one that does not; both the same JSON."""
    officer = server.enroll("officer", commune=HERE)
    url, headers = server.url + "/api/v1/totals", officer.headers
    with httpx.Client() as client:
        for _ in range(2):  # made, then kept
            packed = client.get(url, params={"commune": HERE}, headers={**headers, "Accept-Encoding": "gzip"})
            plain = client.get(url, params={"commune": HERE}, headers={**headers, "Accept-Encoding": "identity"})
            assert packed.status_code == plain.status_code == 200
            assert packed.headers["content-encoding"] == "gzip" and "content-encoding" not in plain.headers
            assert packed.headers["content-type"] == plain.headers["content-type"] == "application/json"
            assert packed.json() == plain.json() == _fresh(server, officer, HERE, "hamlet")
