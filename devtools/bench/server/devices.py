"""The devices' side, against a real server process: a week offline over a slow link, and many
devices syncing at once."""
from __future__ import annotations

import asyncio
import os
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, func, select

from sync_server.store import schema as t
from sync_server.store.db import read_transaction

from ..common import Log, percentile
from . import dataset as d
from . import loadgen
from .link import SlowLink
from .measures import GZIP_HEADERS, PULL, PUSH, Sizes, chunks, create_hamlets, device_events, gz_body, known_hamlet
from .process import Device, RssSampler, ServerProcess, enrol_many, make_codes

# ---- a week offline over a slow link --------------------------------------------------------

def week_offline(server: ServerProcess, engine: Engine, meta: dict[str, Any], sizes: Sizes, log: Log,
                 workdir: Path) -> dict[str, Any]:
    """A volunteer records a week of work offline, then syncs once through a 1 Mbit/s, 300 ms link."""
    rng = random.Random("week")
    with httpx.Client(timeout=60) as client:
        admin = enrol_many(engine, server.url, "admin", 1)[0]
        hamlets, _ = create_hamlets(client, server.url, admin, meta["communes"][0]["code"], 1, rng)
        code = make_codes(engine, "volunteer", 1, hamlets=[[h.id for h in hamlets]])[0]
        answer = client.post(server.url + "/api/v1/enroll", json={"code": code}).json()
    events = device_events(answer["device_id"], hamlets[0], sizes.week_events, rng)
    try:
        from field_app.net.sync import SyncClient
        from field_app.store import Store
    except ImportError:
        return _week_offline_raw(server, answer, events, log)
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        store = Store(Path(tmp) / "phone.db", key=os.urandom(32))  # the phone's data key
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

            hooks: dict[str, list[Callable[..., Any]]] = {"request": [count], "response": [answered]}
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
           "bytes_up": up, "bytes_down": down, "client": "field_app.net.sync.SyncClient", "receipt_agrees": agrees}
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
        for chunk in chunks(events, d.BATCH):
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

def many_devices(server: ServerProcess, engine: Engine, meta: dict[str, Any], sizes: Sizes, log: Log) -> dict[str, Any]:
    """`devices` volunteers, each enrolled, push a small batch and pull what is new in their hamlet;
    at most `devices_in_flight` at a time. Latency is one device's push + pull, from its start."""
    hamlets = [h for c in meta["communes"] for h in c["hamlets"]]
    n = sizes.devices
    codes = make_codes(engine, "volunteer", n, hamlets=[[hamlets[i % len(hamlets)]] for i in range(n)])
    enrolled = asyncio.run(_enrol_all(server.url, codes, cap=50))
    rng = random.Random("devices")
    bodies = [gz_body(device_events(dev.id, known_hamlet(hamlets[i % len(hamlets)]), sizes.device_batch, rng))
              for i, dev in enumerate(enrolled)]
    with read_transaction(engine) as conn:
        cursor0 = conn.execute(select(func.max(t.events.c.cursor))).scalar_one()
    plans = [loadgen.Plan(dev.token, body, cursor0) for dev, body in zip(enrolled, bodies, strict=True)]
    mark = _size(server.request_times)
    with RssSampler([server]) as rss:
        cpu0 = server.cpu_seconds()
        started = time.perf_counter()
        results = asyncio.run(loadgen.run("127.0.0.1", server.port, plans, sizes.devices_in_flight))
        wall = time.perf_counter() - started
        cpu = server.cpu_seconds() - cpu0
    own = _server_times(server.request_times, mark)
    latencies = [r[0] * 1000 for r in results if r[1] is None]
    errors = [r[1] for r in results if r[1] is not None]
    out = {"devices": n, "in_flight": sizes.devices_in_flight, "errors": len(errors), "error_sample": errors[:3],
           "p50_ms": percentile(latencies, 50), "p99_ms": percentile(latencies, 99),
           "max_ms": max(latencies, default=0),
           "wall_s": wall, "rss_mb_max": rss.max_mb, "rss_mb": {str(k): round(v, 1) for k, v in rss.peak.items()},
           "processes": len(rss.peak), "server_cpu_ms_per_device": cpu * 1000 / n,
           "client": "devtools/bench/server/loadgen.py (asyncio streams, keep-alive, prepared requests)",
           **{f"server_{kind}_{p}_ms": percentile(own.get(kind, []), q)
              for kind in ("push", "pull") for p, q in (("p50", 50), ("p99", 99))}}
    log(f"  {n:,} devices ({sizes.devices_in_flight} in flight): {len(errors)} errors, p50 {out['p50_ms']:.0f} ms, "
        f"p99 {out['p99_ms']:.0f} ms, {wall:.1f} s in all, server CPU {cpu * 1000 / n:.1f} ms a device; "
        f"server RSS max {rss.max_mb:.0f} MB per process" + (f"; errors: {errors[:3]}" if errors else ""))
    log(f"    the server's own request times: push p50 {out['server_push_p50_ms']:.1f} / p99 "
        f"{out['server_push_p99_ms']:.1f} ms, pull p50 {out['server_pull_p50_ms']:.1f} / p99 "
        f"{out['server_pull_p99_ms']:.1f} ms ({sum(len(v) for v in own.values()):,} requests)")
    return out


def _size(path: str | None) -> int:
    return os.path.getsize(path) if path and os.path.exists(path) else 0


def _server_times(path: str | None, offset: int) -> dict[str, list[float]]:
    """{"push": [ms], "pull": [ms]} the server wrote (GOCUA_REQUEST_TIMES) after `offset`."""
    out: dict[str, list[float]] = {"push": [], "pull": []}
    if not path or not os.path.exists(path):
        return out
    with open(path, "rb") as f:
        f.seek(offset)
        for line in f.read().decode().splitlines():
            _method, route, _status, ms = line.split(" ")
            kind = "push" if route == PUSH else "pull" if route == PULL else None
            if kind:
                out[kind].append(float(ms))
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
