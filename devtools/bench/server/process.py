"""Real `gocua-server serve` processes on 127.0.0.1, their memory, and enrolled devices."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
from sqlalchemy import Engine

from sync_server.services import enrolment
from sync_server.store.db import write_transaction

ROOT = Path(__file__).resolve().parents[3]  # where devtools/ and sync_server/ are


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    """`python -m sync_server.cli serve` in its own process group; stop() ends all of it."""
    db_url: str
    workers: int = 1
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    request_times: str | None = None  # a file the server appends each request's own time to
    lock_times: str | None = None  # a file the server appends each write's hold of the lock to
    # The server's stderr goes to a file, never a pipe: a pipe nobody reads fills at 64 KB, and a
    # server logging tracebacks then blocks its event loop on the write (seen: the whole bench hung)
    errors: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 180) -> ServerProcess:  # two workers on a loaded 2-core machine: ~60 s
        env = {**os.environ, "DATABASE_URL": self.db_url, "GOCUA_PUBLIC_URL": self.url}
        if self.request_times:
            env["GOCUA_REQUEST_TIMES"] = self.request_times
        if self.lock_times:
            env["GOCUA_LOCK_TIMES"] = self.lock_times
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sync_server.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(self.workers)],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=self._errors(), start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.stderr_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    if self.workers > 1:
                        self._wait_workers(deadline)
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not start in {timeout} s")

    def _wait_workers(self, deadline: float) -> None:
        while time.monotonic() < deadline and len(self.pids()) < self.workers + 1:
            time.sleep(0.1)
        time.sleep(0.5)  # both workers listening

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
            except ProcessLookupError:
                pass
        if self.errors is not None:
            self.errors.close()
            self.errors = None
        self.proc = None

    def _errors(self) -> IO[bytes]:
        self.errors = tempfile.TemporaryFile()  # noqa: SIM115  # closed in stop()
        return self.errors

    def stderr_text(self) -> str:
        """What the server wrote to stderr so far."""
        if self.errors is None:
            return ""
        self.errors.flush()
        self.errors.seek(0)
        return self.errors.read().decode(errors="replace")

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def pids(self) -> list[int]:
        """The serving process and its worker processes (uvicorn --workers forks children)."""
        return [] if self.proc is None else descendants(self.proc.pid)

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server's processes so far (/proc/PID/stat)."""
        return sum(self.cpu_by_process().values())

    def cpu_by_process(self) -> dict[int, float]:
        """The CPU time of each of the server's processes so far: how the work fell between the workers."""
        return {pid: cpu_seconds(pid) for pid in self.pids()}

    def rss_mb(self) -> dict[int, float]:
        return {pid: rss for pid in self.pids() if (rss := rss_mb(pid)) is not None}


def descendants(root: int) -> list[int]:
    """`root` and every process below it, each parent before its children (/proc/PID/task/*/children)."""
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += _children(pid)
    return out


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                kids += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return kids


def database_cpu() -> dict[int, float]:
    """User + system CPU time so far of each of this host's PostgreSQL processes (the
    postmaster's backends and helpers, by their command name): what the database did in a part
    of a run is the difference of two of these (`cpu_spent`)."""
    found: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().strip() == "postgres":
                        found[int(entry)] = cpu_seconds(int(entry))
            except OSError:
                continue  # gone between the listing and the read
    return found


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> dict[int, float]:
    """The CPU time each process spent between two readings (a process started in between counts
    whole; one that ended in between is not seen, and a run's processes stay up to its end)."""
    return {pid: n - before.get(pid, 0.0) for pid, n in after.items()}


def cpu_seconds(pid: int, task: int | None = None) -> float:
    """User + system CPU time so far of a process, or of one of its threads (`task`: a thread id;
    a process's main thread has its pid); 0.0 for one that is gone."""
    try:
        with open(f"/proc/{pid}/stat" if task is None else f"/proc/{pid}/task/{task}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def rss_mb(pid: int) -> float | None:
    """VmRSS of a process, from /proc/PID/status."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class RssSampler:
    """Samples the peak resident size of every process of some servers, in a thread."""

    def __init__(self, servers: list[ServerProcess], every: float = 0.1) -> None:
        self.servers = servers
        self.every = every
        self.peak: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for server in self.servers:
                for pid, rss in server.rss_mb().items():
                    self.peak[pid] = max(self.peak.get(pid, 0.0), rss)
            self._stop.wait(self.every)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    @property
    def max_mb(self) -> float:
        return max(self.peak.values(), default=0.0)


# ---- devices -----------------------------------------------------------------------------

@dataclass
class Device:
    id: str
    token: str
    role: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_codes(engine: Engine, role: str, n: int, *, commune: str | None = None,
               hamlets: list[list[str]] | None = None) -> list[str]:
    """n one-time enrolment codes, written as `gocua-server enroll` would write them."""
    codes = []
    with write_transaction(engine) as conn:
        for i in range(n):
            code, _ = enrolment.create_enrolment(conn, role, None, commune, hamlets[i] if hamlets else None,
                                                 ttl_hours=24)
            codes.append(code)
    return codes


def enrol(client: httpx.Client, url: str, code: str) -> Device:
    answer = client.post(url + "/api/v1/enroll", json={"code": code}, timeout=30)
    answer.raise_for_status()
    body = answer.json()
    return Device(body["device_id"], body["token"], body["role"])


def enrol_many(engine: Engine, url: str, role: str, n: int, **kw: Any) -> list[Device]:
    codes = make_codes(engine, role, n, **kw)
    with httpx.Client() as client:
        return [enrol(client, url, code) for code in codes]


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
