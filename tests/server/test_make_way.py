"""A push's planner makes way for its own process's writer (store/db.py `make_way`): while a
write transaction of the process holds the server-wide lock, a planner waits before its next
event, since the two would take turns on the GIL anyway and the lock is everyone's.

Driven by events, not sleeps: the planner's wait is observed through WriterAtWork.wait."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine

from sync_server.store import db

SETTLE_S = 3  # only ever reached if the code under test is broken


def _instrument_waits(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, list[int]]:
    """An event set when any thread starts waiting for the writer, and the threads that did."""
    at_work = db.writer_at_work(engine)
    waiting, waiters = threading.Event(), []
    real_wait = at_work.wait

    def wait(at_most_s: float) -> None:
        waiters.append(threading.get_ident())
        waiting.set()
        real_wait(at_most_s)
    monkeypatch.setattr(at_work, "wait", wait)
    return waiting, waiters


def test_a_planner_waits_while_a_writer_of_its_process_holds_the_lock(
        migrated_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    waiting, _waiters = _instrument_waits(migrated_engine, monkeypatch)
    holding, release = threading.Event(), threading.Event()
    order: list[str] = []

    def writer() -> None:
        with db.write_transaction(migrated_engine) as conn:
            conn.exec_driver_sql("SELECT 1")  # the first statement takes the lock
            holding.set()
            release.wait(SETTLE_S)
            order.append("writer done")

    def planner() -> None:
        db.make_way(migrated_engine)()
        order.append("planner went on")

    writing = threading.Thread(target=writer)
    writing.start()
    assert holding.wait(SETTLE_S)
    assert db.writer_at_work(migrated_engine).working()
    planning = threading.Thread(target=planner)
    planning.start()
    assert waiting.wait(SETTLE_S), "the planner did not wait for the writer"
    release.set()
    writing.join(SETTLE_S)
    planning.join(SETTLE_S)
    assert order == ["writer done", "planner went on"]
    assert not db.writer_at_work(migrated_engine).working()


def test_the_writer_itself_and_a_process_without_a_writer_never_wait(
        migrated_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    _waiting, waiters = _instrument_waits(migrated_engine, monkeypatch)
    db.make_way(migrated_engine)()  # no writer
    with db.write_transaction(migrated_engine) as conn:
        conn.exec_driver_sql("SELECT 1")
        assert not db.writer_at_work(migrated_engine).working()  # not for its own thread
        db.make_way(migrated_engine)()  # a push worked out under the lock (the import's) goes on
    assert waiters == []


def test_a_writer_that_fails_leaves_no_one_waiting(migrated_engine: Engine) -> None:
    with pytest.raises(RuntimeError), db.write_transaction(migrated_engine) as conn:
        conn.exec_driver_sql("SELECT 1")
        raise RuntimeError("a push refused half way")
    at_work = db.writer_at_work(migrated_engine)
    assert not at_work.working() and at_work._writer is None


def test_a_planners_waits_are_bounded_in_all(migrated_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    # a writer that holds the lock for long (an import) slows a planner by MAKE_WAY_AT_MOST_S at
    # most, whatever the number of its events: the clock is the test's
    now = [0.0]
    monkeypatch.setattr(db.time, "monotonic", lambda: now[0])
    at_work = db.writer_at_work(migrated_engine)
    waited: list[float] = []

    def wait(at_most_s: float) -> None:
        waited.append(at_most_s)
        now[0] += at_most_s  # as if the writer held on for all of it
    monkeypatch.setattr(at_work, "wait", wait)
    monkeypatch.setattr(at_work, "working", lambda: True)
    courtesy = db.make_way(migrated_engine)
    for _ in range(500):
        courtesy()
    assert waited == [db.MAKE_WAY_AT_MOST_S]
