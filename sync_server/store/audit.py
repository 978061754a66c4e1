"""The audit log: who exported, viewed, imported or changed what, when, in what scope.

One row per action. `detail` says what was done (a list's name, a format, a
count of rows, an import's id) and never holds personal data: no names, no
addresses, no birth years. Rows are written in the transaction of what they
record where there is one (an import, a settings change); a read (a download,
a list page) writes its row in a short transaction of its own before the data
leaves the server.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Any, Iterator

from sqlalchemy import Connection, Engine, or_, select

from .. import clock
from . import schema as t

CLI_ROLE = "cli"  # the server's command line: someone with the database in hand

ACTIONS = (
    "campaign.update",
    "export.totals.xlsx", "export.totals.csv",
    "followup.view", "followup.download",
    "import.check", "import.run", "import.failed",
    "retention.purge",  # store/purge.py
)


def record(conn: Connection, *, device_id: str | None, role: str, action: str, commune: str | None,
           hamlets: list[str] | None = None, detail: dict[str, Any] | None = None) -> int:
    """Add one row; `hamlets` None means the whole commune. Returns the row's id."""
    assert action in ACTIONS, action
    scope = {"commune": commune, "hamlets": sorted(hamlets) if hamlets is not None else None}
    result = conn.execute(t.audit.insert().values(
        at=clock.now_iso(), device_id=device_id, role=role, action=action, commune=commune,
        scope=json.dumps(scope, ensure_ascii=False, separators=(",", ":")),
        detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))))
    return int(result.inserted_primary_key[0])


@contextmanager
def own_transaction(engine: Engine) -> Iterator[Connection]:
    """A short transaction for an audit row that has none to join (a read).

    Not the server-wide write lock: an audit row assigns no cursor, so it need
    not wait behind a long import on PostgreSQL. (SQLite has one writer anyway.)"""
    with engine.connect() as conn:
        with conn.begin():
            yield conn


def entries(conn: Connection, commune: str | None, after: int, limit: int, *, before: int | None = None,
            newest_first: bool = False, action: str | None = None) -> tuple[list[dict[str, Any]], bool]:
    """Rows with after < id (< before), oldest first (or newest first: the app's audit screen reads the
    latest page without walking the whole log); commune None: every commune (admins). `action` is one
    action or a family: "export" matches "export" and every "export.*"."""
    query = select(t.audit).where(t.audit.c.id > after)
    if before is not None:
        query = query.where(t.audit.c.id < before)
    if commune is not None:
        query = query.where(t.audit.c.commune == commune)
    if action is not None:
        query = query.where(or_(t.audit.c.action == action, t.audit.c.action.startswith(action + ".", autoescape=True)))
    order = t.audit.c.id.desc() if newest_first else t.audit.c.id
    rows = conn.execute(query.order_by(order).limit(limit + 1)).all()
    out = [{"id": r.id, "at": r.at, "device_id": r.device_id, "role": r.role, "action": r.action,
            "commune": r.commune, "scope": json.loads(r.scope), "detail": json.loads(r.detail)}
           for r in rows[:limit]]
    return out, len(rows) > limit
