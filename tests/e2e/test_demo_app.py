"""`gocua-server demo` starts one field app, enrolled as a volunteer of the
demo team, prints its address, and takes it down when it stops."""
from __future__ import annotations

import os
import re
import signal
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


def test_the_demo_starts_an_enrolled_app_that_dies_with_it(tmp_path: Path) -> None:
    api, web = free_port(), free_port()
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
        text = log.read_text()
        assert f"field app (volunteer of 10525-t1): http://127.0.0.1:{web}/" in text
        assert "gocua-app: enrolled" in text
        app_pid = int(subprocess.run(["pgrep", "-f", f"field_app.main --web .*--port {web}"],
                                     capture_output=True, text=True).stdout.split()[0])
        data = tmp_path / "gocua-demo-app"
        with Store(data, key=default_key(data)) as store:
            assert store.signed_in and store.role == "volunteer"
            assert store.server_url == f"http://127.0.0.1:{api}"
        os.kill(demo.pid, signal.SIGINT)  # Ctrl+C, to the demo alone
        demo.wait(20)
        deadline = time.monotonic() + 10
        while _alive(app_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(app_pid), "the field app outlived the demo"
    finally:
        try:
            os.killpg(demo.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        demo.wait(10)
    assert re.search(r"enrolment codes for the field app", log.read_text())
