"""A Chromium renderer whose main thread stays busy is killed, so that the test waiting on its page
fails (and runs once more: tests/e2e/conftest.py, `pytest_collection_modifyitems`) instead of
hanging.

Seen on the CI machine's kind twice on 2026-12-05: a Flutter page's renderer with its main thread
at 95-100 % of a core for minutes, its frames stopped. Once Playwright's click waited its 30 s
for two animation frames and failed (test_relay_e2e, the leader's first PIN box); once the test
hung in a call Playwright gives no timeout to (keyboard input, evaluate) for 12 minutes, until the
run was stopped (test_named_come_back_e2e, from the page's load). A page of this app idles at
about a tenth of a core; one whose main thread is busy STUCK_S seconds straight is not drawing,
it is stuck, and nothing the test can do brings it back.

The watch samples the main thread of every renderer below this process (Playwright's driver,
then the browser) every EVERY_S seconds from /proc, and kills one busy at least BUSY_SHARE of
each interval for STUCK_S (the bench's /proc readings: devtools/bench/server/process.py). Linux
only, as the rest of the e2e set-up."""
from __future__ import annotations

import os
import signal
import threading
import time

from devtools.bench.server.process import cpu_seconds, descendants

STUCK_S = 30.0
BUSY_SHARE = 0.7
EVERY_S = 2.0


def renderers(root: int) -> list[int]:
    """The Chromium renderer processes below `root`."""
    out = []
    for pid in descendants(root)[1:]:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"--type=renderer" in f.read():
                    out.append(pid)
        except OSError:
            continue
    return out


def main_thread_cpu(pid: int) -> float | None:
    """CPU-seconds of the process's main thread (in a renderer: Blink's and the page's JavaScript);
    None for a process that is gone (cpu_seconds would say 0.0, a reading like any other)."""
    return cpu_seconds(pid, task=pid) if os.path.exists(f"/proc/{pid}/task/{pid}") else None


class RendererWatch:
    """The watch, in a thread of its own, while it is started."""

    def __init__(self, root: int | None = None, stuck_s: float = STUCK_S, every_s: float = EVERY_S) -> None:
        self.root = os.getpid() if root is None else root
        self.stuck_s, self.every_s = stuck_s, every_s
        self.killed: list[int] = []  # the renderers it killed, for the test's report
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="renderer-watch", daemon=True)

    def start(self) -> RendererWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        last: dict[int, tuple[float, float]] = {}  # pid -> (when read, main thread CPU then)
        busy_since: dict[int, float] = {}
        while not self._stop.wait(self.every_s):
            now = time.monotonic()
            seen = renderers(self.root)
            for pid in seen:
                cpu = main_thread_cpu(pid)
                if cpu is None:
                    continue
                before, last[pid] = last.get(pid), (now, cpu)
                if before is None:
                    continue
                if (cpu - before[1]) / (now - before[0]) < BUSY_SHARE:
                    busy_since.pop(pid, None)
                    continue
                if now - busy_since.setdefault(pid, before[0]) >= self.stuck_s:
                    try:
                        os.kill(pid, signal.SIGKILL)
                        self.killed.append(pid)
                    except OSError:
                        pass  # it ended meanwhile
            for pid in set(last) - set(seen):
                last.pop(pid, None)
                busy_since.pop(pid, None)
