"""The measurements of writes and reads, each against a real server process on 127.0.0.1.

The devices' side (a week offline over a slow link, many devices at once) is devices.py.
"""
from __future__ import annotations

import gzip
import json
import os
import random
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine, func, select

from campaign import areas
from campaign import events as ev
from campaign.time import VIETNAM
from sync_server.services import reports
from sync_server.store import bulk
from sync_server.store import schema as t
from sync_server.store.db import make_engine, read_transaction

from ...ids import uuid4_of
from ..common import Log, percentile
from . import dataset as d
from .load import Backend, dbapi_url, migrated, sqlite_path
from .process import Device, ServerProcess, cpu_spent, dumps, enrol_many

PUSH = "/api/v1/sync/push"
PULL = "/api/v1/sync/pull"
GZIP_HEADERS = {"Content-Encoding": "gzip", "Content-Type": "application/json"}


@dataclass(frozen=True)
class Sizes:
    ingest_devices: int
    ingest_events_per_device: int
    pull_events: int
    totals_requests: int
    province_runs: int
    week_events: int
    devices: int
    devices_in_flight: int
    device_batch: int


FULL_SIZES = Sizes(ingest_devices=8, ingest_events_per_device=12_500, pull_events=10_000, totals_requests=300,
                   province_runs=15, week_events=1_500, devices=1_000, devices_in_flight=100, device_batch=10)
QUICK_SIZES = Sizes(ingest_devices=4, ingest_events_per_device=1_500, pull_events=2_000, totals_requests=40,
                    province_runs=5, week_events=200, devices=60, devices_in_flight=30, device_batch=10)


def gz_body(events: list[dict[str, Any]]) -> bytes:
    """A push body as the device sends it: canonical events, compact JSON, gzip level 6."""
    return gzip.compress(dumps({"schema": ev.PROTOCOL, "events": [json.loads(d.canonical(e)) for e in events]}), 6)


def chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def device_events(device_id: str, hamlet: d.Hamlet, n: int, rng: random.Random, seq0: int = 0) -> list[dict[str, Any]]:
    """A volunteer's next n events in one hamlet: households, people, visits, follow-ups."""
    log = d.DeviceLog(device_id, seq0)
    first = d.CAMPAIGN_START + timedelta(days=rng.randrange(30))
    while len(log.events) < n:
        d.household_work(log, rng, hamlet, max(1, n // 6), first)
    return log.events[:n]


def known_hamlet(hamlet_id: str) -> d.Hamlet:
    """A hamlet of the loaded province: meta.json keeps its id only, and a ward's addresses need no name."""
    return d.Hamlet(hamlet_id, "", urban=True)


def create_hamlets(client: httpx.Client, url: str, admin: Device, commune: str, n: int,
                   rng: random.Random, seq0: int = 0) -> tuple[list[d.Hamlet], int]:
    log = d.DeviceLog(admin.id, seq0)
    now = datetime.now(VIETNAM).replace(microsecond=0)
    hamlets = d.hamlets_created(log, rng, areas.commune(commune), n, now)
    for chunk in chunks(log.events, d.BATCH):
        answer = client.post(url + PUSH, content=gz_body(chunk), headers={**admin.headers, **GZIP_HEADERS})
        if answer.status_code != 200 or answer.json()["quarantined"]:
            raise RuntimeError(f"hamlets refused: {answer.status_code} {answer.text[:300]}")
    return hamlets, log.seq


# ---- ingest -------------------------------------------------------------------------------

def ingest(backend: Backend, workers: int, sizes: Sizes, log: Log) -> dict[str, Any]:
    """Several devices push 500-event gzip batches at once through POST /sync/push, each device
    its batches one after another, all through one pool of keep-alive connections (one a device),
    as phones reach a deployed server through its reverse proxy: the proxy keeps a pool of
    connections to the server's workers and sends each request on one that is free. A device
    that kept its own connection would stay with the worker that accepted it for its whole
    backlog: with 8 devices over 2 workers the split fell 5-3 or 6-2 more often than 4-4, and
    the less loaded worker sat idle at the end of the run (seen: 7.7 against 2.5 CPU-seconds),
    which measured the split, not the server. Each worker's CPU-seconds are in the result."""
    url = backend.new_url(f"ingest_w{workers}")
    migrated(url)
    engine = make_engine(url)
    rng = random.Random(f"ingest:{workers}")
    commune = d.communes(d.FULL)[0].code
    handle, held_log = tempfile.mkstemp(prefix="gocua-lock-times-", suffix=".log")
    os.close(handle)
    try:
        with (ServerProcess(url, workers, lock_times=held_log) as server,
              httpx.Client(timeout=120) as client):
            admin = enrol_many(engine, server.url, "admin", 1)[0]
            hamlets, _ = create_hamlets(client, server.url, admin, commune, sizes.ingest_devices, rng)
            volunteers = enrol_many(engine, server.url, "volunteer", sizes.ingest_devices,
                                    hamlets=[[h.id] for h in hamlets])
            with read_transaction(engine) as conn:
                cursor0 = conn.execute(select(func.max(t.events.c.cursor))).scalar_one()
            plans = []
            for volunteer, hamlet in zip(volunteers, hamlets, strict=True):
                events = device_events(volunteer.id, hamlet, sizes.ingest_events_per_device, rng)
                plans.append((volunteer, [gz_body(c) for c in chunks(events, d.BATCH)], events[-1]["seq"]))
            total = sum(p[2] for p in plans)
            errors: list[str] = []

            pool = httpx.Client(timeout=120, limits=httpx.Limits(max_connections=len(plans)))

            def run(volunteer: Device, bodies: list[bytes], last: int) -> None:
                for body in bodies:
                    answer = pool.post(server.url + PUSH, content=body, headers={**volunteer.headers, **GZIP_HEADERS})
                    if answer.status_code != 200 or answer.json()["quarantined"]:
                        errors.append(f"{answer.status_code} {answer.text[:200]}")
                        return
                if answer.json()["acked_seq"] != last:
                    errors.append(f"acked {answer.json()['acked_seq']} != {last}")

            threads = [threading.Thread(target=run, args=plan) for plan in plans]
            worker_cpu0, database_cpu0 = server.cpu_by_process(), backend.database_cpu()
            client_cpu0 = time.process_time()  # this process: the load generator's threads
            started, since = time.perf_counter(), time.monotonic()
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            seconds, until = time.perf_counter() - started, time.monotonic()
            client_cpu = time.process_time() - client_cpu0
            database_cpu1 = backend.database_cpu()
            database = (None if database_cpu0 is None or database_cpu1 is None
                        else sum(cpu_spent(database_cpu0, database_cpu1).values()))
            spent = cpu_spent(worker_cpu0, server.cpu_by_process())
            cpu = sum(spent.values())
            worker_cpu = sorted((round(n, 2) for n in spent.values() if n > 0.05), reverse=True)
            pool.close()
            if errors:
                raise RuntimeError(f"ingest failed: {errors[:3]}")
        with read_transaction(engine) as conn:
            stored = conn.execute(select(func.count()).where(t.events.c.cursor > cursor0)).scalar_one()
        if stored != total:
            raise RuntimeError(f"ingest stored {stored} events of {total}")
        held = lock_held(held_log, since, until)
        log(f"  ingest, {workers} worker(s): {total:,} events in {seconds:.2f} s = {total / seconds:,.0f}/s "
            f"(server CPU {cpu:.1f} s: {total / cpu:,.0f} events per CPU-second; by process {worker_cpu}; "
            f"{'' if database is None else f'PostgreSQL {database:.1f} s, '}the load generator {client_cpu:.1f} s); "
            f"the write lock held {held['share']:.0%} of the run, {held['held_ms']:.1f} ms a push "
            f"({held['writer_cpu_ms']:.1f} ms of it the writer's CPU)")
        return {"events": total, "seconds": seconds, "events_per_s": total / seconds, "url": url,
                "server_cpu_s": cpu, "events_per_cpu_s": total / cpu if cpu else None, "process_cpu_s": worker_cpu,
                "database_cpu_s": None if database is None else round(database, 2), "client_cpu_s": client_cpu,
                "cursor0": cursor0, "devices": len(plans), "lock": held}
    finally:
        engine.dispose()
        os.unlink(held_log)


def lock_held(path: str, since: float, until: float) -> dict[str, float]:
    """What the server's write transactions that ended in [since, until] (time.monotonic) held the
    lock for (GOCUA_LOCK_TIMES, store/lock_times.py): its share of the run (near 1: the lock bounds
    the push; well below: the CPU or the clients do), and a push's mean held time and writer CPU."""
    rows = []
    with open(path) as lines:
        for line in lines:
            ended, held_ms, cpu_ms = (float(x) for x in line.split())
            if since <= ended <= until:
                rows.append((held_ms, cpu_ms))
    if not rows:
        return {"share": 0.0, "held_ms": 0.0, "writer_cpu_ms": 0.0, "writes": 0}
    held_total = sum(h for h, _c in rows)
    return {"share": round(held_total / 1000 / (until - since), 3), "held_ms": round(held_total / len(rows), 2),
            "writer_cpu_ms": round(sum(c for _h, c in rows) / len(rows), 2), "writes": len(rows)}


RAW_RUNS = 3  # the raw insert is a second's burst: its best of three, each into a fresh database


def raw_insert(backend: Backend, source_url: str, after: int, log: Log, runs: int = RAW_RUNS) -> dict[str, Any]:
    """The same rows the push path stored, straight into an empty events table: executemany in
    one transaction on SQLite, COPY on PostgreSQL; the best of `runs` inserts, each into a fresh
    database. One insert of 100,000 rows lasts about a second, and on this shared machine its
    rate moved from 82 k to 155 k rows/s between runs a few minutes apart, while the push's
    (15-25 s in all) moved far less: the ratio measured the raw insert's luck. The best of
    three is the database at its fastest, the stricter denominator."""
    rows = _read_event_rows(source_url, after)
    tries = [_raw_once(backend, rows) for _ in range(runs)]
    seconds, method = min(tries)
    log(f"  raw {method}: {len(rows):,} rows in {seconds:.2f} s = {len(rows) / seconds:,.0f}/s "
        f"(best of {runs}: {', '.join(f'{len(rows) / s:,.0f}' for s, _m in tries)} rows/s)")
    return {"rows": len(rows), "seconds": seconds, "rows_per_s": len(rows) / seconds, "method": method,
            "runs_rows_per_s": [round(len(rows) / s) for s, _m in tries]}


def _raw_once(backend: Backend, rows: list[tuple[Any, ...]]) -> tuple[float, str]:
    url = backend.new_url("raw")
    migrated(url)
    try:
        if url.startswith("sqlite"):
            import sqlite3
            conn = sqlite3.connect(sqlite_path(url), isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # as the server's connections
            started = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(f"INSERT INTO events ({','.join(_q(c) for c in d.EVENT_COLUMNS)}) "
                             f"VALUES ({','.join('?' * len(d.EVENT_COLUMNS))})", rows)
            conn.execute("COMMIT")
            seconds = time.perf_counter() - started
            conn.close()
            return seconds, "executemany"
        import psycopg
        # the form the push's own COPY uses (store/bulk.py): binary where the columns allow
        types = bulk.copy_types(t.events)
        assert tuple(c.name for c in t.events.c) == d.EVENT_COLUMNS
        with psycopg.connect(dbapi_url(url)) as pg:
            started = time.perf_counter()
            names = ", ".join(_q(c) for c in d.EVENT_COLUMNS)
            form = " (FORMAT BINARY)" if types is not None else ""
            with pg.cursor().copy(f"COPY events ({names}) FROM STDIN{form}") as copy:
                if types is not None:
                    copy.set_types(types)
                for row in rows:
                    copy.write_row(row)
            pg.commit()
            return time.perf_counter() - started, "COPY"
    finally:
        backend.drop(url)


def _q(column: str) -> str:
    return f'"{column}"'


def _read_event_rows(url: str, after: int) -> list[tuple[Any, ...]]:
    engine = make_engine(url)
    try:
        with read_transaction(engine) as conn:
            return [tuple(r) for r in conn.execute(
                select(*[t.events.c[c] for c in d.EVENT_COLUMNS]).where(t.events.c.cursor > after)
                .order_by(t.events.c.cursor))]
    finally:
        engine.dispose()


# ---- reads on the province ------------------------------------------------------------------

def pull_catch_up(server: ServerProcess, engine: Engine, meta: dict[str, Any], sizes: Sizes, log: Log) -> dict[str, Any]:
    """A team's volunteer, back after a long time, pulls its hamlets' events page by page (500 a page,
    as the field app asks) until it has `pull_events` of them."""
    commune = meta["communes"][len(meta["communes"]) // 2]
    with read_transaction(engine) as conn:
        per_hamlet: dict[str, int] = dict(conn.execute(select(t.events.c.hamlet_id, func.count()).where(
            t.events.c.commune == commune["code"]).group_by(t.events.c.hamlet_id)).all())
    hamlets, held = [], 0
    for hamlet in commune["hamlets"]:
        if held >= sizes.pull_events:
            break
        hamlets.append(hamlet)
        held += per_hamlet.get(hamlet, 0)
    device = enrol_many(engine, server.url, "volunteer", 1, hamlets=[hamlets])[0]
    with httpx.Client(timeout=60) as client:
        client.get(server.url + "/healthz")
        got, after, requests, cursors = 0, 0, 0, []
        started = time.perf_counter()
        while got < sizes.pull_events:
            page = client.get(server.url + PULL, params={"after": after, "limit": 500}, headers=device.headers).json()
            requests += 1
            got += len(page["events"])
            cursors += [e["cursor"] for e in page["events"]]
            after = page["next"]
            if not page["more"]:
                break
        seconds = time.perf_counter() - started
    if cursors != sorted(set(cursors)):
        raise RuntimeError("pull cursors are not strictly increasing")
    log(f"  pull catch-up: {got:,} events of {len(hamlets)} hamlets in {requests} pages, {seconds:.2f} s")
    return {"events": got, "seconds": seconds, "requests": requests, "hamlets": len(hamlets)}


def commune_totals(server: ServerProcess, engine: Engine, meta: dict[str, Any], sizes: Sizes, log: Log) -> dict[str, Any]:
    """An officer's GET /api/v1/totals?commune=…&by=hamlet, one request after another."""
    code = meta["communes"][0]["code"]
    officer = enrol_many(engine, server.url, "officer", 1, commune=code)[0]
    timings = []
    with httpx.Client(timeout=60) as client:
        for i in range(sizes.totals_requests + 20):
            started = time.perf_counter()
            answer = client.get(server.url + "/api/v1/totals", params={"commune": code, "by": "hamlet"},
                                headers=officer.headers)
            elapsed = (time.perf_counter() - started) * 1000
            if answer.status_code != 200:
                raise RuntimeError(f"totals: {answer.status_code} {answer.text[:200]}")
            if i >= 20:  # the first ones warm the caches
                timings.append(elapsed)
        by_day = []
        for _ in range(max(10, sizes.totals_requests // 5)):
            started = time.perf_counter()
            client.get(server.url + "/api/v1/totals", params={"commune": code, "by": "day"}, headers=officer.headers)
            by_day.append((time.perf_counter() - started) * 1000)
    rows = answer.json()["rows"]
    out = {"p50_ms": percentile(timings, 50), "p95_ms": percentile(timings, 95), "requests": len(timings),
           "hamlets": len(rows), "by_day_p95_ms": percentile(by_day, 95)}
    log(f"  commune totals by hamlet: p50 {out['p50_ms']:.2f} ms, p95 {out['p95_ms']:.2f} ms ({len(rows)} hamlets)")
    return out


def province_breakdown(engine: Engine, sizes: Sizes, log: Log) -> dict[str, Any]:
    """services.reports.province_totals: the province's counters grouped by commune, in the server's code."""
    timings = []
    for _ in range(sizes.province_runs + 2):
        started = time.perf_counter()
        with read_transaction(engine) as conn:
            answer = reports.province_totals(conn, d.PROVINCE)
        timings.append((time.perf_counter() - started) * 1000)
    timings = timings[2:]
    people = answer.total["people"]
    out = {"p50_ms": percentile(timings, 50), "p95_ms": percentile(timings, 95), "communes": len(answer.rows),
           "people": people, "households": answer.total["households"]}
    log(f"  province by commune: p50 {out['p50_ms']:.1f} ms over {out['communes']} communes, "
        f"{people:,} people, {out['households']:,} households")
    return out


def bytes_per_event(meta: dict[str, Any], log: Log) -> dict[str, Any]:
    """A realistic push: one volunteer's next 500 events as the device sends them, gzip level 6."""
    rng = random.Random("bytes")
    sizes, plain = [], []
    for i in range(4):
        hamlet = known_hamlet(meta["communes"][0]["hamlets"][i])
        events = device_events(uuid4_of(rng), hamlet, d.BATCH, rng, seq0=400 * i)
        body = dumps({"schema": ev.PROTOCOL, "events": [json.loads(d.canonical(e)) for e in events]})
        sizes.append(len(gzip.compress(body, 6)) / len(events))
        plain.append(len(body) / len(events))
    out = {"gzip": statistics.mean(sizes), "json": statistics.mean(plain)}
    log(f"  wire: {out['json']:.0f} B/event as JSON, {out['gzip']:.1f} B/event gzip")
    return out
