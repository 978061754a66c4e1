"""Server settings, read from the environment once, at startup (`Settings.from_env()` in
`app.create_app` and `cli.main`); nothing else in sync_server reads `os.environ`.

| variable | setting | default |
| --- | --- | --- |
| DATABASE_URL | database_url | sqlite:///gocua.db |
| GOCUA_PUBLIC_URL | public_url (enrolment links; https turns HSTS on) | http://127.0.0.1:8000 |
| GOCUA_ALLOWED_ORIGINS | allowed_origins (comma-separated; CORS is denied otherwise) | none |
| GOCUA_DOCS | docs (1: serve /docs and /redoc) | off |
| GOCUA_TRUSTED_PROXIES | trusted_proxies (comma-separated addresses or networks of the reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed) | none: the socket's peer is the client |
| GOCUA_DEVICE_REQUESTS_PER_MINUTE | rates.device_requests_per_minute | 1200 |
| GOCUA_ENROL_FAILURES_PER_MINUTE | rates.enrol_failures_per_minute | 10 |
| GOCUA_TOKEN_FAILURES_PER_MINUTE | rates.token_failures_per_minute | 60 |
| GOCUA_DEMO_APP_PORT | demo_app_port (`gocua-server demo`'s first field app; 0: none) | 8550 |
| GOCUA_BENCH_PG | bench_pg_url (where `gocua-server bench` makes its databases) | none |

A rate that is not a positive whole number falls back to its default.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_DATABASE_URL = "sqlite:///gocua.db"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"

MAX_EVENTS = 500
MAX_WIRE_BYTES = 5 * 1024 * 1024
MAX_INFLATED_BYTES = 20 * 1024 * 1024
PULL_DEFAULT_LIMIT = 500
PULL_MAX_LIMIT = 2000
ENROL_CODE_TTL_HOURS = 72
DEMO_APP_PORT = 8550  # the demo's volunteer app; the officer's app takes the next port
PUSHES_PER_MINUTE = 120  # per device: a phone syncs in a few requests; a loop does not

DEVICE_REQUESTS_PER_MINUTE = 1200
ENROL_FAILURES_PER_MINUTE = 10
TOKEN_FAILURES_PER_MINUTE = 60


@dataclass(frozen=True)
class Rates:
    """The rate limits a process may change (api/ratelimit.py has the table)."""
    device_requests_per_minute: int = DEVICE_REQUESTS_PER_MINUTE
    enrol_failures_per_minute: int = ENROL_FAILURES_PER_MINUTE
    token_failures_per_minute: int = TOKEN_FAILURES_PER_MINUTE

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Rates:
        return cls(
            device_requests_per_minute=_rate(environ, "GOCUA_DEVICE_REQUESTS_PER_MINUTE", DEVICE_REQUESTS_PER_MINUTE),
            enrol_failures_per_minute=_rate(environ, "GOCUA_ENROL_FAILURES_PER_MINUTE", ENROL_FAILURES_PER_MINUTE),
            token_failures_per_minute=_rate(environ, "GOCUA_TOKEN_FAILURES_PER_MINUTE", TOKEN_FAILURES_PER_MINUTE),
        )


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    public_url: str = DEFAULT_PUBLIC_URL
    allowed_origins: tuple[str, ...] = ()
    docs: bool = False
    trusted_proxies: tuple[str, ...] = ()  # none: X-Forwarded-* are ignored, the socket's peer is the client
    rates: Rates = field(default_factory=Rates)
    # The tools of the server's command line (devtools/, lazily) read theirs here too:
    public_url_given: bool = False  # GOCUA_PUBLIC_URL is set (else the demo makes one from its own port)
    demo_app_port: int = DEMO_APP_PORT  # GOCUA_DEMO_APP_PORT: the demo's first field app (0: none)
    bench_pg_url: str | None = None  # GOCUA_BENCH_PG: where `gocua-server bench` makes its databases
    request_times: str | None = None  # GOCUA_REQUEST_TIMES: a file each request's time is appended to (the bench)
    lock_times: str | None = None  # GOCUA_LOCK_TIMES: a file each write transaction's hold of the lock is appended to

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            database_url=env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            public_url=env.get("GOCUA_PUBLIC_URL", DEFAULT_PUBLIC_URL),
            allowed_origins=_origins(env.get("GOCUA_ALLOWED_ORIGINS", "")),
            docs=env.get("GOCUA_DOCS", "") == "1",
            trusted_proxies=_list(env.get("GOCUA_TRUSTED_PROXIES", "")),
            rates=Rates.from_env(env),
            public_url_given=bool(env.get("GOCUA_PUBLIC_URL")),
            demo_app_port=int(env.get("GOCUA_DEMO_APP_PORT", DEMO_APP_PORT)),
            bench_pg_url=env.get("GOCUA_BENCH_PG") or None,
            request_times=env.get("GOCUA_REQUEST_TIMES") or None,
            lock_times=env.get("GOCUA_LOCK_TIMES") or None,
        )


def _origins(raw: str) -> tuple[str, ...]:
    return tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())


def _list(raw: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in raw.split(",") if x.strip())


def _rate(environ: Mapping[str, str], name: str, default: int) -> int:
    try:
        value = int(environ.get(name, default))
    except ValueError:
        return default
    return value if value > 0 else default
