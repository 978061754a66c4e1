"""FakeServer (tests/fake_server.py) answers as the real server does.

The sync client's tests inject faults through a fake of the wire contract; what they prove holds
only if the fake says what the server says. Here the same requests, situation by situation, go
to a real uvicorn (SQLite: the answers do not depend on the backend) and to the fake: the status,
the error code and the keys of each answer must be the same.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from campaign.ids import uuid7
from sync_server.services import enrolment
from sync_server.store.db import write_transaction

from .fake_server import FakeServer
from .support import household_data, wire_event

Answer = tuple[int, Any, list[str]]  # status, error code, the body's keys (and an event's, for a pull)


@dataclass
class Side:
    http: httpx.Client  # base_url: the server
    device_id: str
    token: str
    hamlet: str  # a hamlet in the device's scope
    revoke: Callable[[], None]


def answers(side: Side) -> dict[str, Answer]:
    auth = {"Authorization": f"Bearer {side.token}"}

    def seen(response: httpx.Response) -> Answer:
        body = response.json()
        keys = sorted(body)
        if body.get("events"):
            keys += sorted(body["events"][0])
        return response.status_code, body.get("error"), keys

    def event(seq: int, address: str = "Số 1, ngõ Hợp Đồng") -> dict[str, Any]:
        return wire_event(side.device_id, seq, "household.created", uuid7(), household_data(side.hamlet, address))

    def push(events: list[dict[str, Any]], schema: int = 1) -> Answer:
        return seen(side.http.post("/api/v1/sync/push", json={"schema": schema, "events": events}, headers=auth))

    first = event(1)
    out = {
        "no token": seen(side.http.get("/api/v1/sync/receipt")),
        "unknown token": seen(side.http.get("/api/v1/sync/receipt",
                                            headers={"Authorization": "Bearer not-a-token-of-this-server"})),
        "unknown schema": push([first], schema=2),
        "another device's event": push([{**first, "device_id": str(uuid7())}]),
        "too many events": push([event(seq) for seq in range(1, 502)]),
        "a first push": push([first]),
        "the same push again": push([first]),
        "a gap": push([event(3)]),
        "a seq reused with other content": push([event(1, "Số 9, ngõ Khác")]),
        "a pull": seen(side.http.get("/api/v1/sync/pull", params={"after": 0, "limit": 10}, headers=auth)),
        "a receipt": seen(side.http.get("/api/v1/sync/receipt", headers=auth)),
        "an unknown path": seen(side.http.get("/api/v1/sync/nothing", headers=auth)),
    }
    side.revoke()
    out["revoked"] = seen(side.http.get("/api/v1/sync/receipt", headers=auth))
    return out


@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_the_fake_server_answers_as_the_real_one(server, hamlet) -> None:  # type: ignore[no-untyped-def]
    device = server.enroll("volunteer", hamlets=(hamlet,))

    def revoke_real() -> None:
        with write_transaction(server.engine) as conn:
            enrolment.revoke(conn, device.id)

    with httpx.Client(base_url=server.url, timeout=30) as http:
        real = answers(Side(http, device.id, device.token, hamlet, revoke_real))

    fake = FakeServer(device_id="dev-contract", token="tok-contract")

    def revoke_fake() -> None:
        fake.revoked = True

    with httpx.Client(base_url="http://gocua.test", transport=httpx.MockTransport(fake.handle)) as http:
        faked = answers(Side(http, fake.device_id, fake.token, str(uuid7()), revoke_fake))

    assert real["a first push"] == (200, None, ["acked_seq", "caught_up", "cursors", "quarantined", "team_settings"])  # the situations are the ones meant
    assert real["revoked"][:2] == (403, "revoked")
    assert faked == real
