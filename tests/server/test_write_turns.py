"""Write transactions take turns in the process, first come first served, before they take a
pooled connection (store/db.py, WriteTurns): a writer waiting for the lock holds no connection,
so a read gets one while writers queue (issue #16, 1,000 devices).

No test here sleeps for a fixed time: threads and tasks are lined up with events, and a wait
for "queued" polls the turns' own count under a deadline that only a broken build reaches.
"""
from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, create_engine, text

from sync_server.store import db

from ..support import PostgresDatabases

DEADLINE_S = 30.0  # only reached when the code is broken (then the test fails, never hangs)


def _until(done: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError("never happened")
        threading.Event().wait(0.001)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path, pg_databases: PostgresDatabases) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    """Two pooled connections and no overflow; a checkout that finds none fails after 5 s
    instead of waiting on (the failure a writer holding a connection while it queues causes)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'turns.db'}"
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_size=2, max_overflow=0, pool_timeout=5)
        db._tune_sqlite(engine)
    else:
        engine = create_engine(pg_databases.create(), pool_size=2, max_overflow=0, pool_timeout=5)
        db._tune_postgres(engine)
    with db.write_transaction(engine) as conn:
        conn.execute(text("CREATE TABLE marks (who text)"))
    yield engine
    engine.dispose()


def _writer(engine: Engine, who: str, order: list[str], holding: threading.Event | None = None,
            go: threading.Event | None = None) -> threading.Thread:
    def run() -> None:
        with db.write_transaction(engine) as conn:
            conn.execute(text("INSERT INTO marks VALUES (:w)"), {"w": who})  # takes the lock
            order.append(who)
            if holding is not None and go is not None:
                holding.set()
                go.wait()
    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_queued_writer_holds_no_connection_so_a_read_gets_one(engine: Engine) -> None:
    turns = db.write_turns(engine)
    order: list[str] = []
    holding, go = threading.Event(), threading.Event()
    first = _writer(engine, "first", order, holding, go)
    assert holding.wait(DEADLINE_S)  # the first writer holds the lock and one connection
    second = _writer(engine, "second", order)
    _until(lambda: turns.waiting() == 1)
    try:
        with db.read_transaction(engine) as conn:  # the pool's other connection: free
            assert conn.execute(text("SELECT count(*) FROM marks")).scalar_one() == 0
    finally:
        go.set()
        first.join()
        second.join()
    assert order == ["first", "second"]


def test_writers_write_in_the_order_they_asked(engine: Engine) -> None:
    turns = db.write_turns(engine)
    order: list[str] = []
    holding, go = threading.Event(), threading.Event()
    first = _writer(engine, "w0", order, holding, go)
    assert holding.wait(DEADLINE_S)
    waiting = []
    for i in range(1, 6):  # each queued before the next one asks
        waiting.append(_writer(engine, f"w{i}", order))
        _until(lambda i=i: turns.waiting() == i)  # type: ignore[misc]
    go.set()
    for thread in [first, *waiting]:
        thread.join()
    assert order == [f"w{i}" for i in range(6)]
    with db.read_transaction(engine) as conn:
        assert [w for (w,) in conn.execute(text("SELECT who FROM marks"))] == order


def test_threads_and_tasks_share_one_queue_and_a_cancelled_task_gives_its_turn_on(engine: Engine) -> None:
    """A push waits in the event loop (taken_async), other writers in threads: one queue. A
    task cancelled while it waits (its client went away) neither writes nor stalls the queue."""
    turns = db.write_turns(engine)
    order: list[str] = []
    holding, go = threading.Event(), threading.Event()
    first = _writer(engine, "thread 1", order, holding, go)
    assert holding.wait(DEADLINE_S)

    async def task_write(who: str) -> None:
        async with turns.taken_async():
            await asyncio.to_thread(_write_in_turn, engine, who, order)

    async def main() -> None:
        task = asyncio.create_task(task_write("task 1"))
        gone = asyncio.create_task(task_write("cancelled"))
        while turns.waiting() < 2:
            await asyncio.sleep(0)
        gone.cancel()
        with pytest.raises(asyncio.CancelledError):
            await gone
        assert turns.waiting() == 1
        second = _writer(engine, "thread 2", order)
        await asyncio.to_thread(_until, lambda: turns.waiting() == 2)
        go.set()
        await task
        await asyncio.to_thread(second.join)

    asyncio.run(main())
    first.join()
    assert order == ["thread 1", "task 1", "thread 2"]
    assert turns.waiting() == 0


def _write_in_turn(engine: Engine, who: str, order: list[str]) -> None:
    with db.write_transaction(engine, turn_taken=True) as conn:
        conn.execute(text("INSERT INTO marks VALUES (:w)"), {"w": who})
        order.append(who)


def test_a_write_transaction_inside_another_is_refused_not_hung(engine: Engine) -> None:
    with db.write_transaction(engine), pytest.raises(RuntimeError), db.write_transaction(engine):
        pass
    with db.write_transaction(engine) as conn:  # and the turn was given back
        conn.execute(text("INSERT INTO marks VALUES ('after')"))
