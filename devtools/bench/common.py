"""What both benchmarks report alike: percentiles, the machine, a timed log."""
from __future__ import annotations

import os
import platform
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

Log = Callable[[str], None]


def percentile(values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks; NaN when there are no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def machine() -> dict[str, Any]:
    """The machine a run measured: cores, CPU, memory, Python, SQLite, kernel."""
    cpu, mem_kb = "", 0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal"))
    except (OSError, StopIteration):
        pass
    return {"nproc": os.cpu_count(), "memory_gib": round(mem_kb / 2**20, 1), "cpu": cpu or platform.processor(),
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version, "kernel": platform.release()}


def logger() -> Log:
    """print, each line stamped with the seconds since the run started."""
    t0 = time.perf_counter()

    def log(text: str) -> None:
        print(f"[{time.perf_counter() - t0:6.1f}s] {text}", flush=True)
    return log
