"""`python -m devtools.bench.device` at a tiny size: it runs, reports every measure, and cleans up.

Only the shape is checked, never a time: figures belong to BENCHMARKS.md, and a
threshold here would fail on a loaded machine.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from devtools.bench import device as bench

ROOT = Path(__file__).resolve().parents[2]
MEASURES = ("open", "list_page", "list_page_all", "search_many", "search_name", "search_one", "search_none",
            "keystroke", "keystroke_screen", "keystroke_screen_applied", "keystroke_screen_store", "pending_500",
            "record_visit", "apply_pulled_500", "first_sync", "week_pull")
FIGURES = ("median_ms", "p95_ms", "first_ms", "raw_median_ms", "raw_p95_ms", "raw_first_ms", "ratio")


def test_the_device_bench_reports_every_measure_against_raw_sqlite(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where the bench builds its phone
    out = tmp_path / "device.json"

    assert bench.main(["--households", "50", "--out", str(out)]) == 0

    results = json.loads(out.read_text())
    assert set(results) >= {"date", "machine", "sizes", "measures", "seconds", "load_average_at_start"}
    assert results["machine"]["nproc"] >= 1 and results["machine"]["sqlite"]
    sizes = results["sizes"]
    assert sizes["households"] == 50 and sizes["hamlets"] == 1
    assert sizes["people"] > 50 and sizes["visited"] > 0 and sizes["pending_events"] > 0
    assert list(results["measures"]) == list(MEASURES)
    for name, m in results["measures"].items():
        assert m["runs"] >= (2 if name in ("first_sync", "week_pull") else 5), name  # after the warm-up run
        for figure in FIGURES:
            assert isinstance(m[figure], (int, float)) and m[figure] > 0, (name, figure, m[figure])
        assert m["p95_ms"] >= m["median_ms"] and m["raw_p95_ms"] >= m["raw_median_ms"], name
        assert m["ratio"] == pytest.approx(m["raw_median_ms"] / m["median_ms"], rel=0.05, abs=1e-3), name
        assert m["label"] and m["what"] and m["raw_what"], name
    assert results["measures"]["search_one"]["matches"] == 1
    assert results["measures"]["search_none"]["matches"] == 0
    assert results["measures"]["search_many"]["matches"] > 1
    assert results["measures"]["record_visit"]["events"] == 3  # two people's status and the visit
    assert results["measures"]["apply_pulled_500"]["events"] == 500

    printed = capsys.readouterr().out
    assert "raw / ours" in printed and f"written {out}" in printed
    for m in results["measures"].values():
        assert m["label"] in printed
    assert list(scratch.iterdir()) == [], "the bench leaves nothing behind"


def test_the_device_bench_does_not_import_the_server() -> None:
    # It measures the phone, which does not carry sync_server; a fresh interpreter shows what it pulls in.
    code = ("import sys, devtools.bench.device; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'sync_server', 'fastapi', 'sqlalchemy'}))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_device_bench_is_a_command() -> None:
    # `python -m devtools.bench.device` (BENCHMARKS.md) reaches the bench's own argument checks
    done = subprocess.run([sys.executable, "-m", "devtools.bench.device", "--households", "5"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "--households must be at least 10" in done.stderr


def test_the_device_bench_runs_some_steps_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    out = tmp_path / "some.json"
    assert bench.main(["--households", "10", "--only", "open,pending", "--out", str(out)]) == 0
    assert list(json.loads(out.read_text())["measures"]) == ["open", "pending_500"]
    with pytest.raises(SystemExit):
        bench.main(["--households", "10", "--only", "keystroke"])  # a measure's name, not a step's
    assert "--only: no step keystroke" in capsys.readouterr().err
