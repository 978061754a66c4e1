"""`gocua-server bench --quick` runs end to end and writes every figure the issue asks for."""
from __future__ import annotations

import json
import os
import subprocess
import sys

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
    # the server recorded its writes' hold of the lock (GOCUA_LOCK_TIMES): a push holds it a while
    assert 0 < figures["ingest_w2_lock_held_share"] <= 1 and figures["ingest_w2_lock_held_ms"] > 0
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
