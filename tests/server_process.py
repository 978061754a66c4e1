"""Start `gocua-server serve` processes fast: each is forked from one zygote that imported the server once.

A fresh `python -m sync_server.cli serve` spends about two seconds of CPU importing SQLAlchemy, Alembic,
FastAPI and the server's modules before it answers; the suite starts a server for every module and
backend, so that was minutes of CI. Here a multiprocessing forkserver imports them once (the
preload below) and forks each server from itself: still a real, separate process running
`cli.main(["serve", ...])` (real uvicorn, real database, its own session so `Server.kill` can SIGKILL
the whole group), with the environment and working directory `Server.start` gives it.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

# "__main__": the forkserver runs the main script (pytest's) once, so that each child need not re-run it
# the rest: what a server or a command imports on first use (PostgreSQL's driver, the xlsx writer and
# reader, the enrolment QR code), ~0.1-0.2 s each, once here rather than in every child
_PRELOAD = ["__main__", "tests.server_process", "sync_server.cli", "sync_server.app", "uvicorn",
            "psycopg", "openpyxl", "openpyxl.chart", "openpyxl.styles", "qrcode"]
_context: Any = None


def _main(argv: list[str], env: dict[str, str], cwd: str, stdout_path: str, stderr_path: str) -> None:
    """In the forked child: a session of its own, the caller's environment, then the CLI."""
    os.setsid()
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    for fd, path in ((1, stdout_path), (2, stderr_path)):
        os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), fd)
    # fd 1 and 2 live as long as the process
    sys.stdout = open(1, "w", encoding="utf-8", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", buffering=1, closefd=False)  # noqa: SIM115
    from sync_server import cli
    try:
        code = cli.main(argv)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    raise SystemExit(code)


def _forkserver() -> Any:
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(_PRELOAD)
    return _context


class ForkedServe:
    """A forked `gocua-server ...` process (`serve`, or any command: `run`), with the few
    `subprocess.Popen` methods `Server` uses."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path, stderr_path: Path,
                 stdout_path: str = os.devnull) -> None:
        self.stderr_path, self.stdout_path = stderr_path, stdout_path
        # daemon: a server a test forgot is ended when the run ends, not waited for
        self._process = _forkserver().Process(target=_main, args=(argv, env, str(cwd), stdout_path, str(stderr_path)),
                                              daemon=True)
        self._process.start()
        self.pid: int = self._process.pid

    def poll(self) -> int | None:
        return self._process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        if self._process.exitcode is None:
            raise subprocess.TimeoutExpired(f"serve (pid {self.pid})", timeout or 0)
        if self.stdout_path == os.devnull:  # a server, ended and waited for: nobody will read its stderr now
            self.stderr_path.unlink(missing_ok=True)
        return self._process.exitcode

    def stderr_text(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""


def run(argv: list[str], env: dict[str, str], cwd: Path, *, check: bool,
        timeout: float) -> subprocess.CompletedProcess[str]:
    """`gocua-server ARGV` as `subprocess.run(..., capture_output=True, text=True)` would give it, forked
    from the zygote (its own process, exit code and output; no second of start-up)."""
    with tempfile.TemporaryDirectory(prefix="gocua-cli-") as tmp:
        out, err = Path(tmp) / "stdout", Path(tmp) / "stderr"
        proc = ForkedServe(argv, env, cwd, err, stdout_path=str(out))
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
            raise
        done = subprocess.CompletedProcess(["gocua-server", *argv], code,
                                           out.read_text(encoding="utf-8", errors="replace") if out.exists() else "",
                                           err.read_text(encoding="utf-8", errors="replace") if err.exists() else "")
    if check:
        done.check_returncode()
    return done
