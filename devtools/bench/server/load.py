"""Databases for the benchmark: make them, fill them in bulk, drop them.

The province is generated once into benchmarks/data/ (git-ignored; one pickle of
rows per commune) and then loaded straight into the events, entities, totals and
devices tables: executemany on SQLite, COPY on PostgreSQL, with the secondary
indexes dropped during the load and created again after, under the names and
definitions the migrations gave them.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import pickle
import secrets
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.engine import make_url

from sync_server.store import migrate
from sync_server.store.db import make_engine
from sync_server.store.devices import hash_secret

from ..common import Log
from . import dataset as d
from . import process

# 2: person bodies carry vneid_active_at, totals the activated counter (0003);
# 3: the people and visits of the shared model (devtools/population.py, devtools/doorstep.py)
# 4: no note on a declined household's visits (note_declined, issue #12)
DATASET_VERSION = 4
RECEIVED_AT = "2026-04-20T12:00:00+00:00"
T = TypeVar("T")
DEVICE_COLUMNS = ("id", "token_hash", "role", "team_id", "commune", "hamlets", "enrolled_at", "revoked_at",
                  "acked_seq", "last_push_at", "last_pull_at")


# ---- backends ----------------------------------------------------------------------------

class Backend:
    name = ""

    def new_url(self, label: str) -> str:
        raise NotImplementedError

    def drop(self, url: str) -> None:
        raise NotImplementedError

    def drop_all(self) -> None:
        for url in list(self.made):
            self.drop(url)

    def on_this_host(self) -> bool:
        """Whether the database works on this machine's cores (its CPU is read from /proc)."""
        return True

    def database_cpu(self) -> dict[int, float] | None:
        """The CPU so far of each of the database's own processes, for a part of a run to be the
        difference of two readings (process.cpu_spent); None where there are none to read: SQLite
        works inside the server's processes (its CPU is theirs), a PostgreSQL on another host on
        cores of its own."""
        return None

    def __init__(self) -> None:
        self.made: list[str] = []


class SqliteBackend(Backend):
    name = "sqlite"

    def __init__(self, workdir: Path) -> None:
        super().__init__()
        self.workdir = workdir

    def new_url(self, label: str) -> str:
        path = self.workdir / f"{label}.db"
        _remove_sqlite(path)
        url = f"sqlite:///{path}"
        self.made.append(url)
        return url

    def drop(self, url: str) -> None:
        _remove_sqlite(Path(make_url(url).database or ""))
        if url in self.made:
            self.made.remove(url)


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal", "-writer.lock"):
        Path(str(path) + suffix).unlink(missing_ok=True)


class PostgresBackend(Backend):
    name = "postgresql"

    def __init__(self, admin_url: str) -> None:
        super().__init__()
        self.admin_url = admin_url.replace("postgresql+psycopg://", "postgresql://")

    def on_this_host(self) -> bool:
        """A server on the loopback or a local socket; one on another host is measured without its CPU."""
        return make_url(self.admin_url).host in (None, "", "127.0.0.1", "localhost", "::1")

    def database_cpu(self) -> dict[int, float] | None:
        return process.database_cpu() if self.on_this_host() else None

    def new_url(self, label: str) -> str:
        import psycopg
        name = f"gocua_bench_{label}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = str(make_url(self.admin_url.replace("postgresql://", "postgresql+psycopg://"))
                  .set(database=name).render_as_string(hide_password=False))
        self.made.append(url)
        return url

    def drop(self, url: str) -> None:
        import psycopg
        name = make_url(url).database
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if url in self.made:
            self.made.remove(url)


def migrated(url: str) -> None:
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()


def dbapi_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def sqlite_path(url: str) -> str:
    return make_url(url).database or ""


# ---- the data set, generated once --------------------------------------------------------

@dataclass
class CommuneMeta:
    index: int
    code: str
    hamlets: list[str]
    volunteers: list[str]
    events: int
    cursor0: int
    acked: dict[str, int]


class Dataset:
    """The generated province on disk: one pickle of rows per commune, and meta.json."""

    def __init__(self, root: Path, scale: d.Scale, seed: int = 1) -> None:
        self.scale = scale
        self.seed = seed
        # a part of the province (bench --only) is kept apart from the whole, whose name it shares
        label = scale.name if scale in (d.FULL, d.QUICK) else f"{scale.name}-{scale.communes}c"
        self.dir = root / f"{label}-v{DATASET_VERSION}-s{seed}"
        self.admin_id = d.admin_device_id(seed)

    @property
    def ready(self) -> bool:
        return (self.dir / "meta.json").exists()

    def meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = json.loads((self.dir / "meta.json").read_text())
        return meta

    def communes(self) -> list[CommuneMeta]:
        return [CommuneMeta(**c) for c in self.meta()["communes"]]

    def build(self, processes: int = 2, log: Log = print) -> float:
        """Generate (if not on disk yet); returns the seconds spent."""
        if self.ready:
            return 0.0
        started = time.perf_counter()
        tmp = self.dir.with_name(self.dir.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        indexes = list(range(self.scale.communes))
        pool = multiprocessing.get_context("spawn").Pool(processes) if processes > 1 else None

        def starmap(f: Callable[..., T], args: list[tuple[Any, ...]]) -> list[T]:
            if pool is None:  # small: not worth starting processes
                return [f(*a) for a in args]
            return pool.starmap(f, args)
        try:
            counts = starmap(_count, [(self.scale, i, self.admin_id, self.seed) for i in indexes])
            cursor0 = [sum(counts[:i]) for i in indexes]
            log(f"  generating {sum(counts):,} events in {len(indexes)} communes ...")
            metas = starmap(_build_commune, [(self.scale, i, self.admin_id, self.seed, cursor0[i], str(tmp))
                                             for i in indexes])
        finally:
            if pool is not None:
                pool.terminate()
        totals = {"events": sum(m["events"] for m in metas), "entities": sum(m.pop("entities") for m in metas),
                  "totals": sum(m.pop("totals") for m in metas), "households": sum(m.pop("households") for m in metas),
                  "people": sum(m.pop("people") for m in metas)}
        meta = {"scale": self.scale.__dict__, "seed": self.seed, "admin_id": self.admin_id, **totals,
                "communes": metas}
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
        shutil.rmtree(self.dir, ignore_errors=True)
        tmp.rename(self.dir)
        return time.perf_counter() - started

    def rows(self) -> Iterator[tuple[CommuneMeta, d.Rows]]:
        for c in self.communes():
            with open(self.dir / f"commune-{c.index:03d}.pkl", "rb") as f:
                yield c, pickle.load(f)

    def device_rows(self) -> list[tuple[Any, ...]]:
        meta = self.meta()
        out = [_device_row(self.admin_id, "admin", [], meta["scale"]["hamlets_per_commune"] * len(meta["communes"]))]
        for c in meta["communes"]:
            for hamlet, (volunteer, acked) in zip(c["hamlets"], c["acked"].items(), strict=True):
                out.append(_device_row(volunteer, "volunteer", [hamlet], acked))
        return out


def _device_row(device_id: str, role: str, hamlets: list[str], acked: int) -> tuple[Any, ...]:
    return (device_id, hash_secret(secrets.token_urlsafe(16)), role, None, None, json.dumps(hamlets),
            RECEIVED_AT, None, acked, RECEIVED_AT, None)


def _count(scale: d.Scale, index: int, admin_id: str, seed: int) -> int:
    return len(d.commune_events(scale, index, admin_id, seed).events)


def _build_commune(scale: d.Scale, index: int, admin_id: str, seed: int, cursor0: int, out: str) -> dict[str, Any]:
    commune = d.commune_events(scale, index, admin_id, seed)
    rows = d.commune_rows(commune.events, cursor0, RECEIVED_AT)
    with open(Path(out) / f"commune-{index:03d}.pkl", "wb") as f:
        pickle.dump(rows, f, protocol=5)
    acked: dict[str, int] = {v: 0 for v in commune.volunteers}
    for event in commune.events:
        if event["device_id"] in acked:
            acked[event["device_id"]] = event["seq"]
    types = [e[1] for e in rows.entities]
    return {"index": index, "code": commune.code, "hamlets": commune.hamlets, "volunteers": commune.volunteers,
            "events": len(rows.events), "cursor0": cursor0, "acked": acked, "entities": len(rows.entities),
            "totals": len(rows.totals), "households": types.count("household"), "people": types.count("person")}


# ---- bulk loading --------------------------------------------------------------------------

BULK_TABLES = ("events", "entities", "totals")


def bulk_load(url: str, batches: Iterator[d.Rows], device_rows: list[tuple[Any, ...]],
              log: Log | None = None) -> dict[str, int]:
    """Fill a migrated, empty database: what a province's pushes would have left in it; on disk
    when it returns (os.sync). A real server's data was written out long before anyone measures
    it; without the sync the gigabytes of the load still in the page cache were written back
    during the measures that followed, and a write that came then waited for them (seen
    2026-12-05: a week offline on the SQLite province took 3.2 s in two full runs, whenever a
    checkpoint of the server's ran beside it, against 2.2 s)."""
    migrated(url)
    if url.startswith("sqlite"):
        counts = _bulk_sqlite(sqlite_path(url), batches, device_rows, log)
    else:
        counts = _bulk_postgres(dbapi_url(url), batches, device_rows, log)
    os.sync()
    return counts


def _bulk_sqlite(path: str, batches: Iterator[d.Rows], device_rows: list[tuple[Any, ...]], log: Log | None) -> dict[str, int]:
    import sqlite3
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")  # a bulk load into a new file: written once, not twice
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1048576")
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN "
        f"({','.join('?' * len(BULK_TABLES))})", BULK_TABLES).fetchall()
    counts = dict.fromkeys(BULK_TABLES, 0)
    conn.execute("BEGIN")
    for name, _sql in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    for rows in batches:
        for table in BULK_TABLES:
            part = getattr(rows, table)
            if part:
                conn.executemany(f"INSERT INTO {table} VALUES ({','.join('?' * len(part[0]))})", part)
                counts[table] += len(part)
    conn.executemany(f"INSERT INTO devices ({','.join(DEVICE_COLUMNS)}) VALUES ({','.join('?' * len(DEVICE_COLUMNS))})",
                     device_rows)
    for _name, sql in indexes:
        conn.execute(sql)
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode=WAL")  # as the server keeps it
    conn.close()
    return counts


def _bulk_postgres(url: str, batches: Iterator[d.Rows], device_rows: list[tuple[Any, ...]], log: Log | None) -> dict[str, int]:
    import psycopg
    counts = dict.fromkeys(BULK_TABLES, 0)
    columns = {"events": d.EVENT_COLUMNS, "entities": d.ENTITY_COLUMNS, "totals": d.TOTAL_COLUMNS}
    with psycopg.connect(url) as conn:
        indexes = conn.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public' AND i.tablename = ANY(%s) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            [list(BULK_TABLES)]).fetchall()
        for name, _sql in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        with conn.cursor() as cur:
            for rows in batches:
                for table in BULK_TABLES:
                    part = getattr(rows, table)
                    if part:
                        names = ", ".join(_quote(c) for c in columns[table])
                        with cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                            for row in part:
                                copy.write_row(row)
                        counts[table] += len(part)
            with cur.copy(f"COPY devices ({', '.join(DEVICE_COLUMNS)}) FROM STDIN") as copy:
                for row in device_rows:
                    copy.write_row(row)
        conn.commit()
        conn.execute("SET maintenance_work_mem = '512MB'")
        for _name, sql in indexes:
            conn.execute(sql)
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return counts


def _quote(column: str) -> str:
    return f'"{column}"' if column == "cursor" else column


def insert_device_rows(url: str, device_rows: list[tuple[Any, ...]]) -> None:
    if url.startswith("sqlite"):
        import sqlite3
        conn = sqlite3.connect(sqlite_path(url))
        with conn:
            conn.executemany(f"INSERT INTO devices ({','.join(DEVICE_COLUMNS)}) VALUES "
                             f"({','.join('?' * len(DEVICE_COLUMNS))})", device_rows)
        conn.close()
        return
    import psycopg
    with psycopg.connect(dbapi_url(url)) as pg:
        pg.cursor().executemany(f"INSERT INTO devices ({','.join(DEVICE_COLUMNS)}) VALUES "
                                  f"({','.join(['%s'] * len(DEVICE_COLUMNS))})", device_rows)


def processes() -> int:
    return max(1, min(2, os.cpu_count() or 1))
