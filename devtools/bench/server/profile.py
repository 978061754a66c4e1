"""Where a push's time goes, in-process: the bench's own events through the API's body
parsing and `services.ingest.push`, batch by batch, and the raw insert of the rows it
stored, in the same run (so the ratio holds even on a loaded machine).

    uv run python -m devtools.bench.server.profile [--events 20000] [--backend sqlite|postgresql] [--top 25]

No HTTP, no second process: the figure is the push path's own work per event.
"""
from __future__ import annotations

import argparse
import cProfile
import gzip
import json
import os
import pstats
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from sync_server.api.sync import _parse
from sync_server.app import tune_gc
from sync_server.services import enrolment, ingest
from sync_server.store import devices
from sync_server.store.db import make_engine, read_transaction, write_transaction

from . import dataset as d
from .load import PostgresBackend, SqliteBackend, _device_row, insert_device_rows, migrated
from .measures import _read_event_rows, raw_insert
from .verify import pushes

DEFAULT_PG = "postgresql://127.0.0.1:5432/postgres"


def bodies(events_wanted: int, seed: int = 11) -> tuple[list[tuple[str, bytes]], list[tuple[Any, ...]]]:
    """(device id, gzip body) per ≤ 500-event batch in arrival order, and the devices' rows."""
    households = max(10, events_wanted // 8 // 4)
    scale = d.Scale("profile", 1, 4, households)
    admin_id = d.admin_device_id(seed)
    commune = d.commune_events(scale, 0, admin_id, seed)
    batches = pushes(commune.events[:events_wanted])
    out = [(b[0]["device_id"], gzip.compress(json.dumps(
        {"schema": 1, "events": [json.loads(d.canonical(e)) for e in b]}, separators=(",", ":"),
        ensure_ascii=False).encode(), 6)) for b in batches]
    rows = [_device_row(admin_id, "admin", [], 0)] + [
        _device_row(v, "volunteer", [h], 0) for h, v in zip(commune.hamlets, commune.volunteers, strict=True)]
    return out, rows


def run(url: str, batches: list[tuple[str, bytes]], profiler: cProfile.Profile | None,
        planned: bool = True) -> tuple[float, float, int, float]:
    """(wall seconds, this process's CPU seconds, events, CPU seconds inside the write
    transaction, i.e. holding the write lock) for pushing every batch. `planned`: as the API
    pushes (ingest.plan on a read transaction, then ingest.push with it); else all of it in
    the write transaction, as before issue #16's plan."""
    engine = make_engine(url)
    n = 0
    locked = 0.0
    try:
        started, cpu0 = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        for device_id, body in batches:
            parsed, nfc = _parse(body, "gzip")
            batch = ingest.validate_body(parsed, device_id, nfc=nfc)
            with read_transaction(engine) as conn:
                device = devices.get(conn, device_id)
                assert device is not None
                scope = enrolment.scope_of(conn, device)
                plan = ingest.plan(conn, device, scope, batch) if planned else None
            held_from = time.process_time()
            with write_transaction(engine) as conn:
                result = ingest.push(conn, device, scope, batch, plan)
            locked += time.process_time() - held_from
            if result.error or result.quarantined or (plan is not None and not plan.written):
                raise AssertionError(f"refused, or not written as planned: {result}")
            n += len(batch)
        if profiler:
            profiler.disable()
        return time.perf_counter() - started, time.process_time() - cpu0, n, locked
    finally:
        engine.dispose()


def main() -> None:
    tune_gc()  # the collector as a served process runs it (sync_server/app.py)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--repeat", type=int, default=1, help="push the batches this many times (fresh databases): "
                        "the figures are the run of least CPU")
    parser.add_argument("--no-profile", action="store_true", help="timing only (cProfile slows Python ~2x)")
    parser.add_argument("--callgrind", action="store_true", help="under `valgrind --tool=callgrind "
                        "--instr-atstart=no`: count the pushes' instructions only (callgrind_control -i on/off)")
    parser.add_argument("--unplanned", action="store_true", help="the whole push in the write transaction "
                        "(no ingest.plan first), as the import and the relay push")
    args = parser.parse_args()
    batches, device_rows = bodies(args.events)
    with tempfile.TemporaryDirectory() as tmp:
        backend = SqliteBackend(Path(tmp)) if args.backend == "sqlite" else PostgresBackend(args.pg_url)
        try:
            profiler = None if args.no_profile else cProfile.Profile()
            best: tuple[float, float, int, float] | None = None
            url = ""
            for _ in range(args.repeat):
                if url:
                    backend.drop(url)
                url = backend.new_url("profile")
                migrated(url)
                insert_device_rows(url, device_rows)
                if args.callgrind:
                    subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True,
                                   capture_output=True)
                got = run(url, batches, profiler, planned=not args.unplanned)
                if args.callgrind:
                    subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], check=True,
                                   capture_output=True)
                best = got if best is None or got[1] < best[1] else best
            assert best is not None
            seconds, cpu, n, locked = best
            rows = len(_read_event_rows(url, 0))
            cpu0 = time.process_time()
            raw = raw_insert(backend, url, 0, lambda _s: None, runs=1)  # one: its CPU is printed per row
            raw_cpu = time.process_time() - cpu0
            rate = n / seconds
            print(f"{args.backend}: {n:,} events pushed (best of {args.repeat}) in {seconds:.2f} s = {rate:,.0f}/s, "
                  f"{cpu * 1e6 / n:.1f} µs CPU each, {locked * 1e6 / n:.1f} of them holding the write lock "
                  f"({'unplanned' if args.unplanned else 'planned'}, {'with' if profiler else 'without'} cProfile); "
                  f"raw insert of the {rows:,} rows {raw['rows_per_s']:,.0f}/s, ≤ {raw_cpu * 1e6 / rows:.1f} µs CPU "
                  f"each (with the database's setup); ratio {rate / raw['rows_per_s']:.3f}")
            if profiler:
                stats = pstats.Stats(profiler)
                stats.sort_stats("tottime").print_stats(args.top)
                stats.sort_stats("cumulative").print_stats(args.top)
        finally:
            backend.drop_all()


if __name__ == "__main__":
    main()
