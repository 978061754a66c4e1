"""Server settings, read from the environment once."""
from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_DATABASE_URL = "sqlite:///gocua.db"

MAX_EVENTS = 500
MAX_WIRE_BYTES = 5 * 1024 * 1024
MAX_INFLATED_BYTES = 20 * 1024 * 1024
PULL_DEFAULT_LIMIT = 500
PULL_MAX_LIMIT = 2000
ENROL_CODE_TTL_HOURS = 72
DEMO_APP_PORT = 8550  # the demo's volunteer app; the officer's app takes the next port
PUSHES_PER_MINUTE = 120  # per device: a phone syncs in a few requests; a loop does not


@dataclass(frozen=True)
class Settings:
    database_url: str
    public_url: str
    # The tools of the server's command line (devtools/, lazily) read theirs here too:
    public_url_given: bool = False  # GOCUA_PUBLIC_URL is set (else the demo makes one from its own port)
    demo_app_port: int = DEMO_APP_PORT  # GOCUA_DEMO_APP_PORT: the demo's first field app (0: none)
    bench_pg_url: str | None = None  # GOCUA_BENCH_PG: where `gocua-server bench` makes its databases

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            public_url=os.environ.get("GOCUA_PUBLIC_URL", "http://127.0.0.1:8000"),
            public_url_given=bool(os.environ.get("GOCUA_PUBLIC_URL")),
            demo_app_port=int(os.environ.get("GOCUA_DEMO_APP_PORT", DEMO_APP_PORT)),
            bench_pg_url=os.environ.get("GOCUA_BENCH_PG") or None,
        )
