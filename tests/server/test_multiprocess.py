"""Several server processes on one database keep every guarantee.

Three `gocua-server serve` processes share one PostgreSQL database (and, in a
second run, one SQLite file): two single-worker servers on their own ports and
one with `--workers 2`. Devices push overlapping,
retried, concurrent and premature batches through all of them at once, while a
puller pulls through all of them. Nothing may be lost or stored twice, every
device's receipt must equal what it sent, and the puller must see cursors only
grow and never skip one: what it saw equals a full pull made afterwards.
"""
from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from campaign import events as ev
from campaign.ids import uuid7
from sync_server.store.db import make_engine

from ..support import (
    Device,
    PostgresDatabases,
    Server,
    cli,
    database_url,
    enrolled_device,
    hamlet_data,
    household_data,
    issue_code,
    person_data,
)

DEVICES = 6
EVENTS_PER_DEVICE = 240
DEADLINE_S = 40  # the pushes and the pull together; the whole test stays well under a minute


@pytest.fixture(scope="module", params=[pytest.param("postgresql", marks=pytest.mark.postgres), "sqlite"])
def cluster(request: pytest.FixtureRequest, pg_databases: PostgresDatabases,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[Server]]]:
    url = database_url(request.param, tmp_path_factory.mktemp("multiprocess"), pg_databases)
    cli(url, "init")
    servers = [Server(url), Server(url), Server(url, workers=2)]
    try:
        with ThreadPoolExecutor(len(servers)) as pool:
            list(pool.map(Server.start, servers))
        yield url, servers
    finally:
        for server in servers:
            server.stop()


def enrol(url: str, servers: list[Server], role: str, hamlets: tuple[str, ...] = ()) -> Device:
    """A code written in-process (as `gocua-server enroll` writes it), spent through a server."""
    engine = make_engine(url)
    try:
        code = issue_code(engine, role, hamlets=hamlets)
    finally:
        engine.dispose()
    return enrolled_device(random.choice(servers), code)


def make_events(device: Device, hamlet: str, n: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while len(events) < n:
        household = uuid7()
        events.append(device.event("household.created", household, household_data(hamlet, f"Số {len(events)}")))
        people = [uuid7(), uuid7()]
        events += [device.event("person.added", p, person_data(household, f"Người {i + 1}"))
                   for i, p in enumerate(people)]
        events.append(device.event("person.updated", people[0], {"vneid": "l1_active"}))
        events.append(device.event("visit.recorded", uuid7(), {
            "household_id": household, "outcome": "met", "actions": ["l1_help"],
            "people_helped": people[:1], "note": ""}))
    del events[n:]
    device.seq = n
    return events


def push(server: Server, device: Device, batch: list[dict[str, Any]]) -> httpx.Response:
    return httpx.post(server.url + "/api/v1/sync/push", json={"schema": 1, "events": batch},
                      headers=device.headers, timeout=30)


def test_two_servers_and_two_workers_lose_nothing_and_pullers_never_skip(cluster):
    url, servers = cluster
    admin = enrol(url, servers, "admin")
    hamlets = [uuid7(), uuid7()]
    answer = push(servers[1], admin, [admin.event("hamlet.created", h, hamlet_data(f"Ấp {i}"))
                                      for i, h in enumerate(hamlets)])
    assert answer.status_code == 200 and answer.json()["quarantined"] == [], answer.text
    volunteers = [enrol(url, servers, "volunteer", (hamlets[i % 2],)) for i in range(DEVICES)]
    sent = {v.id: make_events(v, hamlets[i % 2], EVENTS_PER_DEVICE) for i, v in enumerate(volunteers)}
    sent[admin.id] = []  # the hamlets: checked by the receipt below
    puller = enrol(url, servers, "admin")

    failures: list[str] = []
    statuses: Counter[int] = Counter()
    pushing = threading.Event()
    pushing.set()
    deadline = time.monotonic() + DEADLINE_S

    def device_loop(index: int, device: Device) -> None:
        rng = random.Random(index)
        events = sent[device.id]
        acked = 0
        lock = threading.Lock()

        def send(server: Server, batch: list[dict[str, Any]]) -> None:
            nonlocal acked
            answer = push(server, device, batch)
            statuses[answer.status_code] += 1
            if answer.status_code == 429:
                time.sleep(0.5)
                return
            body = answer.json()
            if answer.status_code == 200:
                if body["quarantined"]:
                    failures.append(f"quarantined: {body['quarantined'][:2]}")
            elif answer.status_code != 409 or body.get("error") != "gap":
                failures.append(f"{device.id[:8]} via :{server.port}: {answer.status_code} {answer.text[:200]}")
                return
            with lock:
                acked = max(acked, body["acked_seq"])

        with ThreadPoolExecutor(3) as pool:
            while acked < len(events) and time.monotonic() < deadline and not failures:
                start = max(0, acked - rng.randint(0, 30))  # resend some acknowledged ones too
                batch = events[start:start + rng.randint(15, 70)]
                jobs = [pool.submit(send, server, batch)  # the same batch through two servers at once
                        for server in rng.sample(servers, rng.choice((1, 2, 2, 3)))]
                ahead = start + len(batch)
                if rng.random() < 0.3 and ahead < len(events):  # and one sent before the one before it is in
                    jobs.append(pool.submit(send, rng.choice(servers), events[ahead:ahead + rng.randint(10, 40)]))
                for job in jobs:
                    job.result()
        if acked < len(events):
            failures.append(f"{device.id[:8]} acknowledged {acked} of {len(events)}")

    seen: list[tuple[int, str]] = []
    seen_while_pushing = 0

    def pull_loop() -> None:
        nonlocal seen_while_pushing
        rng = random.Random(99)
        after = 0
        with httpx.Client(timeout=30) as client:
            while time.monotonic() < deadline + 10:
                still_pushing = pushing.is_set()
                server = rng.choice(servers)
                page = client.get(server.url + "/api/v1/sync/pull", headers=puller.headers,
                                  params={"after": after, "limit": rng.choice((7, 37, 200))})
                assert page.status_code == 200, page.text
                body = page.json()
                for event in body["events"]:
                    if event["cursor"] <= after:
                        failures.append(f"cursor {event['cursor']} after {after}: not strictly increasing")
                    after = event["cursor"]
                    seen.append((event["cursor"], event["id"]))
                    if still_pushing:
                        seen_while_pushing += 1
                if body["next"] != after:
                    failures.append(f"next {body['next']} is not the last cursor {after}")
                if not body["more"] and not still_pushing:
                    return  # caught up after the last push
                if not body["more"]:
                    time.sleep(0.02)

    started = time.monotonic()
    puller_thread = threading.Thread(target=pull_loop)
    puller_thread.start()
    with ThreadPoolExecutor(DEVICES) as pool:
        list(pool.map(device_loop, range(DEVICES), volunteers))
    pushing.clear()
    puller_thread.join(30)
    assert not puller_thread.is_alive(), "the puller did not catch up"
    assert not failures, failures[:5]
    assert statuses[200] > DEVICES and statuses[409] > 0, statuses  # retries and gaps were exercised
    print(f"pushes answered: {dict(statuses)}; events pulled while pushing: {seen_while_pushing}")
    assert time.monotonic() - started < DEADLINE_S + 10

    # every (device, seq) once, nothing lost: the receipts, through every server
    for device in volunteers:
        events = sent[device.id]
        expected = {"acked_seq": len(events), "counts": dict(Counter(e["kind"] for e in events)),
                    "digest": ev.digest(ev.canonical(e) for e in events)}
        for server in servers:
            receipt = httpx.get(server.url + "/api/v1/sync/receipt", headers=device.headers, timeout=30).json()
            assert receipt == expected, (device.id, server.port)

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            twice = conn.exec_driver_sql("SELECT device_id, seq FROM events GROUP BY device_id, seq "
                                         "HAVING count(*) > 1").fetchall()
            assert twice == []
            per_device = dict(conn.exec_driver_sql("SELECT device_id, count(*) FROM events GROUP BY device_id").all())
            assert per_device == {admin.id: 2, **{v.id: EVENTS_PER_DEVICE for v in volunteers}}
            count, low, high = conn.exec_driver_sql('SELECT count(*), min("cursor"), max("cursor") FROM events').one()
            assert (low, high) == (1, count), "cursors are dense: none assigned and lost"
    finally:
        engine.dispose()

    # the continuous puller saw exactly what a full pull sees now, in the same order
    final = [(e["cursor"], e["id"]) for e in Device(servers[0], puller.id, puller.token, "admin").pull_all(limit=500)]
    assert len(final) == 2 + DEVICES * EVENTS_PER_DEVICE
    assert seen == final
    assert seen_while_pushing > 0, "the puller should have pulled while the pushes ran"
