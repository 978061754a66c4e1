"""SQLite's WAL is copied back into the database (checkpointed) by a thread after a writer has
released the write lock, not inside its COMMIT (store/checkpoints.py, Checkpointer), decided from what
SQLite tells the writer, never from the database's files (tests/server/test_db_files.py).

No fixed sleep: each test waits for the checkpoint thread itself (Checkpointer.wait)."""
from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from sync_server.store import checkpoints as ck
from sync_server.store import db

PAGE_ROW = b"x" * 3000  # most of a 4 KiB page: a row a page, about


def _passive(path: str) -> tuple[int, int, int]:
    """(busy, frames in the WAL, frames copied) from a checkpoint of a plain connection's own."""
    with sqlite3.connect(path) as check:
        busy, log, done = check.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return int(busy), int(log), int(done)


@pytest.fixture
def blobs(tmp_path: Path) -> Iterator[tuple[str, Engine, ck.Checkpointer]]:
    """(path, engine, its Checkpointer) of a server database holding an empty table of blobs."""
    path = str(tmp_path / "wal.db")
    engine = db.make_engine(f"sqlite:///{path}")
    checkpoints = ck.checkpoints_of(engine)
    assert checkpoints is not None
    with db.write_transaction(engine) as conn:
        conn.exec_driver_sql("CREATE TABLE blobs (b BLOB)")
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == ck.BACKSTOP_FRAMES
    yield path, engine, checkpoints
    engine.dispose()


def _write(engine: Engine, rows: int) -> None:
    with db.write_transaction(engine) as conn:
        conn.exec_driver_sql("INSERT INTO blobs VALUES (?)", [(PAGE_ROW,)] * rows)


def test_a_commit_leaves_the_checkpoint_to_the_thread_below_the_backstop(
        blobs: tuple[str, Engine, ck.Checkpointer]) -> None:
    path, engine, checkpoints = blobs
    rows = 0
    while rows < 1500:  # more pages than SQLite's own wal_autocheckpoint (1,000), fewer rows than ours
        _write(engine, 100)
        rows += 100
    assert rows < ck.CHECKPOINT_ROWS
    checkpoints.wait()
    assert checkpoints.last is None  # the thread never ran
    _busy, log, _done = _passive(path)
    assert log >= 1500  # and no COMMIT checkpointed: every page written is still in the WAL


def test_the_thread_checkpoints_once_the_writers_changed_enough_rows_and_the_wal_stays_bounded(
        blobs: tuple[str, Engine, ck.Checkpointer]) -> None:
    path, engine, checkpoints = blobs
    logs = []
    for _ in range(4 * ck.CHECKPOINT_ROWS // 200):
        _write(engine, 200)
        checkpoints.wait()
        if checkpoints.last is not None:
            busy, log, done = checkpoints.last
            assert busy == 0 and done == log  # no reader in the way: the whole WAL copied
            logs.append(log)
    assert len(logs) >= 3
    # the WAL starts again from its beginning after a whole checkpoint: never much more than
    # one threshold's pages in it (a row a page here), not everything ever written
    assert max(logs) < ck.CHECKPOINT_ROWS + 400
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT count(*) FROM blobs").fetchone() == (4 * ck.CHECKPOINT_ROWS,)


def _write_and_read(path: str, worker: int, transactions: int) -> None:
    """One server process's share: write transactions of 100 rows each, while a reader thread
    of the same process keeps reading (SQLite's read marks are what a careless checkpoint broke).
    With the -shm read of issue #16 put back in after_write, this test failed 1 run in 4 here
    (a worker killed by SIGBUS): it can catch that kind of fault, not on every run."""
    engine = db.make_engine(f"sqlite:///{path}")
    done = threading.Event()
    problems: list[str] = []

    def read() -> None:
        while not done.is_set():
            with db.read_transaction(engine) as conn:
                n = conn.exec_driver_sql("SELECT count(*) FROM rows").scalar_one()
                if n != conn.exec_driver_sql("SELECT count(*) FROM rows").scalar_one():
                    problems.append("a read transaction saw two counts")

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(transactions):
            with db.write_transaction(engine) as conn:
                conn.exec_driver_sql("INSERT INTO rows VALUES (?, ?, ?)",
                                     [(worker, i, PAGE_ROW[:500])] * 100)
    finally:
        done.set()
        reader.join()
        engine.dispose()
    if problems:
        raise AssertionError(problems[0])


def test_two_processes_writing_and_reading_with_checkpoints_keep_the_database_whole(tmp_path: Path) -> None:
    path = str(tmp_path / "two.db")
    engine = db.make_engine(f"sqlite:///{path}")
    with db.write_transaction(engine) as conn:
        conn.exec_driver_sql("CREATE TABLE rows (worker INTEGER, i INTEGER, b BLOB)")
    engine.dispose()
    transactions = 5 * ck.CHECKPOINT_ROWS // 100  # five checkpoints a process, or so
    spawn = multiprocessing.get_context("spawn")
    workers = [spawn.Process(target=_write_and_read, args=(path, w, transactions)) for w in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0]
    with sqlite3.connect(path) as check:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert check.execute("SELECT worker, count(*) FROM rows GROUP BY worker ORDER BY worker").fetchall() == [
            (0, transactions * 100), (1, transactions * 100)]
