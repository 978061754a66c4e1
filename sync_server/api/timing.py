"""Each request's time as the server sees it, appended to a file (GOCUA_REQUEST_TIMES): the
bench reports these percentiles beside its clients' own, so a figure says what the server did
and what the load generator's queueing added. Off unless configured."""
from __future__ import annotations

import os
import time
from typing import Any

Scope = dict[str, Any]
Receive = Any
Send = Any


class RequestTimes:
    """ASGI middleware: `METHOD path status milliseconds` per request, from its first byte read
    by the application to its last byte handed back; one short append per line (O_APPEND), so
    several worker processes can share the file."""

    def __init__(self, app: Any, path: str) -> None:
        self.app = app
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def timed_send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                ms = (time.perf_counter() - started) * 1000
                os.write(self.fd, f"{scope['method']} {scope['path']} {status} {ms:.3f}\n".encode())

        await self.app(scope, receive, timed_send)
