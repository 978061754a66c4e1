"""The measurements, each against a real server process on 127.0.0.1."""
from __future__ import annotations

import asyncio
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
from pathlib import Path
from typing import Any, Callable

import httpx
from sqlalchemy import func, select

from campaign import events as ev

from ..store import schema as t
from ..store import totals as store_totals
from ..store.db import make_engine, read_transaction
from . import dataset as d
from .link import SlowLink
from .load import Backend, dbapi_url, migrated, sqlite_path
from .server import (
    Device,
    RssSampler,
    ServerProcess,
    dumps,
    enrol_many,
    make_codes,
)

PUSH = "/api/v1/sync/push"
PULL = "/api/v1/sync/pull"
GZIP_HEADERS = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
Log = Callable[[str], None]


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


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def gz_body(events: list[dict[str, Any]]) -> bytes:
    """A push body as the device sends it: canonical events, compact JSON, gzip level 6."""
    return gzip.compress(dumps({"schema": ev.PROTOCOL, "events": [json.loads(d.canonical(e)) for e in events]}), 6)


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def device_events(device_id: str, hamlet_id: str, n: int, rng: random.Random, seq0: int = 0) -> list[dict[str, Any]]:
    """A volunteer's next n events in one hamlet: households, people, visits, follow-ups."""
    log = d.DeviceLog(device_id, seq0)
    first = d.CAMPAIGN_START + timedelta(days=rng.randrange(30))
    while len(log.events) < n:
        d.household_work(log, rng, hamlet_id, max(1, n // 6), first)
    return log.events[:n]


def create_hamlets(client: httpx.Client, url: str, admin: Device, commune: str, n: int,
                   rng: random.Random, seq0: int = 0) -> tuple[list[str], int]:
    log = d.DeviceLog(admin.id, seq0)
    now = datetime.now(d.VN).replace(microsecond=0)
    hamlets = [d.hamlet_created(log, rng, commune, 900 + i, now) for i in range(n)]
    for chunk in _chunks(log.events, d.BATCH):
        answer = client.post(url + PUSH, content=gz_body(chunk), headers={**admin.headers, **GZIP_HEADERS})
        if answer.status_code != 200 or answer.json()["quarantined"]:
            raise RuntimeError(f"hamlets refused: {answer.status_code} {answer.text[:300]}")
    return hamlets, log.seq


# ---- ingest -------------------------------------------------------------------------------

def ingest(backend: Backend, workers: int, sizes: Sizes, log: Log) -> dict[str, Any]:
    """Several devices push 500-event gzip batches at once through POST /sync/push."""
    url = backend.new_url(f"ingest_w{workers}")
    migrated(url)
    engine = make_engine(url)
    rng = random.Random(f"ingest:{workers}")
    commune = d.communes(d.FULL)[0].code
    try:
        with ServerProcess(url, workers) as server, httpx.Client(timeout=120) as client:
            admin = enrol_many(engine, server.url, "admin", 1)[0]
            hamlets, _ = create_hamlets(client, server.url, admin, commune, sizes.ingest_devices, rng)
            volunteers = enrol_many(engine, server.url, "volunteer", sizes.ingest_devices,
                                    hamlets=[[h] for h in hamlets])
            with read_transaction(engine) as conn:
                cursor0 = conn.execute(select(func.max(t.events.c.cursor))).scalar_one()
            plans = []
            for volunteer, hamlet in zip(volunteers, hamlets):
                events = device_events(volunteer.id, hamlet, sizes.ingest_events_per_device, rng)
                plans.append((volunteer, [gz_body(c) for c in _chunks(events, d.BATCH)], events[-1]["seq"]))
            total = sum(p[2] for p in plans)
            errors: list[str] = []

            def run(volunteer: Device, bodies: list[bytes], last: int) -> None:
                with httpx.Client(timeout=120) as own:
                    for body in bodies:
                        answer = own.post(server.url + PUSH, content=body,
                                          headers={**volunteer.headers, **GZIP_HEADERS})
                        if answer.status_code != 200 or answer.json()["quarantined"]:
                            errors.append(f"{answer.status_code} {answer.text[:200]}")
                            return
                    if answer.json()["acked_seq"] != last:
                        errors.append(f"acked {answer.json()['acked_seq']} != {last}")

            threads = [threading.Thread(target=run, args=plan) for plan in plans]
            cpu0 = server.cpu_seconds()
            started = time.perf_counter()
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            seconds = time.perf_counter() - started
            cpu = server.cpu_seconds() - cpu0
            if errors:
                raise RuntimeError(f"ingest failed: {errors[:3]}")
        with read_transaction(engine) as conn:
            stored = conn.execute(select(func.count()).where(t.events.c.cursor > cursor0)).scalar_one()
        if stored != total:
            raise RuntimeError(f"ingest stored {stored} events of {total}")
        log(f"  ingest, {workers} worker(s): {total:,} events in {seconds:.2f} s = {total / seconds:,.0f}/s "
            f"(server CPU {cpu:.1f} s: {total / cpu:,.0f} events per CPU-second)")
        return {"events": total, "seconds": seconds, "events_per_s": total / seconds, "url": url,
                "server_cpu_s": cpu, "events_per_cpu_s": total / cpu if cpu else None,
                "cursor0": cursor0, "devices": len(plans)}
    finally:
        engine.dispose()


def raw_insert(backend: Backend, source_url: str, after: int, log: Log) -> dict[str, Any]:
    """The same rows the push path stored, straight into an empty events table:
    executemany in one transaction on SQLite, COPY on PostgreSQL."""
    rows = _read_event_rows(source_url, after)
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
            method = "executemany"
        else:
            import psycopg
            with psycopg.connect(dbapi_url(url)) as conn:
                started = time.perf_counter()
                names = ", ".join(_q(c) for c in d.EVENT_COLUMNS)
                with conn.cursor().copy(f"COPY events ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                conn.commit()
                seconds = time.perf_counter() - started
            method = "COPY"
        log(f"  raw {method}: {len(rows):,} rows in {seconds:.2f} s = {len(rows) / seconds:,.0f}/s")
        return {"rows": len(rows), "seconds": seconds, "rows_per_s": len(rows) / seconds, "method": method}
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

def pull_catch_up(server: ServerProcess, engine: Any, meta: dict[str, Any], sizes: Sizes, log: Log) -> dict[str, Any]:
    """A team's volunteer, back after a long time, pulls its hamlets' events page by page (500 a page,
    as the field app asks) until it has `pull_events` of them."""
    commune = meta["communes"][len(meta["communes"]) // 2]
    with read_transaction(engine) as conn:
        per_hamlet = dict(conn.execute(select(t.events.c.hamlet_id, func.count()).where(
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


def commune_totals(server: ServerProcess, engine: Any, meta: dict[str, Any], sizes: Sizes, log: Log) -> dict[str, Any]:
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


def province_breakdown(engine: Any, sizes: Sizes, log: Log) -> dict[str, Any]:
    """store.totals.province_totals: the province's counters grouped by commune, in the server's code."""
    timings = []
    for _ in range(sizes.province_runs + 2):
        started = time.perf_counter()
        with read_transaction(engine) as conn:
            answer = store_totals.province_totals(conn, d.PROVINCE)
        timings.append((time.perf_counter() - started) * 1000)
    timings = timings[2:]
    people = answer["total"]["people"]
    out = {"p50_ms": percentile(timings, 50), "p95_ms": percentile(timings, 95), "communes": len(answer["rows"]),
           "people": people, "households": answer["total"]["households"]}
    log(f"  province by commune: p50 {out['p50_ms']:.1f} ms over {out['communes']} communes, "
        f"{people:,} people, {out['households']:,} households")
    return out


def bytes_per_event(meta: dict[str, Any], log: Log) -> dict[str, Any]:
    """A realistic push: one volunteer's next 500 events as the device sends them, gzip level 6."""
    rng = random.Random("bytes")
    sizes, plain = [], []
    for i in range(4):
        events = device_events(str(d.uuid4_of(rng)), meta["communes"][0]["hamlets"][i], d.BATCH, rng, seq0=400 * i)
        body = dumps({"schema": ev.PROTOCOL, "events": [json.loads(d.canonical(e)) for e in events]})
        sizes.append(len(gzip.compress(body, 6)) / len(events))
        plain.append(len(body) / len(events))
    out = {"gzip": statistics.mean(sizes), "json": statistics.mean(plain)}
    log(f"  wire: {out['json']:.0f} B/event as JSON, {out['gzip']:.1f} B/event gzip")
    return out


# ---- a week offline over a slow link --------------------------------------------------------

def week_offline(server: ServerProcess, engine: Any, meta: dict[str, Any], sizes: Sizes, log: Log,
                 workdir: Path) -> dict[str, Any]:
    """A volunteer records a week of work offline, then syncs once through a 1 Mbit/s, 300 ms link."""
    rng = random.Random("week")
    with httpx.Client(timeout=60) as client:
        admin = enrol_many(engine, server.url, "admin", 1)[0]
        hamlets, _ = create_hamlets(client, server.url, admin, meta["communes"][0]["code"], 1, rng)
        code = make_codes(engine, "volunteer", 1, hamlets=[hamlets])[0]
        answer = client.post(server.url + "/api/v1/enroll", json={"code": code}).json()
    events = device_events(answer["device_id"], hamlets[0], sizes.week_events, rng)
    try:
        from field_app.store import Store
        from field_app.sync import SyncClient
    except ImportError:
        return _week_offline_raw(server, answer, events, log)
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        try:
            store = Store(Path(tmp) / "phone.db", key=os.urandom(32))  # the phone's data key
        except TypeError:  # a store without encryption at rest
            store = Store(Path(tmp) / "phone.db")
        try:
            store.enrol(server.url, answer["device_id"], answer["token"], answer["role"], answer["scope"])
            SyncClient(store).sync_once()  # synced before going offline
            for event in events:  # a week of visits, recorded offline through the app's store
                store.record(event["kind"], event["entity"], event["data"])
            pending = store.pending_count()
            counts: dict[str, int] = {"push": 0, "pull": 0, "other": 0}
            pushed_at: list[float] = []

            def count(request: httpx.Request) -> None:
                path = request.url.path
                counts["push" if path == PUSH else "pull" if path == PULL else "other"] += 1

            def answered(response: httpx.Response) -> None:
                if response.request.url.path == PUSH:
                    pushed_at.append(time.perf_counter())

            hooks = {"request": [count], "response": [answered]}
            with SlowLink(server.port) as link, httpx.Client(event_hooks=hooks) as http:
                store.enrol(link.url, answer["device_id"], answer["token"], answer["role"], answer["scope"])
                sync = SyncClient(store, client=http)
                started = time.perf_counter()
                report = sync.sync_once()
                seconds = time.perf_counter() - started
                up, down = link.up.bytes, link.down.bytes
                used = dict(counts)
                agrees = sync.check_receipt().agree  # not timed: the device proves the server has it all
            if store.pending_count() != 0 or report.pushed != pending or not agrees:
                raise RuntimeError(f"week offline: {store.pending_count()} still pending, receipt agrees: {agrees}")
        finally:
            store.close()
    out = {"seconds": seconds, "push_seconds": pushed_at[-1] - started if pushed_at else None, "events": pending,
           "requests": sum(used.values()),
           "push_requests": used["push"], "pull_requests": used["pull"], "pulled": report.pulled,
           "bytes_up": up, "bytes_down": down, "client": "field_app.sync.SyncClient", "receipt_agrees": agrees}
    log(f"  week offline ({pending:,} events) over 1 Mbit/s, 300 ms: {seconds:.2f} s "
        f"(the push alone {out['push_seconds']:.2f} s), "
        f"{used['push']} push + {used['pull']} pull requests, {up / 1024:.0f} KiB up, {down / 1024:.0f} KiB down")
    return out


def _week_offline_raw(server: ServerProcess, answer: dict[str, Any], events: list[dict[str, Any]],
                      log: Log) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {answer['token']}"}
    counts = {"push": 0, "pull": 0}
    with SlowLink(server.port) as link, httpx.Client(timeout=60) as http:
        started = time.perf_counter()
        for chunk in _chunks(events, d.BATCH):
            http.post(link.url + PUSH, content=gz_body(chunk), headers={**headers, **GZIP_HEADERS}).raise_for_status()
            counts["push"] += 1
        after, pulled = 0, 0
        while True:
            page = http.get(link.url + PULL, params={"after": after, "limit": 500}, headers=headers).json()
            counts["pull"] += 1
            pulled += len(page["events"])
            after = page["next"]
            if not page["more"]:
                break
        seconds = time.perf_counter() - started
        up, down = link.up.bytes, link.down.bytes
    log(f"  week offline (raw httpx): {seconds:.2f} s")
    return {"seconds": seconds, "events": len(events), "requests": counts["push"] + counts["pull"],
            "push_requests": counts["push"], "pull_requests": counts["pull"], "pulled": pulled,
            "bytes_up": up, "bytes_down": down, "client": "httpx"}


# ---- many devices at once ----------------------------------------------------------------

def many_devices(server: ServerProcess, engine: Any, meta: dict[str, Any], sizes: Sizes, log: Log) -> dict[str, Any]:
    """`devices` volunteers, each enrolled, push a small batch and pull what is new in their hamlet;
    at most `devices_in_flight` at a time. Latency is one device's push + pull, from its start."""
    hamlets = [h for c in meta["communes"] for h in c["hamlets"]]
    n = sizes.devices
    codes = make_codes(engine, "volunteer", n, hamlets=[[hamlets[i % len(hamlets)]] for i in range(n)])
    enrolled = asyncio.run(_enrol_all(server.url, codes, cap=50))
    rng = random.Random("devices")
    bodies = [gz_body(device_events(dev.id, hamlets[i % len(hamlets)], sizes.device_batch, rng))
              for i, dev in enumerate(enrolled)]
    with read_transaction(engine) as conn:
        cursor0 = conn.execute(select(func.max(t.events.c.cursor))).scalar_one()
    with RssSampler([server]) as rss:
        cpu0 = server.cpu_seconds()
        started = time.perf_counter()
        results = asyncio.run(_sync_all(server.url, enrolled, bodies, cursor0, sizes.devices_in_flight))
        wall = time.perf_counter() - started
        cpu = server.cpu_seconds() - cpu0
    latencies = [r[0] * 1000 for r in results if r[1] is None]
    errors = [r[1] for r in results if r[1] is not None]
    out = {"devices": n, "in_flight": sizes.devices_in_flight, "errors": len(errors), "error_sample": errors[:3],
           "p50_ms": percentile(latencies, 50), "p99_ms": percentile(latencies, 99),
           "max_ms": max(latencies, default=0),
           "wall_s": wall, "rss_mb_max": rss.max_mb, "rss_mb": {str(k): round(v, 1) for k, v in rss.peak.items()},
           "processes": len(rss.peak), "server_cpu_ms_per_device": cpu * 1000 / n}
    log(f"  {n:,} devices ({sizes.devices_in_flight} in flight): {len(errors)} errors, p50 {out['p50_ms']:.0f} ms, "
        f"p99 {out['p99_ms']:.0f} ms, {wall:.1f} s in all, server CPU {cpu * 1000 / n:.1f} ms a device; "
        f"server RSS max {rss.max_mb:.0f} MB per process" + (f"; errors: {errors[:3]}" if errors else ""))
    return out


async def _enrol_all(url: str, codes: list[str], cap: int) -> list[Device]:
    sem = asyncio.Semaphore(cap)
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=cap)) as client:
        async def one(code: str) -> Device:
            async with sem:
                answer = await client.post(url + "/api/v1/enroll", json={"code": code})
                answer.raise_for_status()
                body = answer.json()
                return Device(body["device_id"], body["token"], body["role"])
        return list(await asyncio.gather(*(one(c) for c in codes)))


async def _sync_all(url: str, devices: list[Device], bodies: list[bytes], cursor0: int,
                    cap: int) -> list[tuple[float, str | None]]:
    sem = asyncio.Semaphore(cap)
    limits = httpx.Limits(max_connections=cap, max_keepalive_connections=cap)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        async def one(device: Device, body: bytes) -> tuple[float, str | None]:
            async with sem:
                started = time.perf_counter()
                try:
                    answer = await client.post(url + PUSH, content=body, headers={**device.headers, **GZIP_HEADERS})
                    if answer.status_code != 200:
                        return time.perf_counter() - started, f"push {answer.status_code} {answer.text[:120]}"
                    after = cursor0
                    while True:
                        answer = await client.get(url + PULL, params={"after": after, "limit": 500},
                                                  headers=device.headers)
                        if answer.status_code != 200:
                            return time.perf_counter() - started, f"pull {answer.status_code} {answer.text[:120]}"
                        page = answer.json()
                        after = page["next"]
                        if not page["more"]:
                            break
                except httpx.HTTPError as exc:
                    return time.perf_counter() - started, f"{type(exc).__name__}: {exc}"
                return time.perf_counter() - started, None
        return list(await asyncio.gather(*(one(dv, b) for dv, b in zip(devices, bodies))))
