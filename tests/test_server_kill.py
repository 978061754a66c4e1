"""A real server process is SIGKILLed again and again while a device pushes.

Nothing the device recorded may be lost or stored twice: after the last
restart the receipt agrees, every seq is held once and the totals equal a
recount. Loopback only, bounded in events and time.
"""
from __future__ import annotations

import random
import threading
import time

from sqlalchemy import select

from field_app.net.errors import SyncError
from field_app.net.sync import SyncClient
from sync_server.store import schema as t
from sync_server.store.db import make_engine

from .support import cli, new_store

EVENTS = 600
KILLS = 4


def test_device_survives_a_server_killed_mid_push(server, admin, hamlet, tmp_path):
    code = server.code("volunteer", hamlets=(hamlet,))
    store = new_store(tmp_path / "device")
    import httpx
    answer = httpx.post(server.url + "/api/v1/enroll", json={"code": code}).json()
    store.enrol(server.url, answer["device_id"], answer["token"], answer["role"], answer["scope"])
    client = SyncClient(store, timeout=5, batch_size=50)
    client.sync_once()
    rng = random.Random(7)
    stop = threading.Event()
    failures: list[str] = []

    def work() -> None:
        households: list[str] = []
        for i in range(EVENTS):
            if not households or rng.random() < 0.3:
                households.append(store.add_household(hamlet, f"Số {i}", "given"))
            else:
                store.add_person(rng.choice(households), None, 1980, "home", "cccd_chip", "l1_active")
            if i % 25 == 0:
                try:
                    client.sync_once()
                except SyncError as bad:
                    failures.append(type(bad).__name__)
        stop.set()

    worker = threading.Thread(target=work)
    worker.start()
    deadline = time.monotonic() + 60
    kills = 0
    while not stop.is_set() and kills < KILLS and time.monotonic() < deadline:
        time.sleep(rng.uniform(0.2, 0.8))
        server.kill()
        kills += 1
        time.sleep(0.2)
        server.start()
    worker.join(60)
    assert not worker.is_alive()
    assert kills >= 1, "the server was never killed: the test proved nothing"

    for _ in range(3):
        client.sync_once()
    assert store.pending_count() == 0
    check = client.check_receipt()
    assert check.agree, check.differences
    assert check.server["acked_seq"] == store.last_seq == EVENTS
    engine = make_engine(server.db_url)
    try:
        with engine.connect() as conn:
            seqs = conn.execute(select(t.events.c.seq).where(t.events.c.device_id == store.device_id)
                                .order_by(t.events.c.seq)).scalars().all()
    finally:
        engine.dispose()
    assert seqs == list(range(1, EVENTS + 1))
    assert cli(server.db_url, "recount").returncode == 0
    client.close()
    store.close()
