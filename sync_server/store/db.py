"""Engines for SQLite (one laptop) and PostgreSQL (a province), and the write lock.

Writes that assign cursors are serialised: SQLite by BEGIN IMMEDIATE (one
writer at a time, readers go on in WAL), PostgreSQL by a transaction-scoped
advisory lock. Serial cursor assignment is what lets a puller trust that no
event will ever appear behind a cursor it has already passed.

The lock is taken at a write transaction's first statement, not when it opens,
so that work needing no database (a push's validation) runs while another
request holds it; everything the transaction reads or writes still happens
under the lock.

SQLite: a transaction says BEGIN at its first statement, IMMEDIATE for a write
transaction and for one whose first statement writes (short_write_transaction:
a pull noting when the device last pulled, an audit row), DEFERRED otherwise.
Before BEGIN IMMEDIATE a writer queues on a file lock beside the database
(`…-writer.lock`, POSIX only), so that it wakes the moment the writer before it is done, instead of polling in SQLite's
busy handler with sleeps of up to 100 ms.

Within a process, write transactions also take turns, first come first served, BEFORE they
take a connection from the pool (WriteTurns): the lock is the server's one queue anyway, and
a writer waiting for it on a pooled connection holds that connection idle. Without the turns
the pushes queued on PostgreSQL's advisory lock held every pooled connection of a worker
(8 + 8 overflow) while the pulls and token lookups behind them waited for one (issue #16,
1,000 devices); with them one connection per process waits on the lock, the rest serve reads.
"""
from __future__ import annotations

import asyncio
import os
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine.interfaces import DBAPIConnection, DBAPICursor, ExecutionContext
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import ConnectionPoolEntry

from . import lock_times
from .checkpoints import BACKSTOP_FRAMES, Checkpointer, checkpoints_of, watch
from .per_engine import PerEngine

try:  # POSIX: a blocking file lock; elsewhere SQLite's busy handler does the waiting alone
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

WRITE_LOCK_KEY = 0x6F63_7561  # "ocua": the one advisory lock the server takes

# Keys in the DBAPI connection's info dict.
_BEGIN = "gocua_begin"  # a transaction opened, its BEGIN not said yet: "write" | "read"
_FILE_LOCK = "gocua_file_lock"  # the descriptor holding the writer file lock
_MANAGED = "gocua_managed"  # inside write_transaction/read_transaction: released after COMMIT
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLAC")
_CHANGES = "gocua_changes"  # the SQLite connection's total_changes when its write transaction began
_LOCK_SUFFIX = "-writer.lock"
_AT_WORK = "gocua_at_work"  # this transaction holds the server-wide lock now (WriterAtWork)
_IDLE_SINCE = "gocua_idle_since"  # when the pooled connection was last handed back (monotonic s)
_LOCKED_AT = "gocua_locked_at"  # (monotonic s, thread CPU s) when the lock was taken (lock_times)

# A PostgreSQL connection idle in the pool this long is pinged before use (see _ping_when_idle).
PING_AFTER_IDLE_S = 5.0


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_size=8, max_overflow=16)
        _tune_sqlite(engine)
        return engine
    engine = create_engine(url, pool_size=8, max_overflow=8)
    _ping_when_idle(engine)
    _tune_postgres(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's pool_pre_ping, for connections that sat idle only. pool_pre_ping costs a
    round trip to the database at every checkout, i.e. every transaction: GET /totals is two
    (the token, then the reads), a device's sync five, and on the 2-core bench machine each round
    trip is a switch to the PostgreSQL process and back (issue #16: one commune's totals p95,
    1,000 devices). A connection back in the pool less than PING_AFTER_IDLE_S ago was working
    then; one idle longer (a quiet night, a database restart) is pinged, and a dead one replaced
    before the request sees it (DisconnectionError: the pool retries with a new connection). A
    restart during busy traffic fails each pooled connection's next statement once, and
    SQLAlchemy then drops the whole pool (its disconnect handling): the devices retry their sync."""
    @event.listens_for(engine, "checkin")
    def idle_from(_dbapi_conn: DBAPIConnection, record: ConnectionPoolEntry) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_conn: DBAPIConnection, record: ConnectionPoolEntry, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is not None and time.monotonic() - since < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(str(exc)) from exc


def _tune_sqlite(engine: Engine) -> None:
    lock_path = _lock_path(engine) if fcntl is not None else None
    checkpoints: Checkpointer | None = None
    if lock_path is not None:
        checkpoints = watch(engine, lock_path.removesuffix(_LOCK_SUFFIX))

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        if checkpoints is not None:  # the Checkpointer's, after the lock is released (below)
            cur.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_FRAMES}")
        cur.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn: Connection) -> None:
        conn.info[_BEGIN] = "write" if conn.get_execution_options().get("write_lock") else "read"

    @event.listens_for(engine, "before_cursor_execute")
    def begin_now(conn: Connection, cursor: DBAPICursor, statement: str, parameters: Any,
                  context: ExecutionContext | None, executemany: bool) -> None:
        mode = conn.info.pop(_BEGIN, None)
        if mode is None:
            return
        if mode == "write" or statement.lstrip()[:6].upper() in _WRITES:
            if lock_path is not None:
                conn.info[_FILE_LOCK] = _file_lock(lock_path)
            cursor.execute("BEGIN IMMEDIATE")
            conn.info[_CHANGES] = cursor.connection.total_changes
            _at_work(conn)
        else:
            cursor.execute("BEGIN DEFERRED")

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def on_end(conn: Connection) -> None:
        if not conn.info.get(_MANAGED):  # a transaction of someone else's making: release now
            _release(conn.info)

    @event.listens_for(engine, "checkin")
    def on_checkin(_dbapi_conn: DBAPIConnection, record: ConnectionPoolEntry) -> None:
        _release(record.info)


def _tune_postgres(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get("write_lock"):
            conn.info[_BEGIN] = "write"

    @event.listens_for(engine, "before_cursor_execute")
    def lock_now(conn: Connection, cursor: DBAPICursor, statement: str, parameters: Any,
                 context: ExecutionContext | None, executemany: bool) -> None:
        if conn.info.pop(_BEGIN, None) == "write":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
            _at_work(conn)

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def on_end(conn: Connection) -> None:
        if not conn.invalidated:  # a connection the database dropped has no info to clear (and
            conn.info.pop(_BEGIN, None)  # asking raised PendingRollbackError over the real error)
            _done_working(conn.info)


def _lock_path(engine: Engine) -> str | None:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return os.path.abspath(database) + _LOCK_SUFFIX


def _file_lock(path: str) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # blocks (without the GIL) until the writer before us is done
    except BaseException:
        os.close(fd)
        raise
    return fd


def _release(info: dict[str, Any]) -> None:
    info.pop(_BEGIN, None)
    info.pop(_LOCKED_AT, None)  # _managed reads it before; a transaction of someone else's is not timed
    _done_working(info)
    if not info.get(_MANAGED):
        info.pop(_CHANGES, None)  # _managed reads it after the release; no one else does
    fd = info.pop(_FILE_LOCK, None)
    if fd is not None:
        os.close(fd)  # closing the descriptor releases the flock


def _total_changes(conn: Connection) -> int:
    return int(conn.connection.dbapi_connection.total_changes)  # type: ignore[union-attr]  # sqlite3's


def is_sqlite(conn: Connection | Engine) -> bool:
    return conn.dialect.name == "sqlite"


@contextmanager
def _managed(conn: Connection) -> Iterator[Connection]:
    conn.info[_MANAGED] = True
    try:
        with conn.begin():
            yield conn
    finally:  # after COMMIT or ROLLBACK: the next writer starts as this one is done
        began = conn.info.pop(_CHANGES, None)
        locked_at = conn.info.pop(_LOCKED_AT, None)
        _release(conn.info)
        if locked_at is not None and (times := lock_times.of(conn.engine)) is not None:
            # the thread's CPU read inside the wall interval at both ends (_at_work reads the wall
            # first), so the CPU it reports is never more than the time held
            cpu_now = time.thread_time()
            now = time.monotonic()
            times.record(now, now - locked_at[0], cpu_now - locked_at[1])
        conn.info.pop(_MANAGED, None)
        if (at_work := writer_at_work.made(conn.engine)) is not None:
            at_work.end_if_mine()  # also after a connection the database dropped (no info to read)
    # committed (an exception does not come here): a SQLite writer's checkpoint, out of the lock
    if began is not None and (checkpoints := checkpoints_of(conn.engine)) is not None:
        checkpoints.after_write(_total_changes(conn) - began)


# ---- the writer at work: a process's planners make way for it ---------------------------
#
# A push is worked out (ingest.plan) in a thread of the server process while another thread of
# the same process may hold the server-wide lock and write. Python runs one thread at a time
# (the GIL): while the writer waits on the database (every statement on PostgreSQL, a COMMIT),
# a planner takes the GIL, and the writer gets it back only when the planner is made to give
# it up, after sys.getswitchinterval() (5 ms). Measured here: a 250 µs round trip to
# PostgreSQL took 6.2 ms at the median beside one busy thread (issue #16); a push makes about
# ten under the lock, so the lock was held for waits on our own process. So a planner calls
# its `make_way` courtesy before each event it works out, and waits while a writer of its
# process holds the lock (MAKE_WAY_AT_MOST_S in all at the most): the two take turns anyway,
# and the lock, held for the server as a whole, is the costlier to keep waiting. A planner of
# another process is not held back (it has a GIL of its own), nor is one in a process whose
# writer still waits for the lock.

MAKE_WAY_AT_MOST_S = 0.25  # one plan's waits in all: a long writer (an import) slows planning, never stops it


class WriterAtWork:
    """Whether a write transaction of this process holds the server-wide lock now (one engine)."""

    def __init__(self) -> None:
        self._idle = threading.Event()
        self._idle.set()
        self._writer: int | None = None  # the thread that holds it

    def begin(self) -> None:
        self._writer = threading.get_ident()
        self._idle.clear()

    def end(self) -> None:
        self._writer = None
        self._idle.set()

    def end_if_mine(self) -> None:
        if self._writer == threading.get_ident():
            self.end()

    def working(self) -> bool:
        """A thread other than the caller holds the lock."""
        return not self._idle.is_set() and self._writer != threading.get_ident()

    def wait(self, at_most_s: float) -> None:
        self._idle.wait(at_most_s)


writer_at_work = PerEngine(WriterAtWork)  # this process's writer at work on an engine


def make_way(engine: Engine) -> Callable[[], None]:
    """One planner's courtesy to its process's writer: call it before each piece of work (an
    event); it returns at once unless another thread of this process holds the lock, and then
    when that writer is done, MAKE_WAY_AT_MOST_S of waiting at the most for this planner."""
    at_work = writer_at_work(engine)
    left = MAKE_WAY_AT_MOST_S

    def courtesy() -> None:
        nonlocal left
        if left > 0 and at_work.working():
            started = time.monotonic()
            at_work.wait(left)
            left -= time.monotonic() - started
    return courtesy


def _at_work(conn: Connection) -> None:
    """The transaction on `conn` has just taken the server-wide lock."""
    at_work = writer_at_work(conn.engine)
    conn.info[_AT_WORK] = at_work
    if lock_times.of(conn.engine) is not None:
        conn.info[_LOCKED_AT] = (time.monotonic(), time.thread_time())
    at_work.begin()


def _done_working(info: dict[str, Any]) -> None:
    at_work = info.pop(_AT_WORK, None)
    if at_work is not None:
        at_work.end()


class WriteTurns:
    """One engine's writers in this process, one at a time, in the order they asked (FIFO).

    A writer waits either in a thread (`taken`: blocks it) or in the event loop (`taken_async`:
    holds no thread while it waits, so the API's thread pool keeps serving reads). The turn
    is handed straight to the next waiter when its holder is done, so no one who asked later
    can slip in between (fair). Waiting for the turn while holding it would never end: a
    thread that asks again for a turn it holds is refused (RuntimeError), not hung."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._busy = False
        self._queue: deque[Callable[[], None]] = deque()  # each waiter's wake-up, oldest first
        self._holder: int | None = None  # the thread holding it through `taken`, if one does

    def _ask(self, wake: Callable[[], None]) -> bool:
        """True: the turn is the caller's now; False: queued, `wake` is called when it is."""
        with self._mutex:
            if not self._busy:
                self._busy = True
                return True
            self._queue.append(wake)
            return False

    def _withdraw(self, wake: Callable[[], None]) -> None:
        """A waiter gives up (an exception while it waited): out of the queue, or, if the turn
        was handed to it meanwhile, handed on."""
        with self._mutex:
            if wake in self._queue:
                self._queue.remove(wake)
                return
        self.release()

    def waiting(self) -> int:
        """How many writers wait for their turn (the tests line writers up by it)."""
        with self._mutex:
            return len(self._queue)

    def release(self) -> None:
        with self._mutex:
            self._holder = None
            if self._queue:
                self._queue.popleft()()  # still busy: the turn is the next waiter's now
            else:
                self._busy = False

    @contextmanager
    def taken(self) -> Iterator[None]:
        me = threading.get_ident()
        if self._holder == me:
            raise RuntimeError("a write transaction inside another one on the same engine would wait forever")
        ready = threading.Event()
        if not self._ask(ready.set):
            try:
                ready.wait()
            except BaseException:
                self._withdraw(ready.set)
                raise
        self._holder = me
        try:
            yield
        finally:
            self.release()

    @asynccontextmanager
    async def taken_async(self) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        ready = loop.create_future()

        def resolve() -> None:
            if not ready.done():  # not cancelled meanwhile (then _withdraw hands the turn on)
                ready.set_result(None)

        def wake() -> None:  # called in whichever thread releases the turn
            loop.call_soon_threadsafe(resolve)

        if not self._ask(wake):
            try:
                await ready
            except BaseException:  # cancelled (the client went away) while it waited
                self._withdraw(wake)
                raise
        try:
            yield
        finally:
            self.release()


write_turns = PerEngine(WriteTurns)  # this process's turns for an engine's write transactions


@contextmanager
def write_transaction(engine: Engine, *, turn_taken: bool = False) -> Iterator[Connection]:
    """A transaction holding the server-wide write lock from its first statement until it ends.
    It waits for its turn in this process (WriteTurns) before it takes a connection from the
    pool; `turn_taken`: the caller holds the turn already (`write_turns(engine).taken_async()`)."""
    if not turn_taken:
        with write_turns(engine).taken(), write_transaction(engine, turn_taken=True) as held:
            yield held
        return
    with engine.connect() as conn, _managed(conn.execution_options(write_lock=True)) as held:
        yield held


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn, _managed(conn) as held:
        yield held


@contextmanager
def statement_reads(engine: Engine) -> Iterator[Connection]:
    """Reads each of which stands alone (no snapshot shared between them): a token's lookup. On
    PostgreSQL they run in autocommit, which saves the BEGIN and the COMMIT, two of the lookup's
    three round trips to the database; SQLite, in the process, gains nothing from it and keeps
    its read transaction (its BEGIN is this module's, above)."""
    if engine.dialect.name == "sqlite":
        with read_transaction(engine) as conn:
            yield conn
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        yield conn


@contextmanager
def short_write_transaction(engine: Engine, *, durable: bool = True) -> Iterator[Connection]:
    """A transaction for a write that assigns no cursor (a device's last pull, an audit row).
    It does not queue for the server-wide lock on PostgreSQL, where a long import may hold it;
    SQLite has one writer anyway, taken at the first write (BEGIN IMMEDIATE).

    `durable=False`: a note that may be lost in a crash (when a device last pulled). PostgreSQL
    then commits without waiting for the WAL to reach the disk (`synchronous_commit = off` for
    this transaction only): 0.3 ms instead of 4-7 ms here, on every caught-up pull (issue #16,
    1,000 devices). A crash loses at most the last fraction of a second of such notes, never an
    event or an audit row: those stay durable. SQLite (WAL, synchronous=NORMAL) does not wait
    for the disk at a commit anyway."""
    with engine.connect() as conn, _managed(conn) as held:
        if not durable and not is_sqlite(held):
            held.exec_driver_sql("SET LOCAL synchronous_commit = off")
        yield held
