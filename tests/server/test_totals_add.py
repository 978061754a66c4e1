"""store/totals.add: a push's counter deltas and its communes' versions (on PostgreSQL one
statement of five arrays, whatever the number of rows), against the same sums kept by hand."""
from __future__ import annotations

import json
from collections import Counter

from sqlalchemy import Engine, select

from sync_server.store import entities, totals
from sync_server.store import schema as t
from sync_server.store.db import read_transaction, write_transaction


def test_deltas_add_up_and_each_commune_written_moves_on_by_one(migrated_engine: Engine) -> None:
    many = [(f"h{i}", "2026-12-03", "visits", "10525", i) for i in range(5, 2_505)]  # more rows than one VALUES list held
    pushes = [
        [("h1", "2026-12-01", "visits", "10525", 3), ("h1", "", "households", "10525", 1),
         ("h2", "2026-12-01", "visits", "10813", 2)],
        [("h1", "2026-12-01", "visits", "10525", -1), ("h3", "2026-12-02", "visits", "10525", 5),
         ("h1", "", "households", "10525", 1), ("h4", "", "people", "", 7)],
        [("h2", "2026-12-01", "visits", "10813", 4)],
        many,
    ]
    expected: Counter[tuple[str, str, str]] = Counter()
    versions: dict[str, int] = {}
    for deltas in pushes:
        before = versions
        with write_transaction(migrated_engine) as conn:
            totals.add(conn, deltas)
        for h, d, m, _commune, n in deltas:
            expected[(h, d, m)] += n
        written = {c for *_rest, c, _n in deltas}
        with read_transaction(migrated_engine) as conn:
            held = {(r.hamlet_id, r.day, r.metric): r.n for r in totals.all_counters(conn)}
            versions = {c: v for c, v in conn.execute(select(t.totals_versions.c.commune, t.totals_versions.c.version))}
        assert held == dict(expected)
        # each commune the push wrote moves on by one, the others stay
        assert versions == {**before, **{c: before.get(c, 0) + 1 for c in written}}
    with read_transaction(migrated_engine) as conn:
        stored = sorted(conn.execute(select(t.totals.c.hamlet_id, t.totals.c.day, t.totals.c.commune)).all())
    assert [tuple(r) for r in stored] == sorted(
        [("h1", "", "10525"), ("h1", "2026-12-01", "10525"), ("h2", "2026-12-01", "10813"),
         ("h3", "2026-12-02", "10525"), ("h4", "", "")] + [(f"h{i}", "2026-12-03", "10525") for i in range(5, 2_505)])


def test_the_version_and_the_hamlets_in_one_statement_are_each_read_alone(migrated_engine: Engine) -> None:
    """store/totals.version_and_hamlets (GET /totals, one round trip): the versions as stored and
    what `entities.hamlet_names` answers, for a commune with counters, one without, and none."""
    def hamlet(hamlet_id: str, name: str, commune: str) -> entities.EntityRow:
        body = json.dumps({"data": {"commune": commune, "name": name}, "meta": {}}, ensure_ascii=False)
        return entities.EntityRow(hamlet_id, "hamlet", hamlet_id, None, commune, 1, body)

    with write_transaction(migrated_engine) as conn:
        entities.insert(conn, [hamlet("a", "Tổ 1", "10525"), hamlet("b", "Tổ 2", "10525"),
                               hamlet("c", "Thôn 3", "10813")])
        entities.insert(conn, [entities.EntityRow("p", "person", "a", None, "10525", 2, '{"data":{"name":"X"}}')])
        totals.add(conn, [("a", "", "people", "10525", 1), ("u", "", "people", "", 2)])
        totals.add(conn, [("a", "", "people", "10525", 1)])
    with read_transaction(migrated_engine) as conn:
        for commune in ("10525", "10813", "99999"):
            held = {c: v for c, v in conn.execute(select(t.totals_versions.c.commune, t.totals_versions.c.version))}
            alone = ((held.get(commune, 0), held.get("", 0)), entities.hamlet_names(conn, commune))
            assert totals.version_and_hamlets(conn, commune) == alone
        assert totals.version_and_hamlets(conn, "10525") == ((2, 1), {"a": "Tổ 1", "b": "Tổ 2"})
        assert totals.version_and_hamlets(conn, "10813") == ((0, 1), {"c": "Thôn 3"})
