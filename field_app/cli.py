"""`gocua-app`'s command line: its arguments, and `--enrol CODE` (an enrolled
device before the app starts: the demo's way). The data dir is field_app/datadir.py's.

    gocua-app [--web] [--host H] [--port P] [--data DIR] [--server URL] [--enrol CODE]
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from field_app.app_state import EnrolFailed, default_key, enrol
from field_app.lock import AppLock
from field_app.net.errors import NotEnrolled, Purged, SyncError
from field_app.net.sync import SyncClient
from field_app.signout import sign_out
from field_app.store import Store

__all__ = ["enrol_at_start", "parse_args", "require_pin_if_due"]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="gocua-app",
        description="Gõ Cửa field app (desktop window, or web mode for leaders and officers).",
    )
    p.add_argument("--web", action="store_true", help="serve the app to browsers (no CDN)")
    p.add_argument("--host", default="127.0.0.1", help="web mode: address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8550, help="web mode: port (default 8550)")
    p.add_argument("--data", metavar="DIR", help="local data directory (default: per-user app data)")
    p.add_argument(
        "--server",
        metavar="URL",
        help="sync server base URL, e.g. http://192.168.1.10:8000 (pre-fills the enrol screen)",
    )
    p.add_argument(
        "--enrol",
        metavar="CODE",
        help="enrol the data dir with this one-time code at --server before starting, unless "
        "it is already enrolled and its server still knows it (the demo uses this)",
    )
    return p.parse_args(argv)


def require_pin_if_due(store: Store) -> None:
    """An officer, leader or admin enrolled here (not in the app) must set the PIN Settings calls
    required, as one enrolled in the app must: the first screen is the PIN's until it is set."""
    pin = AppLock(store)
    if pin.role_requires_pin and not pin.has_pin:
        pin.require()


def enrol_at_start(data_dir: Path, server_url: str | None, code: str, *, wait: float = 30.0) -> str:
    """`--enrol CODE`: make the data dir an enrolled device before serving.

    Returns "kept" when it is already enrolled and the server still knows it,
    "enrolled" after spending the code. An identity the server no longer knows
    (a new demo database) is purged first — its unsent events could never be
    delivered anyway — and the count of any lost events is printed. The server
    may still be starting: an unreachable one is retried for `wait` seconds."""
    if not server_url:
        raise SystemExit("gocua-app: --enrol needs --server URL")
    store = Store(data_dir, key=default_key(data_dir))  # --enrol is for desktop and web mode
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                if store.signed_in:
                    client = SyncClient(store, timeout=10)
                    try:
                        client.check_receipt()
                        require_pin_if_due(store)
                        return "kept"
                    except NotEnrolled:
                        lost = store.pending_count()
                        if lost:
                            print(f"gocua-app: the server no longer knows this device; "
                                  f"{lost} unsent events are dropped", file=sys.stderr)
                        sign_out(store, None, force=True)  # nothing can be sent: the server refuses it
                    except Purged as exc:  # the campaign's retention is over: the client already purged
                        print(f"gocua-app: {exc}", file=sys.stderr)
                    finally:
                        client.close()
                enrol(store, server_url, code)
                require_pin_if_due(store)
                return "enrolled"
            except (EnrolFailed, SyncError) as exc:
                offline = getattr(exc, "kind", None) == "offline" or getattr(exc, "retryable", False)
                if not offline or time.monotonic() > deadline:
                    raise SystemExit(f"gocua-app: enrolment failed: {exc}") from exc
                time.sleep(0.5)
    finally:
        store.close()
