"""A slow link on 127.0.0.1: a TCP proxy that delays and throttles.

Each direction is a pipe of `bandwidth` bits per second with `rtt / 2` of
propagation delay: a chunk leaves when the pipe has sent what was queued before
it, and arrives half a round trip later. A new connection costs one round trip
before any data moves (the TCP handshake). Shared by every connection through
it, as one phone's radio is. No loss and no slow start: a lower bound for a
real 3G link of that size, not a model of its bad days.
"""
from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from typing import Any


class _Pipe:
    def __init__(self, bandwidth_bps: float, delay_s: float) -> None:
        self.bandwidth = bandwidth_bps
        self.delay = delay_s
        self.free_at = 0.0
        self.bytes = 0

    def schedule(self, size: int) -> float:
        now = time.monotonic()
        self.free_at = max(self.free_at, now) + size * 8 / self.bandwidth
        self.bytes += size
        return self.free_at + self.delay


class SlowLink:
    """`with SlowLink(target_port) as link:` then talk to link.url instead of the server."""

    def __init__(self, target_port: int, bandwidth_bps: float = 1_000_000, rtt_s: float = 0.3,
                 target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.rtt = rtt_s
        self.up = _Pipe(bandwidth_bps, rtt_s / 2)
        self.down = _Pipe(bandwidth_bps, rtt_s / 2)
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.base_events.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self._sock = sock

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> SlowLink:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc: Any) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _start(self) -> None:
        self._sock.listen(64)
        self._server = await asyncio.start_server(self._handle, sock=self._sock)

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await asyncio.sleep(self.rtt)  # SYN, SYN-ACK: the client's first byte waits a round trip
            server_r, server_w = await asyncio.open_connection(*self.target)
        except (OSError, asyncio.CancelledError):
            client_w.close()
            return
        with contextlib.suppress(asyncio.CancelledError):  # the link is being taken down
            await asyncio.gather(self._pump(client_r, server_w, self.up), self._pump(server_r, client_w, self.down),
                                 return_exceptions=True)
        for w in (client_w, server_w):
            w.close()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, pipe: _Pipe) -> None:
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()

        async def deliver() -> None:
            while (item := await queue.get()) is not None:
                at, chunk = item
                wait = at - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                writer.write(chunk)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()

        sender = asyncio.create_task(deliver())
        try:
            while chunk := await reader.read(16384):
                await queue.put((pipe.schedule(len(chunk)), chunk))
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            await queue.put(None)
            with contextlib.suppress(ConnectionError, OSError):
                await sender
