"""store/totals.add: a push's counter deltas and its communes' versions (on PostgreSQL one
statement, in parts of _ROWS_PER_STATEMENT rows), against the same sums kept by hand."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select

from sync_server.store import migrate, totals
from sync_server.store import schema as t
from sync_server.store.db import make_engine, read_transaction, write_transaction

from ..support import PostgresDatabases, migrated_sqlite


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path, pg_databases: PostgresDatabases) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        engine = make_engine(migrated_sqlite(tmp_path / "server.db"))
    else:
        engine = make_engine(pg_databases.create())
        migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("per_statement", [2_000, 2])
def test_deltas_add_up_and_each_commune_written_moves_on(engine: Engine, per_statement: int, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(totals, "_ROWS_PER_STATEMENT", per_statement)
    pushes = [
        [("h1", "2026-12-01", "visits", "10525", 3), ("h1", "", "households", "10525", 1),
         ("h2", "2026-12-01", "visits", "10813", 2)],
        [("h1", "2026-12-01", "visits", "10525", -1), ("h3", "2026-12-02", "visits", "10525", 5),
         ("h1", "", "households", "10525", 1), ("h4", "", "people", "", 7)],
        [("h2", "2026-12-01", "visits", "10813", 4)],
    ]
    expected: Counter[tuple[str, str, str]] = Counter()
    communes: Counter[str] = Counter()
    for deltas in pushes:
        with write_transaction(engine) as conn:
            totals.add(conn, deltas)
        for h, d, m, _commune, n in deltas:
            expected[(h, d, m)] += n
        for commune in {c for *_rest, c, _n in deltas}:
            communes[commune] += 1  # at least once a push
        with read_transaction(engine) as conn:
            held = {(r.hamlet_id, r.day, r.metric): r.n for r in totals.all_counters(conn)}
            versions = {c: v for c, v in conn.execute(select(t.totals_versions.c.commune, t.totals_versions.c.version))}
        assert held == dict(expected)
        assert set(versions) == set(communes)
        assert all(versions[c] >= n for c, n in communes.items())
        communes = Counter(versions)
    with read_transaction(engine) as conn:
        assert [(r.hamlet_id, r.commune) for r in conn.execute(select(t.totals.c.hamlet_id, t.totals.c.commune)
                                                               .order_by(t.totals.c.hamlet_id, t.totals.c.day))] == [
            ("h1", "10525"), ("h1", "10525"), ("h2", "10813"), ("h3", "10525"), ("h4", "")]
