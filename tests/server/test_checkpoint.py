"""SQLite's WAL is copied back into the database (checkpointed) after a write transaction has
released the write lock, not inside its COMMIT (store/db.py, Checkpointer), and it stays bounded:
once CHECKPOINT_FRAMES are waiting, the next writer to finish starts a checkpoint.

No fixed sleep: the test waits for the checkpoint thread itself (Checkpointer.wait)."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from sync_server.store import db

ROW = b"x" * 3000  # most of a 4 KiB page: a row a frame, about


def test_the_wal_is_checkpointed_by_a_writer_once_it_passed_its_size_and_not_in_the_commit(tmp_path: Path) -> None:
    path = str(tmp_path / "wal.db")
    engine = db.make_engine(f"sqlite:///{path}")
    checkpoints = db.checkpointer(engine)
    assert checkpoints is not None
    try:
        with db.write_transaction(engine) as conn:
            conn.exec_driver_sql("CREATE TABLE blobs (b BLOB)")
            # the server's connections leave the checkpoint to the Checkpointer below the backstop
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == db.BACKSTOP_FRAMES
        written = 0
        while written < 2 * db.CHECKPOINT_FRAMES:
            with db.write_transaction(engine) as conn:
                conn.exec_driver_sql("INSERT INTO blobs VALUES (?)", [(ROW,)] * 200)
            written += 200
            checkpoints.wait()
            assert db.wal_frames_pending(path) < db.CHECKPOINT_FRAMES + 300, "a writer past the size checkpointed"
        with sqlite3.connect(path) as check:  # every row is there through a connection of its own
            assert check.execute("SELECT count(*) FROM blobs").fetchone() == (written,)
    finally:
        engine.dispose()

