"""What a refused event reveals, and what it leaves on disk (issue #12: M1, M2, M3, L1, L2, L3 and
the hardening of labels, `base` and `schema`). SECURITY.md ("What a refusal reveals, what it
keeps") points here. Every test runs on both backends (the `server` fixture)."""
from __future__ import annotations

import gzip
import hashlib
import json
import re
from datetime import UTC
from typing import Any

import pytest

from campaign.ids import uuid7

from ..support import household_data, person_data
from .reporting import YEAR, World, build_world, ok


@pytest.fixture(scope="module")
def world(server) -> World:  # type: ignore[no-untyped-def]
    return build_world(server, "rj")


def reasons(answer: Any) -> list[str]:
    return [q["reason"] for q in ok(answer)["quarantined"]]


def _rural_child(world: World, born: int) -> tuple[str, str]:
    """A household of Xã Thanh Hà (the other commune) with a child born in `born`: (household, child)."""
    household, child = uuid7(), uuid7()
    vb = world.volunteer_b  # holds the rural hamlet
    assert reasons(vb.push([vb.event("household.created", household, household_data(world.hamlet_rural)),
                            vb.event("person.added", child, person_data(household, "Bé Na", born, "none",
                                                                        "not_eligible"))])) == []
    return household, child


# ---- M1: scope first ----------------------------------------------------------------------

def test_a_birth_year_cannot_be_searched_for_through_the_time_of_an_update(world):
    """The red team's binary search: 8 pushes of person.updated {vneid: l2_pending} about a
    child of another commune, at 8 different times, used to answer too_young / out_of_range /
    forbidden depending on the child's age then. Now one answer, whatever the time."""
    _household, child = _rural_child(world, YEAR - 3)
    v = world.volunteer  # of Phường Hải Dương: cannot read Xã Thanh Hà
    answers = set()
    for year in range(YEAR - 6, YEAR + 2):
        answers.update(reasons(v.push([v.event("person.updated", child, {"vneid": "l2_pending"},
                                               at=f"{year}-06-01T09:00:00+07:00")])))
    assert len(answers) == 1, answers
    assert answers.pop().startswith("forbidden")


def test_out_of_scope_looks_the_same_whatever_exists_or_the_data(world):
    """exists / unknown_entity / unknown_household / a bad code / a name in a declined household:
    about an entity outside the caller's scope, all the same `forbidden`, word for word."""
    household, child = _rural_child(world, YEAR - 30)
    v = world.volunteer
    events = [
        v.event("person.updated", child, {"vneid": "l2_pending"}),  # exists, out of scope
        v.event("person.updated", uuid7(), {"vneid": "l2_pending"}),  # exists nowhere
        v.event("person.updated", child, {"vneid": "not-a-code"}),  # out of scope and invalid
        v.event("person.added", child, person_data(household)),  # "exists" would say it does
        v.event("person.added", uuid7(), person_data(household)),  # into another commune's household
        v.event("person.added", uuid7(), person_data(uuid7())),  # into no household at all
        v.event("household.created", household, household_data(world.hamlet_a)),  # its id is taken
        v.event("household.updated", household, {"address": "x" * 500}),
        v.event("visit.recorded", uuid7(), {"household_id": household, "outcome": "met", "actions": [],
                                           "people_helped": [], "note": ""}),
    ]
    got = reasons(v.push(events))
    assert len(got) == len(events) and len(set(got)) == 1, got
    assert got[0].startswith("forbidden")


def test_a_move_into_a_closed_hamlet_outside_the_scope_says_nothing_of_it(world):
    """hamlet_closed would name the other hamlet and its closing day."""
    admin, v = world.admin, world.volunteer
    closed = uuid7()
    assert reasons(admin.push([admin.event("hamlet.created", closed, {
        "commune": "10813", "name": "Thôn Đã Đóng", "kind": "thon", "valid_from": "2025-07-01",
        "valid_to": "2025-07-02"})])) == []
    household = world.households["h1"]
    got = reasons(v.push([v.event("household.updated", household, {"hamlet_id": closed})]))
    assert got == reasons(v.push([v.event("household.updated", household, {"hamlet_id": uuid7()})]))
    assert got[0].startswith("forbidden") and "Đóng" not in got[0]


def test_declining_says_no_count_of_the_people_still_named(world):
    v = world.volunteer
    household = uuid7()
    assert reasons(v.push([v.event("household.created", household, household_data(world.hamlet_a)),
                           v.event("person.added", uuid7(), person_data(household, "Ông Một")),
                           v.event("person.added", uuid7(), person_data(household, "Bà Hai")),
                           v.event("person.added", uuid7(), person_data(household, "Cô Ba"))])) == []
    got = reasons(v.push([v.event("household.updated", household, {"consent": "declined"})]))
    assert got[0].startswith("consent_declined"), got
    assert not re.search(r"[0-9]", re.sub(r"Người [0-9]", "", got[0])), got  # no count of anyone


# ---- M2, M3: a refused event keeps its envelope, its code and a digest: never its data -----------

SECRETS = {"cccd_number": "001099012345", "phone": "0912345678", "religion": "Phật giáo Hoà Hảo",
           "gps": "20.9373,106.3146"}
DECLINED_NAME = "Trần Thị Bí Mật"


def _stored(world: World, device_id: str) -> list[Any]:
    """The device's rows of the event log, read from the database itself."""
    from sqlalchemy import select

    from sync_server.store import schema as t

    from .reporting import engine_for
    with engine_for(world.server).connect() as conn:
        return list(conn.execute(select(t.events).where(t.events.c.device_id == device_id)
                                 .order_by(t.events.c.seq)))


def test_a_refused_event_leaves_no_data_on_disk(world):
    from campaign import events as ev

    from .reporting import enroll
    v = enroll(world.server, "volunteer", hamlets=(world.hamlet_a,))
    household, declined = uuid7(), uuid7()
    sent = [
        v.event("household.created", household, household_data(world.hamlet_a)),
        v.event("person.added", uuid7(), {**person_data(household, "Lê Văn Khách"), **SECRETS}),
        v.event("household.created", declined, household_data(world.hamlet_a, "Số 9", consent="declined")),
        v.event("person.added", uuid7(), person_data(declined, DECLINED_NAME)),
        v.event("person.added", uuid7(), person_data(declined, "Người 1")),
    ]
    answer = ok(v.push(sent))
    assert [q["reason"].split(":")[0] for q in answer["quarantined"]] == ["unknown_field", "consent_declined"]
    rows = _stored(world, v.id)
    text = repr([tuple(r) for r in rows])
    for secret in [*SECRETS.values(), "Lê Văn Khách", DECLINED_NAME, *SECRETS]:
        assert secret not in text, secret
    refused = [r for r in rows if r.status == "quarantined"]
    assert [r.reason for r in refused] == ["unknown_field", "consent_declined"]  # the code, no detail
    for row, event in zip(refused, (sent[1], sent[3]), strict=True):
        kept = json.loads(row.body)
        assert kept == {"id": event["id"], "device_id": v.id, "seq": event["seq"], "kind": "person.added",
                        "entity": event["entity"], "at": event["at"],
                        "sha256": hashlib.sha256(ev.canonical(event).encode()).hexdigest()}
    # the receipt counts each refused event by its record: the device computes the same
    lines = [ev.quarantine_line(ev.canonical(e)) if e in (sent[1], sent[3]) else ev.canonical(e) for e in sent]
    assert ok(v.get("/api/v1/sync/receipt"))["digest"] == ev.digest(lines)
    # a retry is recognised through the record: the same refusals again, and a changed event is caught
    again = ok(v.push(sent))
    assert [q["seq"] for q in again["quarantined"]] == [2, 4]
    changed = {**sent[1], "data": {**sent[1]["data"], "phone": "0999999999"}}
    assert v.push([changed]).json()["error"] == "seq_reused"


def test_what_a_refused_event_costs_on_disk_is_bounded(world):
    """8 MiB of label in a few KB of gzip: refused too_long, and only the record is stored."""
    from .reporting import enroll, http
    v = enroll(world.server, "volunteer", hamlets=(world.hamlet_a,))
    household = uuid7()
    huge = "a" * (8 * 1024 * 1024)
    sent = [v.event("household.created", household, household_data(world.hamlet_a)),
            v.event("person.added", uuid7(), person_data(household, huge)),
            v.event("household.created", uuid7(), household_data(world.hamlet_a, "Số 10"))]
    sent[1]["at"] = "b" * 100_000  # the envelope is cut too
    packed = gzip.compress(json.dumps({"schema": 1, "events": sent}).encode(), 9)
    assert len(packed) < 100_000
    answer = http.post(world.server.url + "/api/v1/sync/push", content=packed,
                       headers={**v.headers, "Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert answer.status_code == 200, answer.text[:500]
    body = answer.json()
    assert body["acked_seq"] == 3 and [q["seq"] for q in body["quarantined"]] == [2]
    assert len(body["quarantined"][0]["reason"]) <= 300
    rows = _stored(world, v.id)
    assert [r.status for r in rows] == ["applied", "quarantined", "applied"]
    assert len(rows[1].body) + len(rows[1].reason) < 600, len(rows[1].body)


# ---- L3: every bad input is a JSON 4xx or a quarantine entry, never a 5xx ------------------------

HEADERS = ("x-content-type-options", "x-frame-options", "content-security-policy", "referrer-policy")


def _raw(v: Any, content: bytes) -> Any:
    from .reporting import http
    return http.post(v.server.url + "/api/v1/sync/push", content=content,
                     headers={**v.headers, "Content-Type": "application/json"})


def _fresh(world: World) -> Any:
    from .reporting import enroll
    return enroll(world.server, "volunteer", hamlets=(world.hamlet_a,))


@pytest.mark.parametrize("bad", ["nested_data", "far_future", "far_past", "surrogate"])
def test_a_bad_event_is_quarantined_and_the_one_behind_it_stored(world, bad):
    v = _fresh(world)
    household = uuid7()
    first = v.event("household.created", household, household_data(world.hamlet_a))
    if bad == "nested_data":
        nested: Any = "x"
        for _ in range(900):
            nested = [nested]
        first["data"]["address"] = nested
    elif bad == "far_future":
        first["at"] = "9999-12-31T23:59:59-12:00"
    elif bad == "far_past":
        first["at"] = "0001-01-01T00:00:00+14:00"
    else:
        first["data"]["address"] = "Số 1 \ud800"
    second = v.event("household.created", uuid7(), household_data(world.hamlet_a, "Số 2"))
    text = json.dumps({"schema": 1, "events": [first, second]})  # a lone surrogate travels as \ud800
    answer = _raw(v, text.encode())
    assert answer.status_code == 200, answer.text[:300]
    assert all(h in answer.headers for h in HEADERS)
    body = answer.json()
    assert body["acked_seq"] == 2 and [q["seq"] for q in body["quarantined"]] == [1], body
    assert [r.status for r in _stored(world, v.id)] == ["quarantined", "applied"]


def test_a_body_nested_100000_levels_is_a_json_400_with_the_headers(world):
    v = _fresh(world)
    answer = _raw(v, b"[" * 100_000 + b"]" * 100_000)
    assert answer.status_code == 400 and answer.json()["error"] == "bad_json", answer.text[:300]
    assert all(h in answer.headers for h in HEADERS)


def test_an_unexpected_error_is_a_json_500_with_the_headers():
    """The last resort, in process: whatever breaks inside answers JSON, with the headers."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from sync_server.api.security import SecurityMiddleware
    app = FastAPI()

    @app.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError("broken on purpose")

    app.add_middleware(SecurityMiddleware, origins=[], docs=set(), https=False)
    answer = TestClient(app, raise_server_exceptions=False).get("/api/v1/boom")
    assert answer.status_code == 500 and answer.json()["error"] == "http_error"
    assert all(h in answer.headers for h in HEADERS) and "broken" not in answer.text


# ---- hardening: invisible and reordering characters, base, schema ------------------------------

@pytest.mark.parametrize("label", ["An\u202eoN", "An\u200bBình", "An\u2028Bình", "An\u2029", "\u2066An\u2069",
                                   "An\ufeff"])
def test_invisible_or_reordering_characters_are_refused_in_labels(world, label):
    v = world.volunteer
    got = reasons(v.push([v.event("person.added", uuid7(), person_data(world.households["h1"], label))]))
    assert got and got[0].startswith("bad_text"), got


def test_a_base_beyond_any_version_is_refused(world):
    v = world.volunteer
    person = world.people["An"]
    got = reasons(v.push([v.event("person.updated", person, {"card": "cccd_chip"}, base=10**40),
                          v.event("person.updated", person, {"card": "cccd_chip"}, base=2**62)]))
    assert [r.split(":")[0] for r in got] == ["bad_base", "bad_base"], got


def test_a_request_schema_must_be_the_whole_number_1(world):
    from .reporting import http
    v = _fresh(world)
    for schema in (1.0, "1", True):
        answer = http.post(v.server.url + "/api/v1/sync/push", json={"schema": schema, "events": []},
                           headers=v.headers)
        assert answer.status_code == 400 and answer.json()["error"] == "unknown_schema", (schema, answer.text)


# ---- L2: times outside a sane window -------------------------------------------------------------

def test_times_before_2020_or_beyond_the_clock_skew_are_bad_time(world):
    from datetime import datetime, timedelta
    v = _fresh(world)
    soon = (datetime.now(UTC) + timedelta(days=1)).isoformat(timespec="seconds")
    late = (datetime.now(UTC) + timedelta(days=3)).isoformat(timespec="seconds")
    events = [v.event("household.created", uuid7(), household_data(world.hamlet_a), at=at)
              for at in ("1900-01-01T08:00:00+07:00", "2019-12-31T23:59:59+00:00", late, soon)]
    got = ok(v.push(events))["quarantined"]
    assert [(q["seq"], q["reason"].split(":")[0]) for q in got] == [(1, "bad_time"), (2, "bad_time"),
                                                                       (3, "bad_time")], got
    days = ok(world.officer.get("/api/v1/progress", commune="10525"))["days"]
    assert len(days) < 3000 and all(d["day"] >= "2020-01-01" for d in days)


# ---- L1: a household that declined takes no note on its visits -------------------------------------

def test_a_declined_household_s_visits_carry_no_note_but_its_address_stays(world):
    v = world.volunteer
    declined = uuid7()

    def visit(note: str) -> dict[str, Any]:
        return v.event("visit.recorded", uuid7(), {"household_id": declined, "outcome": "refused", "actions": [],
                                                   "people_helped": [], "note": note})
    got = ok(v.push([v.event("household.created", declined, household_data(world.hamlet_a, "Số 77", "declined")),
                     visit("Bà Tư nói không muốn cho tên"), visit(""),
                     v.event("household.updated", declined, {"address": "Số 77A"})]))["quarantined"]
    assert [(q["seq"] - got[0]["seq"], q["reason"].split(":")[0]) for q in got] == [(0, "note_declined")], got
    assert "Bà Tư" not in repr([tuple(r) for r in _stored(world, v.id)])
