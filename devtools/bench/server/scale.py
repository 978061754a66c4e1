"""How cost grows with the work: the same figures on a quarter, half and the whole province.

Each point is the province's first N communes bulk-loaded into a fresh database (the whole
province is the one the reads already use), then, against one server process: a push of
fresh events into that full database (events per second and per server CPU-second), one
commune's totals (p50, p95) and a volunteer's pull catch-up. Per-event ingest and one
commune's reads should stay flat as the province grows; the table says where they do not.
"""
from __future__ import annotations

import itertools
import random
import threading
import time
from typing import Any

import httpx
from sqlalchemy import Engine

from sync_server.store.db import make_engine

from ..common import Log
from . import dataset as d
from . import measures as m
from .load import Backend, Dataset, bulk_load
from .process import ServerProcess, enrol_many

FRACTIONS = (("quarter", 0.25), ("half", 0.5))  # the whole province is measured with the reads
PUSH_DEVICES, PUSH_EVENTS = 2, 2_000  # each device's events, in 500-event batches


def point(label: str, url: str, engine: Engine, server: ServerProcess, meta: dict[str, Any], sizes: m.Sizes,
          log: Log) -> dict[str, Any]:
    """The scale figures of one loaded database, through a running server."""
    small = m.Sizes(**{**sizes.__dict__, "totals_requests": min(sizes.totals_requests, 100)})
    ingest = push_into(server, engine, meta, log, PUSH_EVENTS if sizes.ingest_events_per_device > 2_000 else 500)
    totals = m.commune_totals(server, engine, meta, small, log)
    pull = m.pull_catch_up(server, engine, meta, sizes, log)
    return {"scale": label, "communes": len(meta["communes"]), "events": sum(c["events"] for c in meta["communes"]),
            "ingest_events_per_s": round(ingest["events_per_s"]),
            "ingest_events_per_server_cpu_s": round(ingest["events_per_cpu_s"] or 0),
            "commune_totals_p50_ms": round(totals["p50_ms"], 2), "commune_totals_p95_ms": round(totals["p95_ms"], 2),
            "pull_10k_s": round(pull["seconds"], 3)}


def push_into(server: ServerProcess, engine: Engine, meta: dict[str, Any], log: Log,
              per_device: int = PUSH_EVENTS) -> dict[str, Any]:
    """PUSH_DEVICES volunteers push `per_device` new events each at once into the loaded database."""
    rng = random.Random("scale")
    with httpx.Client(timeout=120) as client:
        admin = enrol_many(engine, server.url, "admin", 1)[0]
        # in the last commune: the reads measure the first one, and the middle one's volunteer
        hamlets, _ = m.create_hamlets(client, server.url, admin, meta["communes"][-1]["code"], PUSH_DEVICES, rng)
    volunteers = enrol_many(engine, server.url, "volunteer", PUSH_DEVICES, hamlets=[[h.id] for h in hamlets])
    plans = [(v, [m.gz_body(c) for c in m.chunks(m.device_events(v.id, h, per_device, rng), d.BATCH)])
             for v, h in zip(volunteers, hamlets, strict=True)]
    errors: list[str] = []

    def run(volunteer: Any, bodies: list[bytes]) -> None:
        with httpx.Client(timeout=120) as own:
            for body in bodies:
                answer = own.post(server.url + m.PUSH, content=body, headers={**volunteer.headers, **m.GZIP_HEADERS})
                if answer.status_code != 200 or answer.json()["quarantined"]:
                    errors.append(f"{answer.status_code} {answer.text[:200]}")
                    return

    threads = [threading.Thread(target=run, args=plan) for plan in plans]
    cpu0, started = server.cpu_seconds(), time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    seconds, cpu = time.perf_counter() - started, server.cpu_seconds() - cpu0
    if errors:
        raise RuntimeError(f"scale push failed: {errors[:3]}")
    total = PUSH_DEVICES * per_device
    log(f"  push into the loaded province: {total:,} events in {seconds:.2f} s = {total / seconds:,.0f}/s "
        f"({total / cpu if cpu else 0:,.0f} per server CPU-second)")
    return {"events_per_s": total / seconds, "events_per_cpu_s": total / cpu if cpu else None}


def smaller(backend: Backend, dataset: Dataset, meta: dict[str, Any], sizes: m.Sizes, log: Log) -> list[dict[str, Any]]:
    """The quarter and half points: each loaded into its own fresh database, measured, dropped."""
    out = []
    for label, share in FRACTIONS:
        n = max(1, round(len(meta["communes"]) * share))
        part = {**meta, "communes": meta["communes"][:n]}
        url = backend.new_url(f"scale_{label}")
        try:
            started = time.perf_counter()
            bulk_load(url, (rows for _c, rows in itertools.islice(dataset.rows(), n)), dataset.device_rows())
            log(f"  {label} of the province ({n} communes) loaded in {time.perf_counter() - started:.0f} s")
            engine = make_engine(url)
            try:
                with ServerProcess(url, 1) as server:
                    out.append(point(label, url, engine, server, part, sizes, log))
            finally:
                engine.dispose()
        finally:
            backend.drop(url)
    return out


def table(points: dict[str, list[dict[str, Any]]]) -> str:
    """One row per backend and scale: the figures that should stay flat."""
    header = ["backend", "scale", "communes", "events", "push events/s", "per server CPU-s",
              "commune totals p50", "p95", "pull 10,000"]
    lines = [header]
    for backend, rows in points.items():
        for p in rows:
            lines.append([backend, p["scale"], str(p["communes"]), f"{p['events']:,}", f"{p['ingest_events_per_s']:,}",
                          f"{p['ingest_events_per_server_cpu_s']:,}", f"{p['commune_totals_p50_ms']} ms",
                          f"{p['commune_totals_p95_ms']} ms", f"{p['pull_10k_s']} s"])
    widths = [max(len(r[i]) for r in lines) for i in range(len(header))]
    out = []
    for n, r in enumerate(lines):
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
        if n == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)
