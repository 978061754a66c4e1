"""`gocua-server demo`: seed the demo once, then serve it with two field apps beside it.

The API is the server's own (`create_app`, uvicorn). The field apps are separate
processes (`gocua-app --web`, through `python -m field_app.app`), each with its
data dir in the working directory and already enrolled with a spare code: a
volunteer of the demo team and the ward's police officer (the dashboard). They
die with the demo. The server never imports the app.
"""
from __future__ import annotations

import argparse
import atexit
import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import replace

from sync_server.config import Settings
from sync_server.store import migrate
from sync_server.store.db import make_engine, write_transaction

from .seeding import DemoSummary, is_seeded, seed, spare_codes, summarise
from .world import DEMO_TEAM, WARD

#: The demo's field apps (web mode), each its own process and data dir under the working dir:
#: (who, enrolment code label, data dir, port offset from Settings.demo_app_port).
DEMO_APPS = (
    ("volunteer of " + DEMO_TEAM, f"volunteer {DEMO_TEAM}", "gocua-demo-app", 0),
    ("officer of " + WARD + ": the dashboard", f"officer {WARD}", "gocua-demo-officer", 1),
)
SERVER_WAIT = 60.0  # s for the API to answer before the apps are started


def main(args: argparse.Namespace, settings: Settings) -> int:
    engine = make_engine(settings.database_url)
    migrate.upgrade(engine)
    where = engine.url.render_as_string()
    if is_seeded(engine):
        print(f"the demo is already in {where}: not seeding it twice")
        summary = summarise(engine)
    else:
        print(f"seeding the demo campaign into {where} …")
        summary = seed(engine, households_per_hamlet=args.households, progress=print)
        print(f"seeded {summary.hamlets} hamlets, {summary.households:,} households, {summary.people:,} people, "
              f"{summary.visits:,} visits: {summary.events:,} events from {summary.devices} devices "
              f"in {summary.seconds:.1f} s")
    if args.seed_only:
        return 0
    if not summary.codes:
        with write_transaction(engine) as conn:
            summary.codes = spare_codes(conn)
    if not settings.public_url_given:
        host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
        settings = replace(settings, public_url=f"http://{host}:{args.port}")
    start_companions(summary, settings)
    print(f"API at http://{args.host}:{args.port} (OpenAPI: /openapi.json); Ctrl+C stops it")
    sys.stdout.flush()
    import uvicorn

    from sync_server.app import create_app
    uvicorn.run(create_app(settings, engine), host=args.host, port=args.port,
                log_level="warning", access_log=False)
    return 0


def start_companions(summary: DemoSummary, settings: Settings) -> None:
    """What runs beside the API for the demo: the enrolment codes, and two field
    apps (`gocua-app --web`), each already enrolled, that die with the demo: a
    volunteer of the demo team on port 8550 and the ward's police officer (the
    dashboard) on 8551.

    The API starts after this returns, so a thread per app waits for `/healthz`,
    then launches it with `--enrol CODE`: the app spends its spare code at the real
    `POST /api/v1/enroll` before it serves (or keeps its enrolment from an earlier
    run if the server still knows it)."""
    from sync_server.services.enrolment import enrolment_url
    print("enrolment codes for the field app (one-time, 30 days):")
    for label, spare in summary.codes.items():
        print(f"  {label:<20} {spare}   {enrolment_url(settings.public_url, spare)}")
    base = settings.demo_app_port
    if not base:
        return
    for who, label, folder, offset in DEMO_APPS:
        code = summary.codes.get(label)
        if not code:
            continue
        port, data = base + offset, os.path.abspath(folder)
        print(f"field app ({who}): http://127.0.0.1:{port}/  (data in {data}; starts when the API is up)")
        threading.Thread(target=_launch_app, args=(settings.public_url, code, data, port),
                         name=f"gocua-demo-app-{port}", daemon=True).start()


def _launch_app(server_url: str, code: str, data: str, port: int) -> None:
    deadline = time.monotonic() + SERVER_WAIT
    while True:
        try:
            with urllib.request.urlopen(server_url.rstrip("/") + "/healthz", timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            print(f"the field app on port {port} was not started: the API at {server_url} did not answer",
                  file=sys.stderr)
            return
        time.sleep(0.25)  # polling a server that is starting: nothing to wait on but its answer
    command = [sys.executable, "-m", "field_app.app", "--web", "--host", "127.0.0.1", "--port", str(port),
               "--data", data, "--server", server_url, "--enrol", code]
    app = subprocess.Popen(command, preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)

    def stop() -> None:
        if app.poll() is None:
            app.terminate()
            try:
                app.wait(5)
            except subprocess.TimeoutExpired:
                app.kill()

    atexit.register(stop)
    # Stay alive as long as the app: Linux delivers PDEATHSIG when the *thread*
    # that started the child ends, not only when the process does.
    app.wait()


def _die_with_parent() -> None:
    """In the app's process before exec (Linux): SIGTERM when the demo dies, even by SIGKILL."""
    PR_SET_PDEATHSIG = 1
    with contextlib.suppress(OSError):  # not glibc: the app then outlives a killed demo, as elsewhere
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
