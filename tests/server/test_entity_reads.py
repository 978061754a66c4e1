"""store/entities.fetch and child_ids (bulk.text_in): any number of ids, on both backends, as an
IN list in parts on SQLite and one array parameter on PostgreSQL (its literal, bulk.text_array, or
the list where a value holds a quote or a backslash), give the same rows."""
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


ODD_TEXTS = ["tab\there", "back\\slash \\N \\.", "new\nline\r\n", "Nguyễn Thị Ánh", "ẞ ﬁ 𝔘 😀", "", "\\", "N",
             '"quoted", comma', "null", "\u00a0no-break"]


def test_copys_binary_form_stores_every_value_as_it_was(migrated_engine: Engine) -> None:
    """bulk.insert goes by COPY's binary form on PostgreSQL: text that the text form must escape
    (tab, backslash, newline, \\N, \\.) and big or absent values come back exactly."""
    from sync_server.store import events
    from sync_server.store.events import EventRow
    rows = [EventRow(2**62 + i, f"device-{i}", 2**40 + i, "person.added", f"e-{i}", None if i % 2 else "hamlet-1",
                     None, "applied", text or None, "2026-12-05T12:00:00+07:00", text)
            for i, text in enumerate(ODD_TEXTS)]
    bodies = [EntityRow(f"x-{i}", "person", None, "h-1", text[:5] or None, None if i % 3 else 2**63 - 1 - i, text)
              for i, text in enumerate(ODD_TEXTS)]
    with write_transaction(migrated_engine) as conn:
        events.insert(conn, rows)
        entities.insert(conn, bodies)
    with read_transaction(migrated_engine) as conn:
        stored = [EventRow._make(r) for r in conn.exec_driver_sql(
            'SELECT "cursor", device_id, seq, kind, entity, hamlet_id, commune, status, reason, received_at, body '
            'FROM events ORDER BY "cursor"')]
        found = entities.fetch(conn, [row.id for row in bodies])
    assert stored == rows
    assert found == {row.id: row for row in bodies}


def test_ids_of_any_text_are_looked_up_and_counted_as_they_are(migrated_engine: Engine) -> None:
    """An id holding what an array literal quotes or escapes (a quote, a backslash, a comma, braces,
    NULL) is looked up as itself, alone or beside plain ones; so are counters' keys."""
    from sync_server.store import totals
    odd = [*ODD_TEXTS, 'a","b', "{x}", "NULL", 'q"', "x\\"]
    households = [EntityRow(f"h{text}", "household", "hamlet-1", None, "10525", 1, "{}") for text in odd]
    people = [EntityRow(f"p{i}", "person", "hamlet-1", row.id, "10525", 1, "{}") for i, row in enumerate(households)]
    with write_transaction(migrated_engine) as conn:
        entities.insert(conn, households + people)
        totals.add(conn, [(f"h{text}", "", "m", "10525", i + 1) for i, text in enumerate(odd)])
    for ids in ([row.id for row in households], [row.id for row in households if '"' not in row.id]):
        with read_transaction(migrated_engine) as conn:
            assert entities.fetch(conn, [*ids, 'h"', "h\\"]) == {row.id: row for row in households if row.id in ids}
            assert entities.child_ids(conn, ids) == {row.parent_id: [row.id] for row in people if row.parent_id in ids}
    with read_transaction(migrated_engine) as conn:
        assert sorted(totals.all_counters(conn)) == sorted(
            totals.CounterRow(f"h{text}", "", "m", i + 1) for i, text in enumerate(odd))
