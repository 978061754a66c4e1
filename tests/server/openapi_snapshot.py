"""docs/openapi.json: the API as committed, what clients are written against.

tests/server/test_schemathesis.py checks that the running server publishes exactly this file and
fuzzes the server against it. When an API change is meant, refresh the file and commit it with
the change (the diff is the change of contract a reviewer reads):

    uv run python -m tests.server.openapi_snapshot
"""
from __future__ import annotations

import json
from typing import Any

from ..support import ROOT

SNAPSHOT = ROOT / "docs" / "openapi.json"


def current_schema() -> dict[str, Any]:
    """The schema the code makes today (what the server publishes at /openapi.json)."""
    from sync_server.app import create_app
    from sync_server.config import Settings

    return create_app(Settings(database_url="sqlite:///unused-by-the-snapshot.db",
                               public_url="http://testserver")).openapi()


def committed_schema() -> dict[str, Any]:
    return json.loads(SNAPSHOT.read_text(encoding="utf-8"))


def write_snapshot() -> None:
    SNAPSHOT.write_text(json.dumps(current_schema(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write_snapshot()
    print(f"wrote {SNAPSHOT.relative_to(ROOT)}")
