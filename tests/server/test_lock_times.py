"""store/lock_times.py (GOCUA_LOCK_TIMES): each write transaction's hold of the server-wide lock,
from the lock taken to the COMMIT done, and the writing thread's CPU meanwhile; nothing for a read,
nothing when not configured."""
from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import Engine, text

from sync_server.store import lock_times
from sync_server.store.db import read_transaction, write_transaction


def _lines(path: Path) -> list[list[float]]:
    return [[float(x) for x in line.split()] for line in path.read_text().splitlines()]


def test_each_write_transaction_is_recorded_from_the_lock_to_its_commit(migrated_engine: Engine,
                                                                         tmp_path: Path) -> None:
    path = tmp_path / "lock.log"
    with write_transaction(migrated_engine) as conn:  # before it is configured: not recorded
        conn.execute(text("UPDATE devices SET acked_seq = 0 WHERE id = 'none'"))
    lock_times.record_to(migrated_engine, str(path))
    before = time.monotonic()
    with write_transaction(migrated_engine) as conn:
        conn.execute(text("UPDATE devices SET acked_seq = 0 WHERE id = 'none'"))  # the lock, at the first statement
        spin_until = time.thread_time() + 0.02  # 20 ms of this thread's CPU inside the transaction
        while time.thread_time() < spin_until:
            pass
    with read_transaction(migrated_engine) as conn:  # a read takes no lock: not recorded
        conn.execute(text("SELECT count(*) FROM devices")).scalar_one()
    after = time.monotonic()
    [(ended, held_ms, cpu_ms)] = _lines(path)
    assert before <= ended <= after
    assert 20 <= cpu_ms <= held_ms <= (after - before) * 1000


def test_a_write_that_fails_is_recorded_too_and_the_next_is_timed_afresh(migrated_engine: Engine,
                                                                        tmp_path: Path) -> None:
    path = tmp_path / "lock.log"
    lock_times.record_to(migrated_engine, str(path))
    try:
        with write_transaction(migrated_engine) as conn:
            conn.execute(text("UPDATE devices SET acked_seq = 0 WHERE id = 'none'"))
            raise LookupError("the push was refused")
    except LookupError:
        pass
    started = time.monotonic()
    with write_transaction(migrated_engine) as conn:
        conn.execute(text("UPDATE devices SET acked_seq = 0 WHERE id = 'none'"))
    lines = _lines(path)
    assert len(lines) == 2  # the rolled-back one held the lock as long as it ran
    assert lines[1][1] <= (time.monotonic() - started) * 1000  # timed from its own lock, not the last one's


def test_a_write_outside_the_managed_transactions_leaves_nothing_behind(migrated_engine: Engine,
                                                                       tmp_path: Path) -> None:
    """A transaction of someone else's making (a migration's `engine.begin()`) that writes takes the
    lock on SQLite and is not recorded; the read after it on the same pooled connection is not
    recorded either (no start time of the write's left on the connection)."""
    path = tmp_path / "lock.log"
    lock_times.record_to(migrated_engine, str(path))
    migrated_engine.dispose()  # one connection in the pool from here: the read below gets the write's
    with migrated_engine.begin() as conn:
        conn.execute(text("UPDATE devices SET acked_seq = 0 WHERE id = 'none'"))
    with read_transaction(migrated_engine) as conn:
        conn.execute(text("SELECT count(*) FROM devices")).scalar_one()
    assert _lines(path) == []
