"""The PostgreSQL pool pings a connection only after it sat idle (store/db.py, _ping_when_idle):
a connection the database dropped meanwhile is replaced before a request sees it."""
from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from sync_server.store import db

from ..support import PG_ADMIN_URL, PostgresDatabases


def _drop_connections(database: str) -> None:
    """What a database restart does to the pool's connections."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                      "AND pid <> pg_backend_pid()", [database])


def _select_one(engine) -> int:  # type: ignore[no-untyped-def]
    with db.read_transaction(engine) as conn:
        return int(conn.execute(text("SELECT 1")).scalar_one())


@pytest.fixture()
def engine(pg_databases: PostgresDatabases):  # type: ignore[no-untyped-def]
    engine = db.make_engine(pg_databases.create())
    yield engine
    engine.dispose()


def test_an_idle_connection_dropped_by_the_database_is_replaced(engine, monkeypatch) -> None:
    assert _select_one(engine) == 1
    _drop_connections(engine.url.database)
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.0)  # every connection counts as idle: pinged
    assert _select_one(engine) == 1


def test_a_connection_just_used_is_not_pinged(engine, monkeypatch) -> None:
    """The round trip saved: a connection back in the pool a moment ago goes straight to work (and
    so, if the database dropped it in that moment, its statement fails once)."""
    assert _select_one(engine) == 1
    _drop_connections(engine.url.database)
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 3600.0)
    with pytest.raises(OperationalError):
        _select_one(engine)
    assert _select_one(engine) == 1  # SQLAlchemy dropped the dead pool: the next one reconnects


def test_a_note_commits_without_waiting_for_the_disk_and_nothing_else_does(engine) -> None:
    """short_write_transaction(durable=False) (a device's last pull) turns off the wait for the
    WAL flush for itself only: the same pooled connection's next transaction waits again."""
    with db.short_write_transaction(engine, durable=False) as conn:
        assert conn.exec_driver_sql("SHOW synchronous_commit").scalar_one() == "off"
        conn.exec_driver_sql("CREATE TABLE note (n integer)")
        conn.exec_driver_sql("INSERT INTO note VALUES (1)")
    assert engine.pool.checkedin() == 1  # one connection: the next transaction gets it back
    with db.short_write_transaction(engine) as conn:
        assert conn.exec_driver_sql("SHOW synchronous_commit").scalar_one() == "on"
        assert conn.exec_driver_sql("SELECT count(*) FROM note").scalar_one() == 1  # it did commit
    with db.read_transaction(engine) as conn:
        assert conn.exec_driver_sql("SHOW synchronous_commit").scalar_one() == "on"
