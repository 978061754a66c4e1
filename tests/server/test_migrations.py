"""The Alembic migrations make exactly the tables schema.py describes, on SQLite and PostgreSQL,
and bring stored data in line with the code of their revision."""
from __future__ import annotations

import json
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import delete, inspect, select, update

from campaign.ids import uuid7
from sync_server.services import enrolment, ingest, recount
from sync_server.store import migrate
from sync_server.store import pull as log
from sync_server.store import schema as t
from sync_server.store.db import make_engine, read_transaction, write_transaction
from sync_server.store.devices import Scope
from sync_server.store.schema import metadata

from ..support import cli, database_url, hamlet_data, household_data, person_data, wire_event

BACKENDS = ["sqlite", "postgresql"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_migrations_match_the_schema_and_go_down_again(backend, tmp_path, pg_databases):
    engine = make_engine(database_url(backend, tmp_path, pg_databases))
    try:
        migrate.upgrade(engine)
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn, opts={
                "include_object": _on_this_backend(engine.dialect.name)}), metadata) == []
        command.downgrade(migrate.alembic_config(engine), "0001")
        assert "audit" not in inspect(engine).get_table_names()
        migrate.upgrade(engine)
        assert {"campaigns", "audit", "imports"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _on_this_backend(dialect: str) -> Any:
    """Alembic's include_object: an index schema.py makes on the other backend alone
    (schema.ONLY_ON) is not expected on this one."""
    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        return type_ != "index" or t.ONLY_ON.get(str(name), dialect) == dialect
    return include


def test_an_index_of_the_other_backend_is_left_out_and_every_other_one_compared() -> None:
    include = _on_this_backend("sqlite")
    assert not include(None, "ix_totals_commune_metric_keys", "index", False, None)
    assert include(None, "ix_totals_commune_metric", "index", False, None)
    assert include(None, "ix_events_hamlet_cursor", "index", True, None)
    assert include(None, "totals", "table", False, None)


def _migrated_with_an_admin(engine: Any) -> Any:
    """The database at the head revision, with an enrolled admin device (returned)."""
    migrate.upgrade(engine)
    with write_transaction(engine) as conn:
        code, _ = enrolment.create_enrolment(conn, "admin")
        admin, _token = enrolment.enrol(conn, code)
    return admin


# ---- 0003: people's vneid_active_at and the day-keyed `activated` counters ---------------

def _history(device_id: str) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """A log made at 0002 with every way a person's VNeID moves, and the ids it names."""
    seq = 0
    ids = {name: uuid7() for name in ("a", "b", "h1", "h2", "p1", "p2", "p3", "p4", "p5", "p6", "p7")}

    def e(kind: str, entity: str, data: dict[str, Any], at: str) -> dict[str, Any]:
        nonlocal seq
        seq += 1
        return wire_event(device_id, seq, kind, entity, data, at=at)

    def day(d: int, clock: str = "09:00:00+07:00") -> str:
        return f"2026-11-{d:02d}T{clock}"

    i = ids
    events = [
        e("hamlet.created", i["a"], hamlet_data("Tổ dân phố 1"), day(19)),
        e("hamlet.created", i["b"], hamlet_data("Tổ dân phố 2"), day(19)),
        e("household.created", i["h1"], household_data(i["a"]), day(20)),
        e("household.created", i["h2"], household_data(i["a"], "Số 2"), day(20)),
        # added already active, at 20:00 UTC: the 21st in Vietnam
        e("person.added", i["p1"], person_data(i["h1"], "An", vneid="l1_active"), "2026-11-20T20:00:00Z"),
        # active on the 22nd, level 2 on the 25th: still active since the 22nd
        e("person.added", i["p2"], person_data(i["h1"], "Bình", vneid="no_app"), day(20)),
        e("person.updated", i["p2"], {"vneid": "l1_active"}, day(22)),
        e("person.updated", i["p2"], {"vneid": "l2_active", "blockers": []}, day(25)),
        # active on the 23rd, back to pending on the 24th: none
        e("person.added", i["p3"], person_data(i["h1"], "Cường", vneid="l1_approved"), day(20)),
        e("person.updated", i["p3"], {"vneid": "l1_active"}, day(23)),
        e("person.updated", i["p3"], {"vneid": "l1_pending"}, day(24)),
        # settled by a leader on the 24th
        e("person.added", i["p4"], person_data(i["h1"], "Dung", vneid="l2_approved"), day(20)),
        e("conflict.resolved", i["p4"], {"field": "vneid", "value": "l2_active"}, day(24)),
        e("conflict.resolved", i["h1"], {"field": "consent", "value": "given"}, day(24)),
        # active, then moved away: timed, not counted
        e("person.added", i["p5"], person_data(i["h1"], "Giang", vneid="l1_active"), day(21)),
        e("person.updated", i["p5"], {"presence": "moved"}, day(26)),
        # active in a household that then moves to hamlet b: counted there
        e("person.added", i["p6"], person_data(i["h2"], "Hà", vneid="l1_active"), day(23)),
        e("household.updated", i["h2"], {"hamlet_id": i["b"]}, day(26)),
        # recorded active on the 27th, and (a phone syncing late) on the 25th: the 25th
        e("person.added", i["p7"], person_data(i["h1"], "Khoa", vneid="no_app"), day(20)),
        e("person.updated", i["p7"], {"vneid": "l1_active"}, day(27)),
        e("person.updated", i["p7"], {"vneid": "l1_active"}, day(25)),
        e("visit.recorded", uuid7(), {"household_id": i["h1"], "outcome": "met", "actions": ["activation_help"],
                                      "people_helped": [i["p2"], i["p3"]], "note": ""}, day(22)),
        # a phone may not write the derived field: quarantined, never applied
        e("person.updated", i["p3"], {"vneid_active_at": day(1)}, day(27)),
    ]
    return events, ids


def _as_0002_left_it(engine) -> None:  # type: ignore[no-untyped-def]
    """What 0002's code stored: person bodies without the field, no `activated` counter."""
    with write_transaction(engine) as conn:
        for row in conn.execute(select(t.entities.c.id, t.entities.c.body).where(t.entities.c.type == "person")).all():
            body = json.loads(row.body)
            del body["data"]["vneid_active_at"]
            conn.execute(update(t.entities).where(t.entities.c.id == row.id).values(
                body=json.dumps(body, ensure_ascii=False, separators=(",", ":"))))
        conn.execute(delete(t.totals).where(t.totals.c.metric == "activated"))


def _people(engine) -> dict[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    with read_transaction(engine) as conn:
        return {r.id: json.loads(r.body)["data"]
                for r in conn.execute(select(t.entities.c.id, t.entities.c.body).where(t.entities.c.type == "person"))}


def _activated(engine) -> dict[tuple[str, str], int]:  # type: ignore[no-untyped-def]
    with read_transaction(engine) as conn:
        return {(r.hamlet_id, r.day): r.n
                for r in conn.execute(select(t.totals).where(t.totals.c.metric == "activated"))}


@pytest.mark.parametrize("backend", BACKENDS)
def test_0003_times_every_activation_and_recount_then_agrees(backend, tmp_path, pg_databases):
    url = database_url(backend, tmp_path, pg_databases)
    engine = make_engine(url)
    try:
        # Pushed by today's code (which files moves in 0004's event_moves), then taken back to 0002:
        # 0004 down, and the data as 0002's code stored it (0003 changed no table).
        admin = _migrated_with_an_admin(engine)
        events, i = _history(admin.id)
        with write_transaction(engine) as conn:
            pushed = ingest.push(conn, admin, Scope(hamlets=None), events)
        assert [q.reason.split(":")[0] for q in pushed.quarantined] == ["unknown_field"]
        command.downgrade(migrate.alembic_config(engine), "0003")
        _as_0002_left_it(engine)
        command.stamp(migrate.alembic_config(engine), "0002")
        with read_transaction(engine) as conn:
            assert {d.metric for d in recount.recount(conn)} == {"activated"}  # the gap 0003 closes

        migrate.upgrade(engine)
        assert migrate.current(engine) == migrate.head()
        with read_transaction(engine) as conn:
            assert recount.recount(conn) == []
            replayed = {e.id: e.data for e in recount.replay(conn).values() if e.type == "person"}
        people = _people(engine)
        assert people == replayed  # every body as the projection of this version makes it, nothing else changed
        assert {p: people[i[p]]["vneid_active_at"] for p in ("p1", "p2", "p3", "p4", "p5", "p6", "p7")} == {
            "p1": "2026-11-20T20:00:00Z", "p2": "2026-11-22T09:00:00+07:00", "p3": None,
            "p4": "2026-11-24T09:00:00+07:00", "p5": "2026-11-21T09:00:00+07:00",
            "p6": "2026-11-23T09:00:00+07:00", "p7": "2026-11-25T09:00:00+07:00"}
        assert _activated(engine) == {(i["a"], "2026-11-21"): 1, (i["a"], "2026-11-22"): 1,
                                      (i["a"], "2026-11-24"): 1, (i["a"], "2026-11-25"): 1,
                                      (i["b"], "2026-11-23"): 1}
        assert cli(url, "recount").returncode == 0  # what an operator runs after the upgrade

        command.downgrade(migrate.alembic_config(engine), "0002")
        assert _activated(engine) == {}
        assert not any("vneid_active_at" in data for data in _people(engine).values())
        migrate.upgrade(engine)
        with read_transaction(engine) as conn:
            assert recount.recount(conn) == []
        assert _people(engine) == people
    finally:
        engine.dispose()


# ---- 0004: moves between hamlets filed under the hamlet left (event_moves) ----------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_0004_files_the_moves_already_stored_under_the_hamlet_they_left(backend, tmp_path, pg_databases):
    engine = make_engine(database_url(backend, tmp_path, pg_databases))
    try:
        admin = _migrated_with_an_admin(engine)
        a, b, c, h1, h2, p1 = (uuid7() for _ in range(6))
        seq = 0

        def e(kind: str, entity: str, data: dict[str, Any]) -> dict[str, Any]:
            nonlocal seq
            seq += 1
            return wire_event(admin.id, seq, kind, entity, data, at="2026-11-20T09:00:00+07:00")

        history = [
            e("hamlet.created", a, hamlet_data("Tổ A")),
            e("hamlet.created", b, hamlet_data("Tổ B")),
            e("hamlet.created", c, hamlet_data("Thôn C", "10813")),
            e("household.created", h1, household_data(a)),
            e("person.added", p1, person_data(h1, "An")),
            e("household.updated", h1, {"hamlet_id": a, "address": "Số 1"}),  # its own hamlet: no move
            e("household.updated", h1, {"hamlet_id": b}),  # A -> B
            e("household.created", h2, household_data(a, "Số 2")),
            e("household.updated", h2, {"hamlet_id": c}),  # A -> C, another commune
            e("household.updated", h2, {"hamlet_id": a}),  # and back
            e("household.updated", h1, {"hamlet_id": uuid7()}),  # an unknown hamlet: quarantined, no move
        ]
        with write_transaction(engine) as conn:
            pushed = ingest.push(conn, admin, Scope(hamlets=None), history)
        assert len(pushed.quarantined) == 1
        with read_transaction(engine) as conn:
            written = conn.execute(select(t.event_moves).order_by(t.event_moves.c.cursor)).all()
        assert [(m.hamlet_id, m.commune, m.household_id) for m in written] == [
            (a, "10525", h1), (a, "10525", h2), (c, "10813", h2)]

        command.downgrade(migrate.alembic_config(engine), "0003")  # a database as 0003 left it
        assert "event_moves" not in inspect(engine).get_table_names()
        migrate.upgrade(engine)
        assert migrate.current(engine) == migrate.head()
        with read_transaction(engine) as conn:
            assert conn.execute(select(t.event_moves).order_by(t.event_moves.c.cursor)).all() == written
            # the old hamlet's device, which had not pulled that far, gets the move now
            old_hamlet = [(cursor, json.loads(body)) for cursor, body in log.pull(conn, Scope(hamlets=frozenset({a})), 0, 500)[0]]
            new_hamlet = [json.loads(body) for _, body in log.pull(conn, Scope(hamlets=frozenset({b})), 0, 500)[0]]
            other_commune = [json.loads(body) for _, body in log.pull(
                conn, Scope(hamlets=frozenset(), communes=frozenset({"10525"})), written[1].cursor, 500)[0]]
        assert [event["id"] for _, event in old_hamlet].count(history[6]["id"]) == 1
        assert [event["id"] for event in new_hamlet] == [history[1]["id"]] + [x["id"] for x in history[3:7]]
        # past the move to C, the commune's officer gets h2 back whole (its devices dropped it)
        assert [event["id"] for event in other_commune] == [x["id"] for x in history[7:10]]
    finally:
        engine.dispose()


# ---- 0005: a covering index for a commune's totals ---------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_0005_indexes_the_totals_for_a_communes_sums(backend, tmp_path, pg_databases):
    engine = make_engine(database_url(backend, tmp_path, pg_databases))
    try:
        migrate.upgrade(engine, "0005")
        index = {i["name"]: i["column_names"] for i in inspect(engine).get_indexes("totals")}
        assert index["ix_totals_hamlet_metric"] == ["hamlet_id", "metric", "day", "n"]
        command.downgrade(migrate.alembic_config(engine), "0004")
        assert "ix_totals_hamlet_metric" not in {i["name"] for i in inspect(engine).get_indexes("totals")}
    finally:
        engine.dispose()


# ---- 0006: quarantined events keep no data -------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_0006_cuts_the_quarantined_events_already_stored_down_to_their_record(backend, tmp_path, pg_databases):
    from campaign import events as ev
    engine = make_engine(database_url(backend, tmp_path, pg_databases))
    try:
        admin = _migrated_with_an_admin(engine)
        a, h, p = uuid7(), uuid7(), uuid7()
        history = [{"id": uuid7(), "device_id": admin.id, "seq": seq, "kind": kind, "entity": entity, "base": None,
                    "at": "2026-11-20T09:00:00+07:00", "data": data, "schema": 1} for seq, (kind, entity, data) in
                   enumerate([("hamlet.created", a, hamlet_data("Tổ A")),
                              ("household.created", h, household_data(a)),
                              ("person.added", p, {**person_data(h, "Lê Văn Khách"), "phone": "0912345678"})], 1)]
        with write_transaction(engine) as conn:
            assert len(ingest.push(conn, admin, Scope(hamlets=None), history).quarantined) == 1
        refused = ev.canonical(history[2])
        command.downgrade(migrate.alembic_config(engine), "0005")
        with write_transaction(engine) as conn:  # as 0005's code stored it: whole, with its detail
            conn.execute(update(t.events).where(t.events.c.seq == 3).values(
                body=refused, reason="unknown_field: person.added has no field phone"))
        migrate.upgrade(engine)
        assert migrate.current(engine) == migrate.head()
        with read_transaction(engine) as conn:
            rows = conn.execute(select(t.events.c.status, t.events.c.reason, t.events.c.body)
                                .order_by(t.events.c.cursor)).all()
        assert [r.status for r in rows] == ["applied", "applied", "quarantined"]
        assert rows[2].reason == "unknown_field" and rows[2].body == ev.quarantine_line(refused)
        assert "0912345678" not in rows[2].body and "Khách" not in rows[2].body
        assert rows[0].body == ev.canonical(history[0])  # applied events are untouched
    finally:
        engine.dispose()


# ---- 0016: PostgreSQL's counters updated in place -----------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_0016_takes_the_count_out_of_postgresqls_indexes_and_leaves_sqlites(backend, tmp_path, pg_databases):
    engine = make_engine(database_url(backend, tmp_path, pg_databases))

    def indexes() -> dict[str, list[str]]:
        return {i["name"]: i["column_names"] for i in inspect(engine).get_indexes("totals")}

    covering = {"ix_totals_commune_metric": ["commune", "metric", "n"],
                "ix_totals_hamlet_metric": ["hamlet_id", "metric", "day", "n"]}
    try:
        migrate.upgrade(engine, "0016")
        if backend == "sqlite":
            assert indexes() == covering
            return
        assert indexes() == {"ix_totals_commune_metric_keys": ["commune", "metric"]}
        with engine.connect() as conn:
            options = conn.exec_driver_sql("SELECT reloptions FROM pg_class WHERE relname = 'totals'").scalar_one()
        assert options == ["fillfactor=70"]
        command.downgrade(migrate.alembic_config(engine), "0015")
        assert indexes() == covering
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT reloptions FROM pg_class WHERE relname = 'totals'").scalar_one() is None
    finally:
        engine.dispose()
