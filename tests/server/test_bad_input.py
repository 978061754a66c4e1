"""Bad input gets a clear 4xx with a reason, and nothing already stored is lost."""
from __future__ import annotations

import gzip
import json
import zlib

import httpx
import pytest

from campaign.ids import uuid7

from ..support import household_data


def _raw_push(device, content: bytes, **headers: str) -> httpx.Response:  # type: ignore[no-untyped-def]
    return httpx.post(device.server.url + "/api/v1/sync/push", content=content,
                      headers={**device.headers, "Content-Type": "application/json", **headers}, timeout=60)


@pytest.fixture()
def volunteer(server, hamlet):  # type: ignore[no-untyped-def]
    device = server.enroll("volunteer", hamlets=(hamlet,))
    device.hamlet = hamlet
    assert device.push([device.event("household.created", uuid7(), household_data(hamlet))]).status_code == 200
    return device


def _unchanged(device) -> None:  # type: ignore[no-untyped-def]
    receipt = device.get("/api/v1/sync/receipt").json()
    assert receipt["acked_seq"] == 1 and receipt["counts"] == {"household.created": 1}


def test_body_over_the_wire_limit(volunteer):
    answer = _raw_push(volunteer, b" " * (5 * 1024 * 1024 + 10))
    assert answer.status_code == 413 and answer.json()["error"] == "too_large"
    _unchanged(volunteer)


def test_gzip_bomb_is_refused_while_inflating(volunteer):
    bomb = gzip.compress(b'{"schema":1,"events":[' + b" " * (40 * 1024 * 1024) + b"]}", 9)
    assert len(bomb) < 5 * 1024 * 1024
    answer = _raw_push(volunteer, bomb, **{"Content-Encoding": "gzip"})
    assert answer.status_code == 413 and "inflates" in answer.json()["detail"]
    _unchanged(volunteer)


def test_broken_gzip(volunteer):
    good = gzip.compress(json.dumps({"schema": 1, "events": []}).encode())
    for body in (b"not gzip at all", good[: len(good) // 2]):
        answer = _raw_push(volunteer, body, **{"Content-Encoding": "gzip"})
        assert answer.status_code == 400 and answer.json()["error"] == "bad_gzip"
    answer = _raw_push(volunteer, zlib.compress(b"{}"), **{"Content-Encoding": "br"})
    assert answer.status_code == 415
    _unchanged(volunteer)


@pytest.mark.parametrize("body, error", [
    (b"{not json", "bad_json"),
    (b"\xff\xfe", "bad_json"),
    (b"[]", "bad_request"),
    (b'{"schema": 1}', "bad_request"),
    (b'{"schema": 2, "events": []}', "unknown_schema"),
    (b'{"schema": "1", "events": []}', "unknown_schema"),
    (b'{"schema": 1, "events": {}}', "bad_request"),
    (b'{"schema": 1, "events": [42]}', "bad_type"),
    (b'{"schema": 1, "events": [{"seq": 2}]}', "bad_device_id"),
])
def test_malformed_requests(volunteer, body, error):
    answer = _raw_push(volunteer, body)
    assert 400 <= answer.status_code < 500
    assert answer.json()["error"] == error, answer.json()
    assert answer.json()["detail"]
    _unchanged(volunteer)


def test_too_many_events(volunteer):
    events = [volunteer.event("household.created", uuid7(), household_data(volunteer.hamlet)) for _ in range(501)]
    answer = volunteer.push(events)
    assert answer.status_code == 413 and answer.json()["error"] == "too_many"
    _unchanged(volunteer)


def _mutate(event, path, value):  # type: ignore[no-untyped-def]
    target = event
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return event


@pytest.mark.parametrize("path, value, code", [
    (("kind",), "household.exploded", "unknown_kind"),
    (("data", "consent"), "maybe", "bad_code"),
    (("schema",), 2, "unknown_schema"),
    (("data", "address"), 12, "bad_type"),
    (("data", "address"), "x" * 121, "too_long"),
    (("data", "address"), KeyError, "missing_field"),
    (("data", "colour"), "red", "unknown_field"),
    (("id",), "not-a-uuid", "bad_id"),
    (("at",), "yesterday", "bad_time"),
    (("at",), "2026-11-28T09:00:00", "bad_time"),
    (("base",), "3", "bad_base"),
    # a hamlet nobody knows is outside the volunteer's hamlets: scope first, existence never said (issue #12, M1)
    (("data", "hamlet_id"), "01a2235e-427d-7a0a-b2ea-ca77904cdb73", "forbidden"),
])
def test_invalid_events_are_quarantined_with_a_reason(volunteer, path, value, code):
    bad = _mutate(volunteer.event("household.created", uuid7(), household_data(volunteer.hamlet)), path, value)
    good = volunteer.event("household.created", uuid7(), household_data(volunteer.hamlet))
    answer = volunteer.push([bad, good])
    assert answer.status_code == 200
    body = answer.json()
    assert body["acked_seq"] == 3
    assert [q["seq"] for q in body["quarantined"]] == [2]
    assert body["quarantined"][0]["reason"].startswith(code), body


def test_wrong_method_and_path_answer_in_the_error_shape(server):
    answer = httpx.get(server.url + "/api/v1/sync/push")
    assert answer.status_code == 405 and answer.json()["error"] == "method_not_allowed"
    assert httpx.get(server.url + "/api/v1/nothing").json()["error"] == "not_found"
