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
import sys
from pathlib import Path
from typing import Any

# "__main__": the forkserver runs the main script (pytest's) once, so that each child need not re-run it
_PRELOAD = ["__main__", "tests.server_process", "sync_server.cli", "sync_server.app", "uvicorn"]
_context: Any = None


def _serve(argv: list[str], env: dict[str, str], cwd: str, stderr_path: str) -> None:
    """In the forked child: a session of its own, the caller's environment, then the CLI."""
    os.setsid()
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    devnull = os.open(os.devnull, os.O_RDWR)
    err = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.dup2(err, 2)
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115 (fd 2 lives as long as the process)
    from sync_server import cli
    raise SystemExit(cli.main(argv))


def _forkserver() -> Any:
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(_PRELOAD)
    return _context


class ForkedServe:
    """The forked `serve` process, with the few `subprocess.Popen` methods `Server` uses."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path, stderr_path: Path) -> None:
        self.stderr_path = stderr_path
        # daemon: a server a test forgot is ended when the run ends, not waited for
        self._process = _forkserver().Process(target=_serve, args=(argv, env, str(cwd), str(stderr_path)),
                                              daemon=True)
        self._process.start()
        self.pid: int = self._process.pid

    def poll(self) -> int | None:
        return self._process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        if self._process.exitcode is None:
            import subprocess
            raise subprocess.TimeoutExpired(f"serve (pid {self.pid})", timeout or 0)
        self.stderr_path.unlink(missing_ok=True)  # ended and waited for: nobody will read it now
        return self._process.exitcode

    def stderr_text(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""
