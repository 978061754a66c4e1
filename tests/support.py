"""Helpers the tests share: a real server process, databases, events. One of each, for every test:

- `Server`: a real `gocua-server serve` (the `server` fixture of tests/conftest.py), which a test may
  kill and restart; `server.code(role, ...)` and `server.enroll(role, ...)`.
- enrolment: `issue_code` (in-process, as `gocua-server enroll`), `spend_code` (POST /enroll),
  `enrolled_device` (a bare wire `Device`), `enrolled_store` (a device store enrolled the way the
  app enrols), `offline_store` (a device store with an identity and no server).
- `Device` and `wire_event`: the one hand-made wire device and event.
- `wait_until(condition)`: the one way to wait on another thread or process (no fixed sleeps;
  the UI tests' `wait_for` in tests/ui/harness.py is built on it).
- `served_routes()`: what the server's app serves (the role matrix, the schema tests).
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import httpx

from campaign.ids import uuid7

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("GOCUA_TEST_PG", "postgresql://127.0.0.1:5432/test")
VN = timezone(timedelta(hours=7))
T = TypeVar("T")


# One client for the whole run: httpx.get() builds a client (and loads the CA
# bundle) per call, ~45 ms each, which the suite would pay thousands of times.
HTTP = httpx.Client(timeout=30)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition: Callable[[], T], timeout: float = 15.0, *, every: float = 0.02,
               message: str | Callable[[], str] = "the condition never held") -> T:
    """Poll `condition()` until it is truthy and return its value; fail after `timeout` seconds.
    The one way tests wait on something another thread or process does (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message() if callable(message) else message)
        time.sleep(every)


def cli(db_url: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """`gocua-server ARGS` as its own process (forked from the server zygote: tests/server_process.py)."""
    from .server_process import run
    return run(list(args), {**os.environ, "DATABASE_URL": db_url}, ROOT, check=check, timeout=120)


class PostgresDatabases:
    """One throwaway database per test run: created here, dropped after."""

    def __init__(self) -> None:
        self.created: list[str] = []

    def create(self) -> str:
        import psycopg
        name = f"gocua_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return f"postgresql+psycopg://127.0.0.1:5432/{name}"

    def drop_all(self) -> None:
        import psycopg
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()


_MIGRATED_SQLITE: list[Path] = []


def migrated_sqlite(path: Path) -> str:
    """The URL of a new SQLite database at `path`, already at the newest revision: a copy of one the
    migrations made once per process (~2 ms instead of ~50 ms of Alembic; the migrations themselves
    are tested in tests/server/test_migrations.py)."""
    import atexit
    import shutil
    if not _MIGRATED_SQLITE:
        from sync_server.store import migrate
        from sync_server.store.db import make_engine
        folder = Path(tempfile.mkdtemp(prefix="gocua-migrated-"))
        atexit.register(shutil.rmtree, folder, True)
        engine = make_engine(f"sqlite:///{folder / 'server.db'}")
        try:
            migrate.upgrade(engine)
        finally:
            engine.dispose()  # the last connection closed: the WAL is folded into the file
        _MIGRATED_SQLITE.append(folder / "server.db")
    shutil.copyfile(_MIGRATED_SQLITE[0], path)
    return f"sqlite:///{path}"


def database_url(backend: str, tmp: Path, pg: PostgresDatabases) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp / 'server.db'}"
    return pg.create()


def _stderr_of(proc: Any) -> str:
    if hasattr(proc, "stderr_text"):
        return str(proc.stderr_text())
    return str(proc.stderr.read().decode(errors="replace"))


@dataclass
class Server:
    """A real `gocua-server serve` on 127.0.0.1, which a test may kill and restart."""
    db_url: str
    port: int = field(default_factory=free_port)
    workers: int = 1
    env: dict[str, str] = field(default_factory=dict)  # settings beyond the database, e.g. GOCUA_DOCS
    proc: Any = None  # subprocess.Popen, or server_process.ForkedServe (its few methods alike)
    _engine: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        env = {**os.environ, "DATABASE_URL": self.db_url, "GOCUA_PUBLIC_URL": self.url, **self.env}
        argv = ["serve", "--port", str(self.port), "--workers", str(self.workers)]
        if self.workers == 1:  # forked from a zygote that imported the server once (tests/server_process.py)
            from .server_process import ForkedServe
            fd, stderr_path = tempfile.mkstemp(prefix="gocua-serve-", suffix=".log")
            os.close(fd)
            self.proc = ForkedServe(argv, env, ROOT, Path(stderr_path))
        else:  # uvicorn's own worker processes: a daemonic forked process may not have children
            self.proc = subprocess.Popen([sys.executable, "-m", "sync_server.cli", *argv], env=env, cwd=ROOT,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        proc = self.proc

        def answers() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: {_stderr_of(proc)[-2000:]}")
            try:
                return HTTP.get(self.url + "/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(answers, 30, every=0.1, message="server did not start in 30 s")
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flush, as in a power cut."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None

    def enroll(self, role: str, *, team: str | None = None, commune: str | None = None,
               hamlets: tuple[str, ...] = ()) -> Device:
        """A bare wire device of `role` (see `Device`), enrolled through POST /enroll."""
        return enrolled_device(self, self.code(role, team=team, commune=commune, hamlets=hamlets))

    def code(self, role: str, *, team: str | None = None, commune: str | None = None,
             hamlets: tuple[str, ...] = (), hours: float | None = None, name: str | None = None) -> str:
        return issue_code(self.engine, role, team=team, commune=commune, hamlets=hamlets, hours=hours, name=name)

    @property
    def engine(self):  # type: ignore[no-untyped-def]
        if self._engine is None:
            from sync_server.store.db import make_engine
            self._engine = make_engine(self.db_url)
        return self._engine

    def close(self) -> None:
        self.stop()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def served_routes(*, docs: bool = False) -> set[tuple[str, str]]:
    """(method, path) of every route the server's app serves (included routers flattened; HEAD left
    out), with or without the documentation pages of GOCUA_DOCS=1."""
    from sync_server.app import create_app
    from sync_server.config import Settings

    app = create_app(Settings(database_url="sqlite:///unused-by-served-routes.db", public_url="http://testserver",
                              docs=docs))
    out: set[tuple[str, str]] = set()

    def add(route: Any) -> None:
        for method in (getattr(route, "methods", None) or {"GET"}) - {"HEAD"}:
            out.add((method, route.path))

    for route in app.routes:
        if hasattr(route, "effective_route_contexts"):  # FastAPI >= 0.163: an included router
            for context in route.effective_route_contexts():
                add(context.starlette_route or context.original_route)
        else:
            add(route)
    return out


def issue_code(engine: Any, role: str, *, team: str | None = None, commune: str | None = None,
               hamlets: tuple[str, ...] | list[str] = (), hours: float | None = None,
               name: str | None = None) -> str:
    """A fresh enrolment code, made in-process through the service `gocua-server enroll` calls
    (tests/server/test_enrol_auth.py drives the CLI itself: a subprocess per device costs about a
    second). `hours` below zero makes a code that has already expired."""
    from sync_server.services import enrolment
    from sync_server.store.db import write_transaction
    with write_transaction(engine) as conn:
        code, _ = enrolment.create_enrolment(conn, role, team, commune, list(hamlets), name=name,
                                           **({"ttl_hours": hours} if hours is not None else {}))
    return code


def spend_code(url: str, code: str, http: httpx.Client | None = None) -> dict[str, Any]:
    """POST /enroll with `code` at the server at `url`: its answer (device_id, token, role, scope)."""
    answer = (http or HTTP).post(url + "/api/v1/enroll", json={"code": code}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def enrolled_device(server: Any, code: str, http: httpx.Client | None = None) -> Device:
    """A bare wire device at `server` (anything with a `url`: a Server, an in-process server)."""
    body = spend_code(server.url, code, http)
    return Device(server, body["device_id"], body["token"], body["role"], http=http)


def enrolled_store(path: Path | str, url: str, code: str, *, http: httpx.Client | None = None,
                   clock: Any = None) -> Any:
    """A device store at `path` (opened as `new_store` opens it) enrolled the way the app enrols:
    `app_state.enrol` spends the code and keeps the identity."""
    from field_app.app_state import enrol

    store = new_store(path, clock)
    enrol(store, url, code, http=http)
    return store


def offline_store(path: Path | str, *, role: str = "volunteer", scope: dict[str, Any] | None = None,
                  device: str = "dev-a", token: str | None = None, url: str = "http://127.0.0.1:9",
                  clock: Any = None) -> Any:
    """A device store enrolled with an identity and no server (nothing listens at `url`): for
    tests that never reach one, or reach a fake."""
    store = new_store(path, clock)
    store.enrol(url, device, token or f"token-{device}", role, {"hamlets": []} if scope is None else scope)
    from field_app.relay import new_box_key, new_sign_key
    store.keep_sign_key(new_sign_key().private, registered=True)  # as the app's enrolment leaves it
    store.keep_box_key(new_box_key().private, registered=True)
    return store


def wire_event(device_id: str, seq: int, kind: str, entity: str, data: dict[str, Any],
               base: int | None = None, at: str | None = None) -> dict[str, Any]:
    """An event as a device sends it (the wire contract, built by hand)."""
    return {"id": uuid7(), "device_id": device_id, "seq": seq, "kind": kind, "entity": entity,
            "base": base, "at": at or datetime.now(VN).replace(microsecond=0).isoformat(),
            "data": data, "schema": 1}


@dataclass
class Device:
    """A bare device: builds events by hand and speaks the wire contract directly. The one hand-made
    wire device of the tests, at a real server (`server.enroll`) or an in-process one (`http`: its
    TestClient)."""
    server: Any  # a Server, or anything with a `url`
    id: str
    token: str
    role: str
    seq: int = 0
    http: httpx.Client | None = None  # default: the shared HTTP client

    @property
    def client(self) -> httpx.Client:
        return self.http or HTTP

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def event(self, kind: str, entity: str, data: dict[str, Any], base: int | None = None,
              at: str | None = None) -> dict[str, Any]:
        self.seq += 1
        return wire_event(self.id, self.seq, kind, entity, data, base, at)

    def push(self, events: list[dict[str, Any]], **kw: Any) -> httpx.Response:
        return self.client.post(self.server.url + "/api/v1/sync/push", json={"schema": 1, "events": events},
                                headers=self.headers, **{"timeout": 60, **kw})

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.client.get(self.server.url + path, params=params, headers=self.headers, timeout=60)

    def pull_all(self, after: int = 0, limit: int = 500) -> list[dict[str, Any]]:
        out = []
        while True:
            page = self.get("/api/v1/sync/pull", after=after, limit=limit).json()
            out += page["events"]
            after = page["next"]
            if not page["more"]:
                return out


def hamlet_data(name: str = "Tổ dân phố 1", commune: str = "10525") -> dict[str, Any]:
    return {"commune": commune, "name": name, "kind": "to_dan_pho", "valid_from": "2025-07-01", "valid_to": None}


def household_data(hamlet_id: str, address: str = "Số 12, ngõ 5, phố Lê Lợi", consent: str = "given") -> dict[str, Any]:
    return {"hamlet_id": hamlet_id, "address": address, "consent": consent}


def person_data(household_id: str, label: str = "Nguyễn Văn An", birth_year: int | None = 1980,
                card: str = "cccd_chip", vneid: str = "l1_pending", presence: str = "home") -> dict[str, Any]:
    return {"household_id": household_id, "label": label, "birth_year": birth_year, "presence": presence,
            "card": card, "vneid": vneid}


def new_store(path: Path | str, clock: Any = None) -> Any:
    """A device store opened as the desktop app opens it: the data key in a 0600 key
    file next to the database (gocua.db → gocua.key), so reopening the path works."""
    from field_app.keys import FileKeyProvider
    from field_app.store import Store, file_for

    return Store(path, clock, key=FileKeyProvider(file_for(path).with_suffix(".key")))
