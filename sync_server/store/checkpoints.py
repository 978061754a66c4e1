"""SQLite's checkpoints (the WAL copied back into the database), run by a thread of the server
process after a writer has released the write lock, not inside its COMMIT (store/db.py calls
`after_write` when a write transaction of its own has ended)."""
from __future__ import annotations

import sqlite3
import threading
from urllib.parse import quote

from sqlalchemy import Engine

from .per_engine import PerEngine

# SQLite copies the WAL back into the database (a checkpoint) inside the COMMIT that takes the
# WAL past wal_autocheckpoint pages: a few MB written and two fsyncs, while that writer still
# holds the file lock and its process's turn (issue #16: a third of a push's locked time on
# SQLite, 8.5 µs of 24.4 an event). So the server's connections checkpoint on their own only
# past BACKSTOP_FRAMES, and once the writers of this process have changed CHECKPOINT_ROWS rows
# since the last checkpoint, the writer that just released the lock starts a PASSIVE checkpoint
# in a thread, on a connection of its own: it runs beside the next writer (SQLite lets a
# checkpoint and a writer run together, and the sqlite3 module leaves the GIL while it works).
#
# When to run is decided from what SQLite tells the writer (its connection's total_changes),
# never from the database's files: a descriptor of the -shm file opened and closed by anything
# but SQLite releases every POSIX lock the process holds on it, SQLite's read marks among them.
# An earlier version read the wal-index header to decide and corrupted a run that way (issue
# #16; tests/server/test_db_files.py). A second sqlite3 connection is SQLite's own business: its
# VFS shares one lock state between every connection of a process to a file, and keeps a
# descriptor open until no lock of the process needs it.
#
# Bounded as before: rows changed stand for pages written (a push's ~950 rows write ~200 pages:
# CHECKPOINT_ROWS is about SQLite's own 1,000 pages), and a WAL the thread does not keep up with
# is checkpointed by the COMMIT that passes BACKSTOP_FRAMES. Durability is unchanged: a commit
# is not fsynced with synchronous=NORMAL, and a checkpoint fsyncs the WAL before it copies,
# wherever it runs.

CHECKPOINT_ROWS = 4000
BACKSTOP_FRAMES = 10_000


class Checkpointer:
    """One SQLite database's checkpoints for this process: at most one running at a time."""

    def __init__(self, database: str) -> None:
        self.database = database
        self._mutex = threading.Lock()
        self._changed = 0  # rows changed by this process's writers since the last checkpoint began
        self._running = False
        self._thread: threading.Thread | None = None
        self.last: tuple[int, int, int] | None = None  # the last PRAGMA wal_checkpoint's (busy, log, checkpointed)

    def after_write(self, rows_changed: int) -> None:
        """A write transaction ended and released the lock, having changed this many rows."""
        with self._mutex:
            self._changed += rows_changed
            if self._running or self._changed < CHECKPOINT_ROWS:
                return
            self._running, self._changed = True, 0
            self._thread = threading.Thread(target=self._checkpoint, name="gocua-checkpoint", daemon=True)
            self._thread.start()

    def _checkpoint(self) -> None:
        try:  # mode=rw: a database removed meanwhile (a test's directory) is not made again, empty
            conn = sqlite3.connect(f"file:{quote(self.database)}?mode=rw", uri=True, timeout=30,
                                   isolation_level=None, check_same_thread=False)
            try:
                busy, log, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                self.last = (int(busy), int(log), int(done))
            finally:
                conn.close()
        except sqlite3.Error:
            pass  # the next writer past CHECKPOINT_ROWS tries again; BACKSTOP_FRAMES bounds the WAL meanwhile
        finally:
            with self._mutex:
                self._running = False

    def wait(self) -> None:
        """Until the checkpoint started last is done (the tests)."""
        thread = self._thread
        if thread is not None:
            thread.join()


_CHECKPOINTERS: PerEngine[Checkpointer] = PerEngine()


def watch(engine: Engine, database: str) -> Checkpointer:
    """The Checkpointer of a SQLite file database's engine, made once (store/db.py, make_engine)."""
    return _CHECKPOINTERS.put(engine, Checkpointer(database))


def checkpoints_of(engine: Engine) -> Checkpointer | None:
    """The engine's Checkpointer: a SQLite file database's, None otherwise."""
    return _CHECKPOINTERS.made(engine)
