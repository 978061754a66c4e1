"""`gocua-server bench --quick` runs end to end and writes every figure the issue asks for."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ..support import ROOT

KEYS = ("ingest_events_per_s", "ingest_ratio", "ingest_w2_lock_held_share", "ingest_w2_lock_held_ms", "pull_10k_s",
        "commune_totals_p95_ms", "province_breakdown_ms", "bytes_per_event", "week_offline_sync_s",
        "devices_1000_errors", "devices_1000_p99_ms")


def test_quick_bench_on_sqlite_writes_every_key(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "sync_server.cli", "bench", "--quick", "--backend", "sqlite"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)  # a hang guard
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    results = json.loads((tmp_path / "benchmarks" / "results.json").read_text())
    figures = results["sqlite"]
    for key in KEYS:
        assert isinstance(figures[key], (int, float)), key
    assert figures["devices_1000_errors"] == 0
    assert [p["scale"] for p in figures["scale"]] == ["whole"] and figures["scale"][0]["ingest_events_per_s"] > 0
    assert figures["ingest_events_per_s"] > 0 and 0 < figures["ingest_ratio"] < 1
    # the 2-worker push is the best of three, as the raw insert it is divided by (every run kept);
    # a run one worker served alone is set aside and run again, until three are set aside
    runs, set_aside = figures["ingest_w2_runs_events_per_s"], figures["ingest_w2_one_sided_events_per_s"]
    assert len(runs) == 3 or len(set_aside) == 3
    assert figures["ingest_w2_events_per_s"] == max(runs)
    # the server recorded its writes' hold of the lock (GOCUA_LOCK_TIMES): a push holds it a while
    assert 0 < figures["ingest_w2_lock_held_share"] <= 1 and figures["ingest_w2_lock_held_ms"] > 0
    # SQLite's work is the server's CPU: no database CPU of its own, and a ceiling all the same
    assert figures["ingest_w2_database_cpu_s"] is None and figures["ingest_ratio_cpu_ceiling"] > 0
    assert results["machine"]["nproc"] >= 1 and results["date"]
    assert "| measure" in done.stdout  # the table
    assert _processes_using(tmp_path) == []  # every server the bench started is gone


def _processes_using(path) -> list[int]:
    """Processes whose environment names the path (the bench's servers get DATABASE_URL under it)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/environ", "rb") as f:
                    if str(path).encode() in f.read():
                        found.append(int(entry))
            except OSError:
                pass
    return found


def test_only_names_known_steps_and_keeps_a_part_of_the_province_apart(tmp_path):
    """`bench --only` (one step on the province's first communes): its steps are checked, and its
    part of the province is the full one's first communes, kept in a directory of its own."""
    import pytest

    from devtools.bench.server import dataset as d
    from devtools.bench.server import only
    from devtools.bench.server.load import Dataset

    assert only.steps("totals, province") == ["totals", "province"]
    with pytest.raises(SystemExit, match="--only takes"):
        only.steps("totals,ingestion")
    part = only.part_scale(3)
    assert part.name == d.FULL.name  # the generator seeds each commune by the scale's name and its code
    assert d.communes(part) == d.communes(d.FULL)[:3]
    assert Dataset(tmp_path, part).dir != Dataset(tmp_path, d.FULL).dir


def test_a_two_worker_run_served_by_one_worker_is_told_apart():
    from devtools.bench.server import one_worker_served
    assert one_worker_served([5.64])  # the other process spent less than 0.05 s: not listed
    assert one_worker_served([5.1, 0.4])
    assert not one_worker_served([3.08, 2.81])
    assert not one_worker_served([3.54, 2.27])
    assert not one_worker_served([])


def test_the_lock_held_is_read_for_the_run_alone(tmp_path):
    """measures.lock_held: the writes that ended inside the run's window, their share of it."""
    from devtools.bench.server.measures import lock_held
    log = tmp_path / "lock.log"
    log.write_text("9.5 100.0 90.0\n"  # before the run: the setup's writes
                   "10.5 200.0 50.0\n11.0 600.0 150.0\n"
                   "12.5 100.0 10.0\n")  # after it
    assert lock_held(str(log), 10.0, 12.0) == {"share": 0.4, "held_ms": 400.0, "writer_cpu_ms": 100.0, "writes": 2}
    assert lock_held(str(log), 20.0, 21.0)["writes"] == 0


def test_the_cpu_ceiling_is_every_core_at_the_cpu_an_event_cost():
    """cpu_ceiling: the server's, the database's and the load generator's CPU an event, against
    every core busy, over the raw insert's rate. A server alone is counted whole (SQLite: no
    database CPU of its own)."""
    from devtools.bench.server import cpu_ceiling
    run = {"events": 100_000, "server_cpu_s": 4.0, "database_cpu_s": 2.0, "client_cpu_s": 0.25}
    found = cpu_ceiling(run, 160_000)
    cores = os.cpu_count() or 1
    assert found["cpu_us_per_event"] == 62.5 and found["database_us"] == 20.0
    assert found["events_per_s"] == cores / 62.5e-6
    assert abs(found["ratio"] - cores / 62.5e-6 / 160_000) < 1e-12
    sqlite = cpu_ceiling({**run, "database_cpu_s": None}, 160_000)
    assert sqlite["cpu_us_per_event"] == 42.5 and sqlite["database_us"] == 0.0


def test_the_databases_cpu_is_read_by_process_and_a_new_process_counts_whole():
    """process.cpu_spent over two database_cpu readings: each process's CPU since the first, a
    process that started in between counted from nothing."""
    from devtools.bench.server.process import cpu_spent, database_cpu
    before = {10: 1.0, 11: 2.5}
    after = {10: 1.5, 11: 2.5, 12: 0.25}
    assert cpu_spent(before, after) == {10: 0.5, 11: 0.0, 12: 0.25}  # 0.75 in all
    readings = database_cpu()  # this host's postgres processes (the tests' database runs here)
    assert readings and all(isinstance(pid, int) and seconds >= 0 for pid, seconds in readings.items())


def test_only_a_database_on_this_host_has_its_cpu_read():
    """A PostgreSQL elsewhere works on its own cores: the bench reads no CPU of its, and works out
    no ceiling, rather than a ceiling without the database in it."""
    from devtools.bench.server.load import PostgresBackend, SqliteBackend
    assert PostgresBackend("postgresql://127.0.0.1:5432/postgres").on_this_host()
    assert PostgresBackend("postgresql://localhost/postgres").on_this_host()
    assert PostgresBackend("postgresql:///postgres").on_this_host()  # a local socket
    assert not PostgresBackend("postgresql://db.example.vn:5432/postgres").on_this_host()
    assert SqliteBackend(Path(".")).on_this_host()
    assert PostgresBackend("postgresql://db.example.vn:5432/postgres").database_cpu() is None
    assert SqliteBackend(Path(".")).database_cpu() is None  # SQLite's CPU is the server's
    here = PostgresBackend("postgresql://127.0.0.1:5432/postgres").database_cpu()
    assert here and all(isinstance(pid, int) and seconds >= 0 for pid, seconds in here.items())
