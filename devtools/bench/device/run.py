"""The device bench's command: build the phone, measure, write the JSON, print the table."""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import tempfile
import time
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..common import Log, logger
from ..common import machine as machine_info
from .measures import STEPS, Measures
from .phone import build
from .raw import Clear, raw_copy

DEFAULT_OUT = Path("benchmarks") / "device.json"


def run(households: int = 2000, seed: int = 1, log: Log | None = None, only: Collection[str] = ()) -> dict[str, Any]:
    """Build the phone's store in a temporary directory, measure (every step, or those in `only`),
    delete it; the results as a dict."""
    log = log or logger()
    started = time.perf_counter()
    rng = random.Random(seed)
    load_start = round(os.getloadavg()[0], 2)
    with tempfile.TemporaryDirectory(prefix="gocua-device-bench-") as tmp:
        root = Path(tmp)
        phone = build(root, households, rng, log)
        clear = Clear(phone.store.path, phone.key)
        raw = raw_copy(clear, root / "raw.db")
        try:
            measures = Measures(phone, clear, raw, root, rng, log)
            sizes = measures.sizes()
            log("sizes: " + ", ".join(f"{k} {v:,}" for k, v in sizes.items()))
            results = measures.all(only)
        finally:
            raw.close()
            clear.close()
            phone.store.close()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "load_average_at_start": load_start,
        "load_average_at_end": round(os.getloadavg()[0], 2),
        "sizes": sizes,
        "measures": results,
        "seconds": round(time.perf_counter() - started, 1),
    }


def machine() -> dict[str, Any]:
    return machine_info() | {"system": platform.system()}


def table(results: dict[str, Any]) -> str:
    header = ["measure", "runs", "median", "p95", "first", "raw median", "raw / ours"]
    lines = [header]
    for m in results["measures"].values():
        label = m["label"] + (f" ({m['matches']} found)" if "matches" in m else "")
        lines.append([label, str(m["runs"]), f"{m['median_ms']:,.2f} ms", f"{m['p95_ms']:,.2f} ms",
                      f"{m['first_ms']:,.2f} ms", f"{m['raw_median_ms']:,.3f} ms", f"{m['ratio']:.3f}"])
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    out = []
    for n, row in enumerate(lines):
        out.append("| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                     for i, (c, w) in enumerate(zip(row, widths, strict=True))) + " |")
        if n == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench.device",
                                     description="the device store's figures against plain SQLite, same run")
    parser.add_argument("--households", type=int, default=2000, help="households on the phone (default 2,000)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"the JSON results (default {DEFAULT_OUT})")
    parser.add_argument("--seed", type=int, default=1, help="the data set's random seed")
    parser.add_argument("--only", default="", help=f"some steps alone, comma-separated: {', '.join(STEPS)} "
                        "(for working on one figure; write them with --out elsewhere than the full run's file)")
    args = parser.parse_args(argv)
    if args.households < 10:
        parser.error("--households must be at least 10")
    only = [step for step in args.only.split(",") if step]
    if unknown := sorted(set(only) - set(STEPS)):
        parser.error(f"--only: no step {', '.join(unknown)}; the steps are {', '.join(STEPS)}")
    results = run(args.households, args.seed, only=only)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    m = results["machine"]
    print()
    print(f"{results['date']}, {m['nproc']} cores ({m['cpu']}), Python {m['python']}, SQLite {m['sqlite']}; "
          f"load average {results['load_average_at_start']} → {results['load_average_at_end']}")
    print(f"{results['sizes']['households']:,} households in {results['sizes']['hamlets']} hamlets, "
          f"{results['sizes']['people']:,} people, {results['sizes']['outbox_events']:,} own events "
          f"({results['sizes']['pending_events']:,} pending at the start)")
    print(table(results))
    print(f"\nwritten {args.out} in {results['seconds']:.0f} s")
    return 0
