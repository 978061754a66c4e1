"""`gocua-server serve` runs `sync_server.app:served_app` in each worker process: the app, with
the garbage collector's young generation collected less often than CPython's default (a push's
short-lived containers made it walk them every few events: sync_server/app.py, GC_YOUNG_THRESHOLD).
The served process itself is exercised by tests/server/test_multiprocess.py."""
from __future__ import annotations

import gc

import pytest

from sync_server import app as app_module


def test_a_served_process_collects_young_garbage_less_often(monkeypatch: pytest.MonkeyPatch) -> None:
    before = gc.get_threshold()
    made = object()
    monkeypatch.setattr(app_module, "create_app", lambda: made)
    try:
        assert app_module.served_app() is made
        assert gc.get_threshold() == (app_module.GC_YOUNG_THRESHOLD, before[1], before[2])
        assert before[0] < app_module.GC_YOUNG_THRESHOLD  # less often than the default, not more
    finally:
        gc.set_threshold(*before)
