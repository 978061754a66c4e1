"""How long each write transaction held the server-wide lock, appended to a file (GOCUA_LOCK_TIMES):
the bench's ingest step reports what share of a run the lock was held, and for how long a push
held it, so that each run says whether the push is bound by the lock or by the CPU (issue #16).
Off unless configured; one short append per write transaction (O_APPEND), so the workers of one
server share the file."""
from __future__ import annotations

import os

from sqlalchemy import Engine

from .per_engine import PerEngine


class LockTimes:
    """`end_seconds held_ms writer_cpu_ms` a line: when the transaction ended (time.monotonic, one
    clock for the machine's processes), from its lock taken to its COMMIT done, and the CPU the
    writing thread spent meanwhile (its own Python, and SQLite's work, which runs in it)."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def record(self, ended: float, held_s: float, cpu_s: float) -> None:
        os.write(self.fd, f"{ended:.6f} {held_s * 1000:.3f} {cpu_s * 1000:.3f}\n".encode())


_FILES: PerEngine[LockTimes] = PerEngine()


def record_to(engine: Engine, path: str) -> None:
    """Every write transaction on `engine` in this process is recorded in `path` from now on."""
    _FILES.put(engine, LockTimes(path))


def of(engine: Engine) -> LockTimes | None:
    return _FILES.made(engine)
