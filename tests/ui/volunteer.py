"""What the volunteer-screen UI tests share: an enrolled device store with a
hamlet and households, a real in-process sync server (FastAPI's TestClient
handed to the app as its HTTP client), and a tap counter.

    def test_x(make_harness, tmp_path):
        store_dir = enrolled_dir(tmp_path)                 # offline device
        h = open_app(make_harness, store_dir, width=360, height=640)
        tap = Taps(h); tap(h.get(key="outcome.met")); assert tap.count == 1
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from campaign.ids import uuid7
from field_app.app import build_app
from field_app.app_state import default_key
from field_app.store import Store

from ..store_support import add_hamlet
from ..support import Device, enrolled_device, hamlet_data, issue_code, offline_store
from .harness import AppHarness, ClientControl

VN = timezone(timedelta(hours=7))
WARD = "10525"  # Phường Hải Dương
NOWHERE = "http://127.0.0.1:9"  # nothing listens: the device is offline


def device_store(path: Path) -> Store:
    """The app's store for a data dir, opened the way the app opens it on a
    desktop or in web mode (the data key in gocua.key beside the database)."""
    return Store(path, key=default_key(path))


def enrolled_dir(root: Path, *, hamlet: str = "Tổ dân phố 3", server: str = NOWHERE) -> Path:
    """A data dir enrolled as a volunteer of a server that is not there, with
    one hamlet (made on the device: these tests never reach a server)."""
    path = root / "device"
    with offline_store(path, device="device-1", url=server) as store:
        add_hamlet(store, WARD, hamlet, "to_dan_pho")
    return path


def hamlet_of(path: Path) -> str:
    with device_store(path) as store:
        return store.hamlets()[0].id


def add_household(path: Path, address: str, people: list[dict[str, Any]] = (), consent: str = "unknown",
                  hamlet_id: str | None = None) -> tuple[str, list[str]]:
    with device_store(path) as store:
        hid = store.add_household(hamlet_id or store.hamlets()[0].id, address, consent=consent)
        pids = [store.add_person(hid, **p) for p in people]
    return hid, pids


def open_app(make_harness: Callable[..., AppHarness], path: Path, **kw: Any) -> AppHarness:
    options = {k: kw.pop(k) for k in ("http", "autosync", "sync_interval", "server_url", "language") if k in kw}
    options.setdefault("autosync", False)
    return make_harness(lambda page: build_app(page, data_dir=path, **options), **kw)


def shell_of(h: AppHarness) -> Any:
    return h.page.data


class Taps:
    """Taps as a person makes them, counted. A Chip with on_select is toggled
    the way the Flutter client does it (selected prop, then "select")."""

    def __init__(self, h: AppHarness) -> None:
        self.h = h
        self.count = 0

    def __call__(self, target: ClientControl) -> None:
        self.count += 1
        if target.type == "Chip" and target.props.get("on_select") is True:
            if target.disabled:
                raise AssertionError(f"{target!r} is disabled")
            now = not bool(target.props.get("selected", False))
            self.h.update_props(target, {"selected": now})
            self.h.event(target, "select", now)
        else:
            self.h.click(target)


# ---------------------------------------------------------------------------
# A real server, in process
# ---------------------------------------------------------------------------


@dataclass
class InProcessServer:
    engine: Any
    client: Any  # starlette TestClient: an httpx.Client into the app
    url: str = "http://testserver"
    admin: Device | None = None
    made: list[str] = field(default_factory=list)

    def code(self, role: str = "volunteer", *, hamlets: tuple[str, ...] = (), team: str | None = None,
             commune: str | None = None, hours: float = 72, name: str | None = None) -> str:
        return issue_code(self.engine, role, team=team, commune=commune, hamlets=hamlets, hours=hours, name=name)

    def enrol(self, role: str = "admin", **kw: Any) -> Device:
        """A bare wire device (tests/support.py), its requests through the TestClient."""
        return enrolled_device(self, self.code(role, **kw), http=self.client)

    def push(self, *events: tuple[str, str, dict[str, Any]]) -> None:
        """The admin's events, each (kind, entity, data): all taken, none quarantined."""
        self.admin = self.admin or self.enrol("admin")
        answer = self.admin.push([self.admin.event(kind, entity, data) for kind, entity, data in events])
        assert answer.status_code == 200 and answer.json()["quarantined"] == [], answer.text

    def hamlet(self, name: str = "Tổ dân phố 7") -> str:
        hid = uuid7()
        self.push(("hamlet.created", hid, hamlet_data(name, WARD)))
        return hid

    def household(self, hamlet_id: str, address: str, labels: tuple[str, ...] = (),
                  consent: str = "unknown") -> tuple[str, list[str]]:
        hid = uuid7()
        events = [("household.created", hid, {"hamlet_id": hamlet_id, "address": address, "consent": consent})]
        pids = []
        for label in labels:
            pid = uuid7()
            pids.append(pid)
            events.append(("person.added", pid, {"household_id": hid, "label": label, "birth_year": 1980,
                                                 "presence": "home", "card": "cccd_chip", "vneid": "no_app"}))
        self.push(*events)
        return hid, pids

    def totals(self) -> dict[str, Any]:
        assert self.admin is not None
        answer = self.admin.get("/api/v1/totals", commune=WARD, by="hamlet")
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture
def in_process_server(tmp_path: Path) -> Iterator[InProcessServer]:
    """The real sync server (SQLite) in this process, reached through TestClient."""
    from fastapi.testclient import TestClient

    from sync_server.app import create_app
    from sync_server.config import Settings
    from sync_server.store.db import make_engine

    from ..support import migrated_sqlite

    url = migrated_sqlite(tmp_path / "server.db")
    engine = make_engine(url)
    client = TestClient(create_app(Settings(database_url=url, public_url="http://testserver"), engine),
                        base_url="http://testserver")
    yield InProcessServer(engine, client)
    client.close()
    engine.dispose()
