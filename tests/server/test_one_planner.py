"""A worker process plans one push at a time (api/sync.py `planners`): a second push waits for
the first one's plan in the event loop, before any thread works it out, and is planned after it.

Driven by events: the first plan is held open by the test, and the second push is seen waiting
in the planner's queue (the limiter's own statistics), not guessed from a sleep."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from campaign.ids import uuid7
from sync_server.api import sync
from sync_server.app import create_app
from sync_server.config import Settings
from sync_server.services import enrolment, ingest
from sync_server.store import migrate
from sync_server.store.db import make_engine, write_transaction

from ..support import hamlet_data, wire_event

SETTLE_S = 10  # only ever reached if the code under test is broken


@pytest.fixture()
def client(tmp_path: Path) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path / 'planner.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    settings = replace(Settings.from_env(), database_url=url, public_url="http://testserver")
    with TestClient(create_app(settings, engine)) as made:  # one event loop for every request
        yield made
    engine.dispose()


def _admin(client: TestClient) -> dict[str, str]:
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with write_transaction(engine) as conn:
        code, _ = enrolment.create_enrolment(conn, "admin", None, None, None, ttl_hours=1)
    body = client.post("/api/v1/enroll", json={"code": code}).json()
    return {"id": body["device_id"], "Authorization": f"Bearer {body['token']}"}


def _push_a_hamlet(client: TestClient, device: dict[str, str], answers: list[int]) -> None:
    event = wire_event(device["id"], 1, "hamlet.created", uuid7(), hamlet_data(f"Tổ {device['id'][:6]}"))
    answer = client.post("/api/v1/sync/push", json={"schema": 1, "events": [event]},
                         headers={"Authorization": device["Authorization"]})
    answers.append(answer.status_code)


def _waiting_for_the_planner(n: int) -> bool:
    """Whether n pushes wait in a planner's queue, looked at until SETTLE_S at the most."""
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline:
        if any(limiter.statistics().tasks_waiting == n for limiter in list(sync._PLANNERS.values())):
            return True
        threading.Event().wait(0.005)  # a pause between looks, not a guess at when it happens
    return False


def test_a_second_push_is_planned_after_the_first(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = _admin(client), _admin(client)
    real_plan = ingest.plan
    entered, release = threading.Event(), threading.Event()
    order: list[str] = []
    planning = {"now": 0, "most": 0}

    def plan(conn: Any, device: Any, *args: Any, **kw: Any) -> ingest.Plan:
        planning["now"] += 1
        planning["most"] = max(planning["most"], planning["now"])
        order.append(f"{device.id} planning")
        if device.id == first["id"]:
            entered.set()
            release.wait(SETTLE_S)  # held open until the second push is seen waiting
        try:
            return real_plan(conn, device, *args, **kw)
        finally:
            planning["now"] -= 1
            order.append(f"{device.id} planned")
    monkeypatch.setattr(ingest, "plan", plan)

    answers: list[int] = []
    one = threading.Thread(target=_push_a_hamlet, args=(client, first, answers))
    one.start()
    assert entered.wait(SETTLE_S), "the first push was never planned"
    two = threading.Thread(target=_push_a_hamlet, args=(client, second, answers))
    two.start()
    waited = _waiting_for_the_planner(1)
    release.set()
    one.join(SETTLE_S)
    two.join(SETTLE_S)
    assert waited, "the second push did not wait for the first one's plan"
    assert answers == [200, 200]
    assert planning["most"] == 1
    assert order == [f"{first['id']} planning", f"{first['id']} planned",
                     f"{second['id']} planning", f"{second['id']} planned"]
