"""`gocua-server bench --only STEP[,STEP] [--communes N]`: the reads' steps alone, at a reduced size.

For working on one figure without the full run (6–12 min on a quiet machine, far more on a
shared one). The province is cut to its first N communes (default 4), each generated exactly as
in the full province (the same communes, hamlets, households and events: the generator seeds each
commune by its code), kept under benchmarks/data/province-<N>c-v…, bulk-loaded into a fresh
database and measured through real server processes with the full run's own functions. The
figures that depend on one commune only (its totals, a volunteer's pull) are the full run's
shape; those that grow with the province (the province breakdown, the many devices' pulls) are
smaller: the output says how many communes they were measured on, and nothing here writes
benchmarks/results.json (the file the full run keeps). The figures go to
benchmarks/data/only-<backend>.json.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from sync_server.store.db import make_engine

from ..common import Log
from . import dataset as d
from . import devices
from . import measures as m
from .load import Backend, Dataset, PostgresBackend, SqliteBackend, bulk_load, processes
from .process import ServerProcess

# The steps that read the loaded province, each the full run's own function; "ingest" (no
# province: __init__.ingest_only) is the same option's.
READS = ("pull", "totals", "province", "week", "devices")
STEPS = ("ingest", *READS)
DEFAULT_COMMUNES = 4


def steps(text: str) -> list[str]:
    """The --only value: steps by name, comma-separated."""
    chosen = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in STEPS]
    if unknown or not chosen:
        raise SystemExit(f"--only takes {', '.join(STEPS)} (comma-separated), not {text!r}")
    return chosen


def part_scale(communes: int) -> d.Scale:
    """The full province's first `communes` communes (the same data as theirs in the full set)."""
    if not 1 <= communes <= d.FULL.communes:
        raise ValueError(f"--communes must be 1 to {d.FULL.communes}")
    return replace(d.FULL, communes=communes)


def main(args: argparse.Namespace, chosen: list[str], pg_url: str, log: Log) -> int:
    scale = part_scale(args.communes or DEFAULT_COMMUNES)
    sizes = m.FULL_SIZES
    out_dir = Path(args.out).resolve() / "data"
    workdir = out_dir / "run-only"
    workdir.mkdir(parents=True, exist_ok=True)
    dataset = Dataset(out_dir, scale)
    seconds = dataset.build(processes(), log=log)
    meta = dataset.meta()
    log(f"data set: the province's first {scale.communes} communes, {meta['events']:,} events"
        + (f" (generated in {seconds:.0f} s)" if seconds else ""))
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results: dict[str, Any] = {}
    for name in backends:
        backend: Backend = SqliteBackend(workdir) if name == "sqlite" else PostgresBackend(pg_url)
        log(f"== {name}: {', '.join(chosen)} on {scale.communes} communes")
        try:
            results[name] = run(backend, dataset, meta, sizes, chosen, log, workdir)
        finally:
            backend.drop_all()
        path = out_dir / f"only-{name}.json"
        path.write_text(json.dumps({"communes": scale.communes, "steps": chosen, **results[name]}, indent=2) + "\n")
        log(f"written {path}")
    return 0


def run(backend: Backend, dataset: Dataset, meta: dict[str, Any], sizes: m.Sizes, chosen: list[str], log: Log,
        workdir: Path) -> dict[str, Any]:
    r: dict[str, Any] = {"load_average_at_start": round(os.getloadavg()[0], 2)}
    url = backend.new_url("only")
    started = time.perf_counter()
    bulk_load(url, (rows for _c, rows in dataset.rows()), dataset.device_rows())
    log(f"  loaded in {time.perf_counter() - started:.0f} s")
    engine = make_engine(url)
    try:
        with ServerProcess(url, workers=2, request_times=str(workdir / f"{backend.name}-times.log")) as server:
            if "pull" in chosen:
                r["pull"] = m.pull_catch_up(server, engine, meta, sizes, log)
            if "totals" in chosen:
                r["totals"] = m.commune_totals(server, engine, meta, sizes, log)
            if "province" in chosen:
                r["province"] = m.province_breakdown(engine, sizes, log)
            if "week" in chosen:
                r["week"] = devices.week_offline(server, engine, meta, sizes, log, workdir)
            if "devices" in chosen:
                r["devices"] = devices.many_devices(server, engine, meta, sizes, log)
    finally:
        engine.dispose()
        backend.drop(url)
    r["load_average_at_end"] = round(os.getloadavg()[0], 2)
    return r
