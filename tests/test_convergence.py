"""Several devices edit offline and sync through a faulty network; all converge.

The server is the real application (sync_server.app) on a real SQLite file (and, with fewer
examples, on a new PostgreSQL database each),
reached through an httpx transport that loses, repeats, delays and replays
requests, and a push that can die after its work but before its commit (a
server killed mid-push: the transaction rolls back). Whatever happens, once
the network heals every device holds the server's state, every event is held
exactly once, receipts agree and the totals equal a recount from the log.
The edits include come-backs (a not-home visit's time and date), capture sessions changed by
the officer and bookings made offline past capacity, attended, missed or cancelled.

tests/test_server_kill.py does the same against a real uvicorn process that
is SIGKILLed for real.
"""
from __future__ import annotations

import contextlib
import json
import random
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from campaign import vocabulary as v
from campaign.ids import uuid7
from campaign.time import local_date
from field_app.net.errors import SyncError
from field_app.net.sync import SyncClient
from field_app.store import Store
from sync_server.app import create_app
from sync_server.config import Settings
from sync_server.services import ingest, recount
from sync_server.services import team as teams
from sync_server.store import migrate
from sync_server.store import schema as t
from sync_server.store.db import make_engine, read_transaction, write_transaction

from .store_support import add_hamlet, household_list, state_of, visit_of
from .support import enrolled_store, issue_code, migrated_sqlite

FAULTS = ["ok", "ok", "ok", "drop_before", "drop_after", "duplicate", "delay", "replay_late", "crash"]


class ServerCrash(RuntimeError):
    """Raised inside the push transaction after its work: nothing may be committed."""


class FaultyNetwork(httpx.BaseTransport):
    """Between one device and the server: each request meets the next planned fault."""

    def __init__(self, inner: httpx.BaseTransport, plan: list[str], crash_flag: dict[str, bool]) -> None:
        self.inner = inner
        self.plan = plan
        self.crash_flag = crash_flag
        self.late: list[httpx.Request] = []  # requests delivered again, later

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        fault = self.plan.pop(0) if self.plan else "ok"
        copy = _copy(request)
        if fault == "drop_before":
            raise httpx.ConnectError("request lost on the way", request=request)
        if fault == "delay":  # this one arrives late; the device sees a timeout now
            self.late.append(copy)
            raise httpx.ReadTimeout("no answer yet", request=request)
        if fault == "crash":
            self.crash_flag["on"] = True
        try:
            response = self._deliver(request)
        finally:
            self.crash_flag["on"] = False
        if fault == "drop_after":  # the server did the work; the answer is lost
            raise httpx.ReadTimeout("answer lost", request=request)
        if fault == "duplicate":
            self._deliver(copy)
        if fault == "replay_late" and self.late:
            self._deliver(self.late.pop(0))
        return response

    def _deliver(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        return response

    def flush_late(self) -> None:
        while self.late:
            self._deliver(self.late.pop(0))


def _copy(request: httpx.Request) -> httpx.Request:
    return httpx.Request(request.method, request.url, headers=request.headers, content=request.read())


class World:
    """One server, one hamlet, two volunteers and a leader, each with a store and a faulty link."""

    def __init__(self, root: Path, n_volunteers: int = 2, database_url: str | None = None) -> None:
        self.engine = make_engine(database_url or migrated_sqlite(root / "server.db"))
        self.app = create_app(Settings(database_url="unused", public_url="http://testserver"), self.engine)
        self.crash = {"on": False}
        self.http = TestClient(self.app, raise_server_exceptions=False)
        with write_transaction(self.engine) as conn:
            teams.create_team(conn, "t1", "Tổ 1", "10525", [])
        admin = self._enrol("admin", root / "admin")
        self.hamlet = add_hamlet(admin, "10525", "Tổ dân phố 7", "to_dan_pho", "2025-07-01")
        for day in ("05", "06"):  # two capture sessions of one place each: bookings run past capacity
            admin.record("session.created", uuid7(), {
                "commune": "10525", "kind": "mobile_capture", "starts_at": f"2026-12-{day}T08:00:00+07:00",
                "ends_at": f"2026-12-{day}T11:00:00+07:00", "place": "Nhà văn hoá tổ 7", "capacity": 1})
        SyncClient(admin, client=self.http).sync_once()
        with write_transaction(self.engine) as conn:
            teams.add_team_hamlets(conn, "t1", [self.hamlet])
        self.stores = [self._enrol("volunteer", root / f"v{i}") for i in range(n_volunteers)]
        self.stores.append(self._enrol("leader", root / "leader"))
        self.stores.append(self._enrol("officer", root / "officer", commune="10525"))  # changes the sessions
        self.plans: list[list[str]] = [[] for _ in self.stores]
        self.links = [FaultyNetwork(self.http._transport, plan, self.crash) for plan in self.plans]
        self.clients = [SyncClient(store, client=httpx.Client(transport=link, base_url="http://testserver"))
                        for store, link in zip(self.stores, self.links, strict=True)]
        for client in self.clients:  # each device starts with its hamlet, as after enrolment
            client.sync_once()

    def _enrol(self, role: str, path: Path, commune: str | None = None) -> Store:
        code = issue_code(self.engine, role, commune=commune) if commune else issue_code(self.engine, role, team="t1")
        return enrolled_store(path, "http://testserver", code, http=self.http)

    def sync(self, i: int, faults: list[str]) -> None:
        self.plans[i][:] = faults
        try:
            self.clients[i].sync_once()
        except SyncError:
            pass  # a failed sync is retried later, as BackgroundSync would
        finally:
            self.plans[i].clear()

    def heal(self) -> None:
        for link in self.links:
            link.flush_late()
        for _round in range(3):
            for client in self.clients:
                client.sync_once()

    def server_state(self) -> dict[str, Any]:
        with read_transaction(self.engine) as conn:
            rows = conn.execute(select(t.entities)).all()
        return {r.id: {"type": r.type, "hamlet_id": r.hamlet_id, "parent_id": r.parent_id,
                       "data": json.loads(r.body)["data"]} for r in rows}

    def close(self) -> None:
        for client in self.clients:
            client.close()
        for store in self.stores:
            store.close()
        self.http.close()
        self.engine.dispose()


@pytest.fixture(autouse=True)
def crashing_push(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Let a World make the next push die after its work, before its commit."""
    real = ingest.push
    flags: list[dict[str, bool]] = []

    def push(conn, device, scope, batch, planned=None):  # type: ignore[no-untyped-def]
        result = real(conn, device, scope, batch, planned)
        if any(f["on"] for f in flags):
            raise ServerCrash("killed before commit")
        return result

    monkeypatch.setattr(ingest, "push", push)
    return flags


def _edit(store: Store, hamlet: str, op: str, rng: random.Random) -> None:
    """One offline edit, chosen among what this device can see."""
    households = [h.id for h in household_list(store, hamlet)]
    people = [p for h in households for p in store.people(h)]
    if op == "household" or not households:
        store.add_household(hamlet, f"Số {rng.randint(1, 300)}, ngõ {rng.randint(1, 50)}",
                            rng.choice(["given", "given", "unknown", "declined"]))
    elif op == "person" or not people:
        store.add_person(rng.choice(households), None, rng.choice([None, 1950, 1985, 2012, 2022]),
                         "home", rng.choice(v.CARD.codes), rng.choice(["unknown", "no_app", "l1_pending"]))
    elif op == "update":
        person = rng.choice(people)
        field = rng.choice(["card", "vneid", "presence", "blockers"])
        value: Any = {"card": rng.choice(v.CARD.codes), "presence": rng.choice(v.PRESENCE.codes),
                      "vneid": rng.choice(["no_app", "l1_pending", "l1_active"]),
                      "blockers": sorted(rng.sample(v.BLOCKERS.codes, rng.randint(0, 2)))}[field]
        store.update_person(person.id, **{field: value})
    elif op == "visit":
        household = rng.choice(households)
        helped = [p.id for p in store.people(household)][:rng.randint(0, 2)]
        outcome = "met" if helped else rng.choice(["met", "not_home"])
        store.record_visit(household, outcome, ["activation_help"] if helped else [], helped, "")
    elif op == "come_back":  # nobody home; when to come back: a time of day, a date if known, or nothing
        today = local_date(store.clock().astimezone())
        on = rng.choice([None, today, today + timedelta(days=rng.randint(1, 20))])
        come_back = rng.choice([None, {"window": rng.choice(v.COME_BACK.codes), "on": on.isoformat() if on else None}])
        store.record_visit(rng.choice(households), "not_home", [], [], "", come_back)
    elif op == "book":  # offline, never refused for capacity: two devices may fill the last place
        sessions = store.sessions()
        if sessions and people:
            store.book(rng.choice(sessions).id, rng.choice(people).id)
    elif op == "booking":  # attended / no-show (leaders, officers), cancelled (anyone who may)
        bookings = [b for s in store.sessions() for b in store.bookings_in(s.id)]
        if bookings:
            store.record("booking.updated", rng.choice(bookings).id,
                         {"status": rng.choice(["attended", "no_show", "cancelled"])})
    elif op == "session":  # the officer's change; another role's is refused by the phone or the server
        sessions = store.sessions()
        if sessions:
            store.record("session.updated", rng.choice(sessions).id,
                         rng.choice([{"capacity": rng.randint(1, 3)}, {"cancelled": rng.random() < 0.5}]))
    elif op == "consent":
        store.update_household(rng.choice(households), consent=rng.choice(v.CONSENT.codes))
    elif op == "review":  # the leader's is applied; a volunteer's is quarantined by the server
        visits = [visit for h in households for visit in store.visits(h)]
        if visits:
            store.decide_review(rng.choice(visits).id, "approved", "")
    elif op == "void":  # its own visit, or a leader's pick; two devices may void one visit offline
        visits = [visit for h in households for visit in store.visits(h)]
        if visits:
            store.void_visit(rng.choice(visits).id, rng.choice(["", "Ghi nhầm hộ"]))


def _apply_edit(world: World, i: int, op: str, rng: random.Random) -> None:
    from campaign.events import InvalidEvent

    # the store may refuse a change the local state forbids: then nothing was written
    with contextlib.suppress(InvalidEvent):
        _edit(world.stores[i], world.hamlet, op, rng)


def assert_converged(world: World) -> None:
    server = world.server_state()
    for store in world.stores:
        assert store.pending_count() == 0
        assert state_of(store) == server, f"device {store.device_id} differs from the server"
        check = SyncClient(store, client=world.http).check_receipt()
        assert check.agree, check.differences
    with read_transaction(world.engine) as conn:
        assert recount.recount(conn) == []
        for store in world.stores:
            seqs = conn.execute(select(t.events.c.seq).where(t.events.c.device_id == store.device_id)
                                .order_by(t.events.c.seq)).scalars().all()
            assert seqs == list(range(1, store.last_seq + 1)), "an event was lost or duplicated"
            held_back = conn.execute(select(t.events.c.seq).where(
                t.events.c.device_id == store.device_id, t.events.c.status == "quarantined")).scalars().all()
            assert sorted(q.seq for q in store.quarantined()) == sorted(held_back)
        entities = conn.execute(select(func.count()).select_from(t.entities)).scalar_one()
        created = conn.execute(select(func.count()).select_from(t.events).where(
            t.events.c.status == "applied",
            t.events.c.kind.in_(["hamlet.created", "household.created", "person.added", "visit.recorded",
                                 "session.created", "booking.made"]))
        ).scalar_one()
        assert entities == created


step = st.tuples(
    st.integers(0, 3),  # two volunteers, the leader, the officer
    st.sampled_from(["household", "person", "person", "update", "update", "visit", "visit", "come_back", "consent",
                     "review", "void", "book", "booking", "session", "sync", "sync"]),
    st.lists(st.sampled_from(FAULTS), max_size=4),
    st.integers(0, 2**32 - 1),
)


# Every kind of edit at least once, whatever hypothesis draws: households and people, come-backs
# (not-home visits with a time and a date), bookings past capacity from two phones, the officer's
# session changes, attendance and a cancellation, through lost, repeated and late requests.
EVERY_KIND = [(0, "household", [], 1), (0, "person", [], 2), (0, "person", [], 3), (0, "sync", ["ok"], 0),
              *[(device, "visit", [], seed) for seed in range(4, 8) for device in (0, 1)],
              *[(device, "come_back", [], seed) for seed in range(8, 14) for device in (0, 1)],
              (1, "sync", ["duplicate"], 0), (0, "sync", ["drop_after", "replay_late"], 0),
              (0, "book", [], 20), (1, "book", [], 21), (1, "book", [], 22), (0, "sync", ["delay"], 0),
              (1, "sync", ["crash"], 0), (2, "sync", [], 0), (3, "sync", [], 0),
              (3, "session", [], 30), (3, "session", [], 31), (2, "booking", [], 32), (3, "booking", [], 33),
              (1, "booking", [], 34), (0, "come_back", [], 35), (1, "come_back", [], 36),
              (3, "sync", ["drop_before"], 0)]


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=5, max_size=30))
@example(steps=EVERY_KIND)
def test_devices_converge_on_the_server_whatever_the_network_does(crashing_push, steps):
    with tempfile.TemporaryDirectory() as tmp:
        _converge(World(Path(tmp)), steps, crashing_push)


@pytest.mark.postgres
@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=5, max_size=20))
@example(steps=EVERY_KIND)
def test_the_same_on_postgresql(crashing_push, pg_databases, steps):
    """The wire additions (sessions, bookings, come-backs) counted on the other backend too: fewer
    examples, each on its own new database."""
    url = pg_databases.create()
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    with tempfile.TemporaryDirectory() as tmp:
        _converge(World(Path(tmp), database_url=url), steps, crashing_push)


def _converge(world: World, steps, crashing_push) -> None:  # type: ignore[no-untyped-def]
    crashing_push.append(world.crash)
    try:
        for device, op, faults, seed in steps:
            if op == "sync":
                world.sync(device, faults)
            else:
                _apply_edit(world, device, op, random.Random(seed))
        world.heal()
        assert_converged(world)
    finally:
        crashing_push.remove(world.crash)
        world.close()


def test_faults_are_real(crashing_push, tmp_path):
    """The fault injection itself works: a crashed push commits nothing, a lost answer still commits."""
    world = World(tmp_path, n_volunteers=1)
    crashing_push.append(world.crash)
    try:
        store = world.stores[0]
        store.add_household(world.hamlet, "Số 1", "given")
        world.sync(0, ["crash"])
        assert store.pending_count() == 1
        with read_transaction(world.engine) as conn:
            assert conn.execute(select(t.devices.c.acked_seq).where(
                t.devices.c.id == store.device_id)).scalar_one() == 0
        world.sync(0, ["drop_after"])
        assert store.pending_count() == 1  # the device never heard back
        with read_transaction(world.engine) as conn:
            assert conn.execute(select(t.devices.c.acked_seq).where(
                t.devices.c.id == store.device_id)).scalar_one() == 1
        world.sync(0, [])
        assert store.pending_count() == 0
        # a volunteer may not review: quarantined, and the device must hear so even
        # when the answer that said it was lost
        visit = store.record_visit(household_list(store, world.hamlet)[0].id, "not_home")
        store.decide_review(visit, "approved", "")
        world.sync(0, ["drop_after"])
        world.sync(0, [])
        assert [q.seq for q in store.quarantined()] == [store.last_seq]
        assert visit_of(store, visit).review is None
        world.heal()
        assert_converged(world)
    finally:
        world.close()
