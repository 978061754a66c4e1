"""Imports of a target list: what the check reads of a commune, and the imports table
(each import's report and progress). The use case is services/imports.py's."""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update

from . import schema as t


@dataclass(frozen=True)
class ImportRow:
    id: str
    commune: str
    device_id: str | None  # who asked (None: the command line)
    import_device_id: str | None
    dry_run: bool
    status: str  # checked | refused | running | done | failed
    rows_total: int
    rows_done: int
    households: int
    people: int
    skipped: int
    errors: list[dict[str, Any]]
    created_at: str
    finished_at: str | None


# ---- what the check reads ---------------------------------------------------------------

def hamlets(conn: Connection, commune: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(id, data) of a commune's hamlets."""
    e = t.entities.c
    for row in conn.execute(select(e.id, e.body).where(e.commune == commune, e.type == "hamlet")):
        yield row.id, json.loads(row.body)["data"]


def households(conn: Connection, commune: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(id, hamlet id, data) of a commune's households, streamed."""
    e = t.entities.c
    for row in conn.execute(select(e.id, e.hamlet_id, e.body).where(e.commune == commune, e.type == "household")
                            .execution_options(yield_per=5000)):
        yield row.id, row.hamlet_id, json.loads(row.body)["data"]


def people(conn: Connection, commune: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(household id, data) of a commune's people, streamed."""
    e = t.entities.c
    for row in conn.execute(select(e.parent_id, e.body).where(e.commune == commune, e.type == "person")
                            .execution_options(yield_per=5000)):
        yield row.parent_id, json.loads(row.body)["data"]


# ---- the imports table --------------------------------------------------------------------

def insert(conn: Connection, row: ImportRow) -> None:
    conn.execute(t.imports.insert().values(
        id=row.id, commune=row.commune, device_id=row.device_id, import_device_id=row.import_device_id,
        dry_run=int(row.dry_run), status=row.status, rows_total=row.rows_total, rows_done=row.rows_done,
        households=row.households, people=row.people, skipped=row.skipped,
        errors=json.dumps(row.errors, ensure_ascii=False), created_at=row.created_at, finished_at=row.finished_at))


def finish(conn: Connection, import_id: str, status: str, *, at: str, rows_done: int = 0,
           import_device_id: str | None = None, errors: list[dict[str, Any]] | None = None) -> None:
    values: dict[str, Any] = {"status": status, "rows_done": rows_done, "finished_at": at}
    if import_device_id is not None:
        values["import_device_id"] = import_device_id
    if errors is not None:
        values["errors"] = json.dumps(errors, ensure_ascii=False)
    conn.execute(update(t.imports).where(t.imports.c.id == import_id).values(**values))


def set_rows_done(conn: Connection, import_id: str, done: int) -> None:
    conn.execute(update(t.imports).where(t.imports.c.id == import_id).values(rows_done=done))


def get(conn: Connection, import_id: str) -> ImportRow | None:
    row = conn.execute(select(t.imports).where(t.imports.c.id == import_id)).first()
    if row is None:
        return None
    return ImportRow(row.id, row.commune, row.device_id, row.import_device_id, bool(row.dry_run), row.status,
                     row.rows_total, row.rows_done, row.households, row.people, row.skipped, json.loads(row.errors),
                     row.created_at, row.finished_at)
