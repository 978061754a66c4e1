"""Proof, on a sample, that the bulk-loaded rows are what the push path produces.

The same generated events go two ways into two fresh databases of the backend:
through `store.events.push` (the code behind POST /sync/push), batch by batch as
the devices would send them, and through the bulk loader. The events, entities
and totals tables must then be equal row for row (the push path's receive time
aside, and leaving out counters that went back to zero), and `recount` (a replay
of the log) must agree with the bulk-loaded totals.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from campaign import events as ev
from sync_server.services import enrolment, ingest, recount
from sync_server.store import devices
from sync_server.store import schema as t
from sync_server.store.db import make_engine, read_transaction, write_transaction

from . import dataset as d
from .load import (
    RECEIVED_AT,
    Backend,
    _device_row,
    bulk_load,
    insert_device_rows,
    migrated,
)

SAMPLE = d.Scale("sample", 1, 3, 60)


def verify_sample(backend: Backend, seed: int = 7) -> dict[str, Any]:
    admin_id = d.admin_device_id(seed)
    commune = d.commune_events(SAMPLE, 0, admin_id, seed)
    rows = d.commune_rows(commune.events, 0, RECEIVED_AT)
    acked = {admin_id: 0, **{v: 0 for v in commune.volunteers}}
    for event in commune.events:
        acked[event["device_id"]] = event["seq"]
    device_rows = [_device_row(admin_id, "admin", [], acked[admin_id])] + [
        _device_row(v, "volunteer", [h], acked[v]) for h, v in zip(commune.hamlets, commune.volunteers, strict=True)]

    bulk_url = backend.new_url("verify_bulk")
    pushed_url = backend.new_url("verify_push")
    try:
        bulk_load(bulk_url, iter([rows]), device_rows)
        migrated(pushed_url)
        insert_device_rows(pushed_url, [(*r[:8], 0, *r[9:]) for r in device_rows])
        _push_all(pushed_url, commune.events)
        bulk, pushed = _tables(bulk_url), _tables(pushed_url)
        for name in ("events", "entities", "totals", "devices"):
            if bulk[name] != pushed[name]:
                missing = sorted(set(pushed[name]) - set(bulk[name]))[:3]
                extra = sorted(set(bulk[name]) - set(pushed[name]))[:3]
                raise AssertionError(f"bulk-loaded {name} differ from the push path's: "
                                     f"push has {missing}, bulk has {extra}")
        engine = make_engine(bulk_url)
        with read_transaction(engine) as conn:
            differences = recount.recount(conn)
        engine.dispose()
        if differences:
            raise AssertionError(f"recount disagrees with the bulk-loaded totals: {differences[:3]}")
        return {"events": len(rows.events), "entities": len(rows.entities), "totals": len(rows.totals)}
    finally:
        backend.drop(bulk_url)
        backend.drop(pushed_url)


def pushes(events: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Each device's events in the order they were interleaved, as ≤ 500-event pushes."""
    batches: list[list[dict[str, Any]]] = []
    for event in events:
        if batches and batches[-1][0]["device_id"] == event["device_id"] and len(batches[-1]) < d.BATCH:
            batches[-1].append(event)
        else:
            batches.append([event])
    return batches


def _push_all(url: str, events: list[dict[str, Any]]) -> None:
    engine = make_engine(url)
    try:
        for batch in pushes(events):
            with write_transaction(engine) as conn:
                device = devices.get(conn, batch[0]["device_id"])
                assert device is not None
                result = ingest.push(conn, device, enrolment.scope_of(conn, device), [ev.normalize(e) for e in batch])
                if result.error or result.quarantined:
                    raise AssertionError(f"the push path refused a generated event: {result}")
    finally:
        engine.dispose()


def _tables(url: str) -> dict[str, set[tuple[Any, ...]]]:
    engine = make_engine(url)
    try:
        with read_transaction(engine) as conn:
            events = {tuple(r) for r in conn.execute(select(*[c for c in t.events.c if c.name != "received_at"]))}
            entities = {tuple(r) for r in conn.execute(select(t.entities))}
            totals = {tuple(r) for r in conn.execute(select(t.totals).where(t.totals.c.n != 0))}
            devs = {tuple(r) for r in conn.execute(select(t.devices.c.id, t.devices.c.role, t.devices.c.acked_seq))}
        return {"events": events, "entities": entities, "totals": totals, "devices": devs}
    finally:
        engine.dispose()
