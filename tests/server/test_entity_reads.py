"""store/entities.fetch and child_ids (bulk.text_in): any number of ids, on both backends, as an
IN list in parts on SQLite and one array parameter on PostgreSQL, give the same rows."""
from __future__ import annotations

from sqlalchemy import Engine

from sync_server.store import entities
from sync_server.store.db import read_transaction, write_transaction
from sync_server.store.entities import EntityRow


def test_rows_and_children_of_more_ids_than_one_in_list_holds(migrated_engine: Engine) -> None:
    households = [EntityRow(f"h-{i:04d}", "household", "hamlet-1", None, "10525", i, '{"data":{}}')
                  for i in range(700)]
    people = [EntityRow(f"p-{i:04d}", "person", "hamlet-1", f"h-{i % 350:04d}", "10525", i, '{"data":{}}')
              for i in range(1_100)]
    with write_transaction(migrated_engine) as conn:
        entities.insert(conn, households + people)
    wanted = [row.id for row in people[::-1]] + ["p-missing", "h-missing"]  # 1,102 ids, two not there
    with read_transaction(migrated_engine) as conn:
        found = entities.fetch(conn, wanted)
        children = entities.child_ids(conn, [row.id for row in households] + ["h-missing"])
    assert found == {row.id: row for row in people}
    assert {h: sorted(ids) for h, ids in children.items()} == {
        f"h-{h:04d}": sorted(f"p-{i:04d}" for i in range(1_100) if i % 350 == h) for h in range(350)}
