"""Import of a target list (households and people): the one use case of
POST /api/v1/imports and `gocua-server import`.

Three steps: read the file (import_file.py), check every row against the
commune (import_plan.py), write the plan as events (here). A dry run stops after
the check; a real import of a file with any bad row is refused whole; a real
import of a good file is written in ONE write transaction, every row or none,
as events of a server-side import device (an officer device enrolled for this
import), pushed through services.ingest in batches of 500. They reach devices by
pull like any other. The API runs the write in a background thread (`start`)
and GET /api/v1/imports/{id} follows it (`state`); the command line runs it in
the foreground (`run`) with a progress bar.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Any

from sqlalchemy import Connection, Engine

from campaign import events as ev
from campaign.ids import uuid7
from campaign.time import local_year, now

from ..render import xlsx as render_xlsx
from ..store import imports as store
from ..store.db import is_sqlite, read_transaction, write_transaction
from ..store.devices import Device, Scope
from ..store.imports import ImportRow
from . import audit, clock, enrolment, ingest
from .access import checked_commune, visible_hamlets
from .enrolment import Caller
from .errors import NotFound, Refused
from .import_file import FIELDS, MAX_BYTES, MAX_ROWS, TEMPLATE_HEADERS, Problem, read, split_upload
from .import_plan import Plan, check, counts, load_world, payloads, recheck

BATCH = ev.MAX_BATCH
STALE_AFTER = timedelta(hours=1)

Progress = Callable[[int, int], None]  # (rows done, rows total)


class ImportFailed(RuntimeError):
    def __init__(self, errors: list[Problem]) -> None:
        super().__init__(f"{len(errors)} rows were refused by the event log")
        self.errors = errors


@dataclass(frozen=True)
class Checked:
    """A checked file: its import's id and status (checked | refused | running), and the plan."""
    import_id: str
    status: str
    dry_run: bool
    plan: Plan
    format: str
    bytes: int

    def report(self) -> dict[str, Any]:
        """What POST /api/v1/imports answers."""
        return {"import_id": self.import_id, "status": self.status, "dry_run": self.dry_run, **self.plan.report()}


@dataclass(frozen=True)
class ImportState:
    """An import as GET /api/v1/imports/{id} answers it (the wire's field names)."""
    import_id: str
    commune: str
    status: str  # checked | refused | running | done | failed
    dry_run: bool
    rows_total: int
    rows_done: int
    households: int
    people: int
    skipped: int
    errors: list[dict[str, Any]]
    import_device_id: str | None
    requested_by: str | None
    created_at: str
    finished_at: str | None


# ---- check ------------------------------------------------------------------------------

def check_file(engine: Engine, who: Caller | None, commune: str, data: bytes, *, dry_run: bool) -> Checked:
    """Read and check a file, and record the import: "checked" (a dry run), "refused" (a real
    import with bad rows: nothing is written) or "running" (run() or start() writes it).
    `who` None: the command line. The check is audited (import.check) unless it runs."""
    parsed = read(data)
    with read_transaction(engine) as conn:
        plan = check(parsed, load_world(conn, commune))
    import_id = uuid7()
    status = "checked" if dry_run else ("refused" if plan.errors else "running")
    detail = {"dry_run": dry_run, "format": parsed.format, "bytes": len(data), "rows": plan.rows,
              "households": plan.new_households, "people": plan.people, "skipped": len(plan.skipped),
              "errors": len(plan.errors)}
    with write_transaction(engine) as conn:
        created = clock.now_iso()
        store.insert(conn, ImportRow(
            import_id, plan.commune, who.device.id if who else None, None, dry_run, status, plan.rows, 0,
            plan.new_households, plan.people, len(plan.skipped), [p.wire() for p in plan.errors], created,
            None if status == "running" else created))
        if status != "running":
            audit.record(conn, who, "import.check", commune, detail={**detail, "import_id": import_id})
    return Checked(import_id, status, dry_run, plan, parsed.format, len(data))


def submit(engine: Engine, who: Caller, commune: str, body: bytes, content_type: str, *, dry_run: bool) -> Checked:
    """POST /api/v1/imports: check the uploaded list (a multipart field or the raw body); a real
    import of a good file starts in a background thread. Refused (with the report) when a real
    import has bad rows."""
    checked_commune(who, commune)
    checked = check_file(engine, who, commune, split_upload(body, content_type), dry_run=dry_run)
    if checked.status == "refused":
        rows = len({p.row for p in checked.plan.errors})
        raise Refused("bad_rows", f"{rows} rows have errors: nothing was imported; correct them and send the "
                      "whole file again", **checked.report())
    if checked.status == "running":
        start(engine, checked, who)
    return checked


# ---- write ------------------------------------------------------------------------------

def write(conn: Connection, plan: Plan, *, progress: Progress | None = None) -> Device | None:
    """Push the plan's events in ONE transaction (the caller's, under the write lock).
    Raises ImportFailed (the caller rolls back) if the log refuses any event. Returns the
    import device, or None when there was nothing to add (a file imported already)."""
    if plan.errors:
        raise ImportFailed(plan.errors)
    if not any(h.new or h.people for h in plan.households):
        if progress:
            progress(plan.rows, plan.rows)
        return None
    code = enrolment.create_enrolment(conn, "officer", commune=plan.commune, ttl_hours=1).code
    device = enrolment.enrol(conn, code).device  # the token is never handed out
    scope = enrolment.scope_of(conn, device)
    at = now().replace(microsecond=0).isoformat()
    events: list[dict[str, Any]] = []
    rows_of: list[int] = []  # per event: the rows it completes
    sources: list[int] = []  # per event: the row reported if it is refused
    for household in plan.households:
        for kind, entity, data, row in payloads(household):
            events.append({"id": uuid7(), "device_id": device.id, "seq": len(events) + 1, "kind": kind,
                           "entity": entity, "base": None, "at": at, "data": data, "schema": ev.SCHEMA})
            rows_of.append(household.rows_alone if kind == "household.created" else 1)
            sources.append(row)
    total = plan.rows
    done = total - sum(rows_of)  # rows that need no event: skipped people, households already held
    if progress:
        progress(done, total)
    for start_at in range(0, len(events), BATCH):
        batch = events[start_at:start_at + BATCH]  # NFC already: every text went through the check
        result = ingest.push(conn, device, scope, batch)
        if result.error or result.quarantined:
            refused = [Problem(sources[q.seq - 1], None, "refused", q.reason) for q in result.quarantined]
            if result.error:
                refused.append(Problem(None, None, result.error, result.detail))
            raise ImportFailed(refused)
        done += sum(rows_of[start_at:start_at + BATCH])
        if progress:
            progress(done, total)
    enrolment.revoke(conn, device.id)  # its work is done; nobody holds its token anyway
    return device


# ---- run, in this thread or another -------------------------------------------------------

_LIVE: dict[str, tuple[int, int]] = {}  # import id -> (rows done, total), for imports running in this process
_LIVE_LOCK = threading.Lock()


def _set_live(import_id: str, done: int, total: int) -> None:
    with _LIVE_LOCK:
        _LIVE[import_id] = (done, total)


def run(engine: Engine, checked: Checked, who: Caller | None, progress: Progress | None = None) -> ImportState:
    """A real import of a checked plan whose record is "running": all of it or nothing, then
    the record says which (done | failed), with its audit row (import.run | import.failed)."""
    plan, import_id = checked.plan, checked.import_id
    detail = {"format": checked.format, "bytes": checked.bytes}
    pg = not is_sqlite(engine)

    def report(done: int, total: int) -> None:
        _set_live(import_id, done, total)
        if pg:  # visible to other server processes; SQLite has one writer, busy with the import
            with engine.begin() as side:
                store.set_rows_done(side, import_id, done)
        if progress:
            progress(done, total)

    try:
        with write_transaction(engine) as conn:
            world = load_world(conn, plan.commune)  # again, under the lock: nothing moved since the check
            changed = recheck(plan, world)
            if changed:
                raise ImportFailed(changed)
            device = write(conn, plan, progress=report)
            made_by = device.id if device is not None else None
            audit.record(conn, who, "import.run", plan.commune,
                         detail={**detail, "import_id": import_id, "import_device_id": made_by, **counts(plan)})
            store.finish(conn, import_id, "done", at=clock.now_iso(), rows_done=plan.rows, import_device_id=made_by)
    except Exception as bad:
        errors = bad.errors if isinstance(bad, ImportFailed) else [
            Problem(None, None, "server_error", f"{type(bad).__name__}: the import stopped and stored nothing")]
        with write_transaction(engine) as conn:
            store.finish(conn, import_id, "failed", at=clock.now_iso(), errors=[p.wire() for p in errors])
            audit.record(conn, who, "import.failed", plan.commune,
                         detail={**detail, "import_id": import_id, "errors": len(errors)})
        if not isinstance(bad, ImportFailed):
            raise
    finally:
        with _LIVE_LOCK:
            _LIVE.pop(import_id, None)
    with read_transaction(engine) as conn:
        out = _state(conn, import_id)
    assert out is not None
    return out


def start(engine: Engine, checked: Checked, who: Caller | None) -> threading.Thread:
    """run() in a background thread: the API answers at once, GET /imports/{id} follows it."""
    _set_live(checked.import_id, 0, checked.plan.rows)
    thread = threading.Thread(target=_run_quietly, args=(engine, checked, who),
                              name=f"import-{checked.import_id[:8]}", daemon=True)
    thread.start()
    return thread


def _run_quietly(engine: Engine, checked: Checked, who: Caller | None) -> None:
    try:
        run(engine, checked, who)
    except Exception:  # recorded as failed already; the log gets the trace
        logging.getLogger("gocua.imports").exception("import %s failed", checked.import_id)


# ---- state and template -----------------------------------------------------------------

def _state(conn: Connection, import_id: str) -> ImportState | None:
    row = store.get(conn, import_id)
    if row is None:
        return None
    status, rows_done, errors = row.status, row.rows_done, row.errors
    if row.status == "running":
        with _LIVE_LOCK:
            live = _LIVE.get(row.id)
        if live is not None:
            rows_done = max(rows_done, live[0])
        elif clock.now() - datetime.fromisoformat(row.created_at) > STALE_AFTER:
            status = "failed"  # the process that ran it stopped: its transaction stored nothing
            errors = [Problem(None, None, "interrupted", "the server stopped during this import: "
                              "nothing of it was stored; import the file again").wire()]
    return ImportState(row.id, row.commune, status, row.dry_run, row.rows_total, rows_done, row.households,
                       row.people, row.skipped, errors, row.import_device_id, row.device_id, row.created_at,
                       row.finished_at)


def state(conn: Connection, who: Caller, import_id: str) -> ImportState:
    """An import's state, for a caller of its commune: rows done of rows total, what it
    created, its errors. NotFound for an unknown id."""
    found = _state(conn, import_id)
    if found is None:
        raise NotFound("unknown_import", f"no import {import_id}")
    checked_commune(who, found.commune)
    return found


def template(conn: Connection, who: Caller, commune: str | None, out: IO[bytes]) -> None:
    """The import template (render/xlsx.py), with the commune's hamlets in its values sheet."""
    hamlets: list[str] = []
    if commune is not None:
        checked_commune(who, commune)
        hamlets = list(visible_hamlets(conn, commune, Scope(hamlets=None)).values())
    render_xlsx.import_template(out, [TEMPLATE_HEADERS[f] for f in FIELDS], hamlets,
                                this_year=local_year(now()), max_rows=MAX_ROWS, max_bytes=MAX_BYTES)
