"""Web mode holds its device from the start (issue #11, item 10): an enrolled laptop app (a
leader's) syncs in the background with no browser tab open (field_app.app.hold_for_web)."""
from __future__ import annotations

from pathlib import Path

from field_app.app import hold_for_web
from field_app.app_state import default_key, enrol, release_device
from field_app.store import Store
from tests.support import Server, cli, wait_until


def test_an_enrolled_web_app_syncs_with_no_browser_open(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'server.db'}"
    cli(db, "init")
    server = Server(db).start()
    try:
        data = tmp_path / "leader"
        with Store(data, key=default_key(data)) as store:
            enrol(store, server.url, server.code("admin"))
            assert store.last_sync_ok is None
        device = hold_for_web(data)  # what `gocua-app --web` does before it serves: no page anywhere
        assert device is not None
        try:
            wait_until(lambda: device.store.last_sync_ok is not None, timeout=30,
                       message="no background sync without a browser")
        finally:
            release_device(device)
    finally:
        server.stop()


def test_an_officer_enrolled_from_the_command_line_must_set_a_pin(tmp_path: Path) -> None:
    """`gocua-app --enrol CODE` (not the enrol screen): the PIN Settings calls required is asked
    first all the same; a volunteer's stays an offer."""
    from field_app.cli import enrol_at_start
    from field_app.lock import AppLock

    db = f"sqlite:///{tmp_path / 'server.db'}"
    cli(db, "init")
    server = Server(db).start()
    try:
        for role, scope, required in (("officer", {"commune": "10525"}, True), ("admin", {}, True)):
            data = tmp_path / role
            assert enrol_at_start(data, server.url, server.code(role, **scope)) == "enrolled"
            with Store(data, key=default_key(data)) as store:
                assert AppLock(store).required is required, role
    finally:
        server.stop()
