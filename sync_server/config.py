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
PUSHES_PER_MINUTE = 120  # per device: a phone syncs in a few requests; a loop does not


@dataclass(frozen=True)
class Settings:
    database_url: str
    public_url: str

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            public_url=os.environ.get("GOCUA_PUBLIC_URL", "http://127.0.0.1:8000"),
        )
