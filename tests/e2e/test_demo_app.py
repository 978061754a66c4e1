"""`gocua-server demo` starts two field apps, one enrolled as a volunteer of the
demo team and one as the ward's officer (the dashboard), prints their addresses,
and takes them down when it stops."""
from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from field_app.app_state import default_key
from field_app.store import Store

from .conftest import REPO, free_port

pytestmark = pytest.mark.e2e


def _wait_http(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the demo exited"
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    raise AssertionError(f"{url} did not answer in {timeout} s")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead too
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


def _two_free_ports() -> int:
    """A free port whose next port is free too (the officer's app takes it)."""
    for _ in range(50):
        port = free_port()
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise AssertionError("no two adjacent free ports")


def test_the_demo_starts_enrolled_apps_that_die_with_it(tmp_path: Path) -> None:
    api, web = free_port(), _two_free_ports()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}", "GOCUA_DEMO_APP_PORT": str(web),
           "PYTHONUNBUFFERED": "1", "FLET_WEB_NO_CDN": "1"}
    env.pop("GOCUA_PUBLIC_URL", None)
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        demo = subprocess.Popen([sys.executable, "-m", "sync_server.cli", "demo", "--households", "2",
                                 "--port", str(api)], cwd=tmp_path, env={**env, "PYTHONPATH": str(REPO)},
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_http(f"http://127.0.0.1:{web}/", demo)
        _wait_http(f"http://127.0.0.1:{web + 1}/", demo)
        text = log.read_text()
        assert f"field app (volunteer of 10525-t1): http://127.0.0.1:{web}/" in text
        assert f"field app (officer of 10525: the dashboard): http://127.0.0.1:{web + 1}/" in text
        assert text.count("gocua-app: enrolled") == 2
        app_pids = []
        for port in (web, web + 1):
            app_pids += [int(pid) for pid in subprocess.run(
                ["pgrep", "-f", f"field_app.app --web .*--port {port}"], capture_output=True, text=True).stdout.split()]
        assert len(app_pids) == 2, app_pids
        for folder, role in (("gocua-demo-app", "volunteer"), ("gocua-demo-officer", "officer")):
            data = tmp_path / folder
            with Store(data, key=default_key(data)) as store:
                assert store.signed_in and store.role == role
                assert store.server_url == f"http://127.0.0.1:{api}"
        os.kill(demo.pid, signal.SIGINT)  # Ctrl+C, to the demo alone
        demo.wait(20)
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in app_pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in app_pids), "a field app outlived the demo"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(demo.pid, signal.SIGKILL)
        demo.wait(10)
    assert re.search(r"enrolment codes for the field app", log.read_text())
