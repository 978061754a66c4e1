"""A cheap load generator for "1,000 devices at once": one process, asyncio streams, HTTP/1.1
keep-alive, every request prepared as bytes beforehand.

The load generator shares the server's two cores, so what it spends per request is taken from
the server: httpx's client costs about as much CPU per request as the server's own work. Here a
request is a `write` of prepared bytes and a response is read by its Content-Length, parsed as
JSON only for a pull page's `next` and `more`. `connections` sockets stay open; each takes the
next device in turn, so at most that many devices are in flight.
"""
from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

PUSH = "/api/v1/sync/push"
PULL = "/api/v1/sync/pull"


@dataclass(frozen=True)
class Plan:
    """One device's sync: its token, its gzip push body, the cursor it pulls from."""
    token: str
    body: bytes
    after: int


def _push_request(host: str, plan: Plan) -> bytes:
    head = (f"POST {PUSH} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {plan.token}\r\n"
            f"Content-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: {len(plan.body)}\r\n\r\n")
    return head.encode() + plan.body


def _pull_request(host: str, token: str, after: int) -> bytes:
    return (f"GET {PULL}?after={after}&limit=500 HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: Bearer {token}\r\n\r\n").encode()


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Status and body of one response (Content-Length or chunked)."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("the server closed the connection")
    status = int(status_line.split()[1])
    length, chunked = 0, False
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if not chunked:
        return status, await reader.readexactly(length)
    body = bytearray()
    while (size := int((await reader.readline()).split(b";")[0], 16)) > 0:
        body += await reader.readexactly(size)
        await reader.readline()
    await reader.readline()
    return status, bytes(body)


async def run(host: str, port: int, plans: Sequence[Plan], connections: int) -> list[tuple[float, str | None]]:
    """Each plan's (seconds from its push to its last pull page, error or None), in plan order."""
    results: list[tuple[float, str | None]] = [(0.0, "not run")] * len(plans)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(len(plans)):
        queue.put_nowait(i)
    name = f"{host}:{port}"
    pushes = [_push_request(name, p) for p in plans]  # prepared before the clock starts

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while not queue.empty():
                i = queue.get_nowait()
                plan = plans[i]
                started = time.perf_counter()
                try:
                    writer.write(pushes[i])
                    status, body = await _answer(reader)
                    if status != 200:
                        results[i] = (time.perf_counter() - started, f"push {status} {body[:120]!r}")
                        continue
                    after = plan.after
                    while True:
                        writer.write(_pull_request(name, plan.token, after))
                        status, body = await _answer(reader)
                        if status != 200:
                            raise ValueError(f"pull {status} {body[:120]!r}")
                        page = json.loads(body)
                        after = page["next"]
                        if not page["more"]:
                            break
                    results[i] = (time.perf_counter() - started, None)
                except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
                    results[i] = (time.perf_counter() - started, f"{type(exc).__name__}: {exc}")
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(min(connections, len(plans)))))
    return results
