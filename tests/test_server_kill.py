"""A real server process is SIGKILLed again and again while a device pushes.

Nothing the device recorded may be lost or stored twice: after the last
restart the receipt agrees, every seq is held once and the totals equal a
recount. Loopback only, bounded in events and time.
"""
from __future__ import annotations

import random
import threading

from sqlalchemy import select

from field_app.net.errors import SyncError
from field_app.net.sync import SyncClient
from sync_server.store import schema as t
from sync_server.store.db import make_engine

from .support import cli, enrolled_store, wait_until

EVENTS = 600
KILLS = 4


def test_device_survives_a_server_killed_mid_push(server, admin, hamlet, tmp_path):
    store = enrolled_store(tmp_path / "device", server.url, server.code("volunteer", hamlets=(hamlet,)))
    client = SyncClient(store, timeout=5, batch_size=50)
    client.sync_once()
    rng = random.Random(7)
    made = [0]  # events recorded so far: the kills are timed by the device's progress, not by a clock
    failures: list[str] = []
    crashed: list[BaseException] = []

    def work() -> None:
        try:
            households: list[str] = []
            for i in range(EVENTS):
                if not households or rng.random() < 0.3:
                    households.append(store.add_household(hamlet, f"Số {i}", "given"))
                else:
                    store.add_person(rng.choice(households), None, 1980, "home", "cccd_chip", "l1_active")
                made[0] = i + 1
                if i % 25 == 0:
                    try:
                        client.sync_once()
                    except SyncError as bad:
                        failures.append(type(bad).__name__)
        except BaseException as bad:  # a crash here must fail the test, not end the thread quietly
            crashed.append(bad)

    # killed at four points of the device's work (kept well before its last sync, at event 576)
    kill_points = sorted(random.Random(11).sample(range(40, 400), KILLS))
    worker = threading.Thread(target=work)
    worker.start()
    for at in kill_points:
        wait_until(lambda at=at: made[0] >= at or not worker.is_alive(), 60)
        failures_before = len(failures)
        server.kill()
        # the device tries while the server is down: at least one push of each outage fails
        wait_until(lambda n=failures_before: len(failures) > n or not worker.is_alive(), 60)
        server.start()
    worker.join(60)
    assert not worker.is_alive()
    assert crashed == []
    # Every failure the device saw is "no connection": never a refusal, a bad answer or a
    # seq conflict, which would mean the server lost or garbled what it had acknowledged.
    assert failures and set(failures) == {"Offline"}, failures
    assert len(failures) >= KILLS, "a kill the device never noticed: the test proved less than it says"

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
