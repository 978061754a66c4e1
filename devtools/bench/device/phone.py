"""The phone the device bench measures: one volunteer's store after a few days of work.

The people and the visits are the shared model's (devtools/population.py,
devtools/doorstep.py); what is the device bench's own is the one phone: the
commune's target list for its hamlets, as the server sends it, then three days
of visits recorded through the store's public API, most of them sent.
"""
from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from campaign import areas
from campaign.events import SCHEMA, check_event, normalize
from campaign.ids import uuid7
from campaign.time import VIETNAM
from field_app.keys import KEY_FILE, FileKeyProvider
from field_app.store import Store

from ...doorstep import FIRST_CALL, Doorstep
from ...population import Household, Population, pick
from ..common import Log

COMMUNE = "10525"  # Phường Hải Dương, as in the tests
HAMLET_SIZE = 500  # households per hamlet; 2,000 households are 4 hamlets
SYNC_PAGE = 500  # field_app/net/sync.py PAGE and campaign.events.MAX_BATCH
PENDING_LEFT = 700  # own events left unsent at the start (≥ one push batch at the default size)
VISITED_SHARE = 0.4  # households this device has visited before the bench
START = datetime(2026, 3, 2, 7, 30, tzinfo=VIETNAM)


class Clock:
    """The device's clock for the store: set by the bench, so visits fall on the days it chooses."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass(kw_only=True)
class Home(Household):
    hamlet_id: str


class ServerLog:
    """Events as the server sends them: envelopes with a cursor, valid by campaign.events."""

    def __init__(self, cursor: int = 0) -> None:
        self.cursor = cursor
        self.seqs: dict[str, int] = {}

    def event(self, device: str, kind: str, entity: str, data: dict[str, Any], at: datetime,
              base: int | None = None) -> dict[str, Any]:
        seq = self.seqs.get(device, 0) + 1
        self.seqs[device] = seq
        self.cursor += 1
        event = normalize({"id": uuid7(), "device_id": device, "seq": seq, "kind": kind, "entity": entity,
                           "base": base, "at": at.isoformat(timespec="seconds"), "data": data,
                           "schema": SCHEMA})
        check_event(event)  # a bench that feeds the store invalid events would measure the wrong path
        return {**event, "cursor": self.cursor}

    def echo(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The device's own events coming back in a pull, with the cursors the server gave them."""
        out = []
        for event in events:
            self.cursor += 1
            out.append({**event, "cursor": self.cursor})
        return out


def pages(events: list[dict[str, Any]], size: int = SYNC_PAGE) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(events), size):
        yield events[start:start + size]


def target_list(log: ServerLog, rng: random.Random, households: int, start: datetime
                ) -> tuple[list[dict[str, Any]], list[str], list[Home]]:
    """The commune's target list for this volunteer's hamlets, as an admin's events the server sends."""
    admin = "bench-admin"
    population = Population(rng, start.year)
    urban = areas.commune(COMMUNE).type == "phuong"
    n_hamlets = max(1, round(households / HAMLET_SIZE))
    events: list[dict[str, Any]] = []
    hamlets: list[str] = []
    addresses: list[Iterator[str]] = []
    for i, (name, kind) in enumerate(population.hamlets(urban, n_hamlets)):
        hamlet = uuid7()
        hamlets.append(hamlet)
        events.append(log.event(admin, "hamlet.created", hamlet, {
            "commune": COMMUNE, "name": name, "kind": kind, "valid_from": "2025-07-01", "valid_to": None}, start))
        addresses.append(iter(population.addresses(name, urban, len(range(i, households, n_hamlets)))))
    out: list[Home] = []
    for n in range(households):
        at = start + timedelta(seconds=n)
        home = Home(people=population.household(), address=next(addresses[n % n_hamlets]),
                    hamlet_id=hamlets[n % n_hamlets], id=uuid7())
        events.append(log.event(admin, "household.created", home.id,
                                {"hamlet_id": home.hamlet_id, "address": home.address, "consent": home.consent}, at))
        for person in home.people:
            person.id = uuid7()
            events.append(log.event(admin, "person.added", person.id,
                                    {"household_id": home.id, **person.listed()}, at))
        out.append(home)
    return events, hamlets, out


def visit(store: Store, door: Doorstep, home: Home) -> int:
    """A volunteer's first visit through the store, in the app's order: what changed, then the visit.
    Returns the number of events written."""
    seen = door.visit(home, pick(door.rng, FIRST_CALL))
    events = 0
    for kind, entity, data in seen.changes(home):
        change = store.update_household if kind == "household.updated" else store.update_person
        if change(entity, **data) is not None:  # the store writes only what differs
            events += 1
    store.record_visit(home.id, seen.outcome, actions=seen.actions, people_helped=seen.helped, note=seen.note)
    return events + 1


@dataclass
class Phone:
    store: Store
    provider: FileKeyProvider
    key: bytes
    clock: Clock
    server: ServerLog
    device: str
    hamlets: list[str]
    homes: list[Home]
    visited: set[str] = field(default_factory=set)  # ids of the households visited while building
    target: list[dict[str, Any]] = field(default_factory=list)  # the target list's events: a first sync


def build(root: Path, households: int, rng: random.Random, log: Log) -> Phone:
    """A volunteer's phone after a few days: the target list pulled, ~40 % visited, most of it sent."""
    data = root / "device"
    provider = FileKeyProvider(data / KEY_FILE)  # the app's key on a desktop (field_app.app_state.default_key)
    key = provider.load_or_create()
    clock = Clock(START)
    server = ServerLog()
    store = Store(data, clock=clock, key=provider)
    device = "bench-volunteer"
    events, hamlets, homes = target_list(server, rng, households, START - timedelta(days=3))
    store.enrol("http://127.0.0.1:9", device, "bench-token", "volunteer", {"hamlets": hamlets})
    t0 = time.perf_counter()
    for page in pages(events):
        store.apply_pulled(page, page[-1]["cursor"])
    log(f"target list pulled: {len(events):,} events in {time.perf_counter() - t0:.1f} s")

    t0 = time.perf_counter()
    own = 0
    door = Doorstep(rng)
    visited = rng.sample(homes, int(len(homes) * VISITED_SHARE))
    for day in range(3):  # three days' work, a transaction per 50 visits to keep the build quick
        todays = visited[day::3]
        for start_at in range(0, len(todays), 50):
            with store.db.atomic():
                for n, home in enumerate(todays[start_at:start_at + 50]):
                    clock.now = START + timedelta(days=day, minutes=3 * (start_at + n))
                    own += visit(store, door, home)
    log(f"{len(visited):,} visits recorded: {own:,} events in {time.perf_counter() - t0:.1f} s")

    t0 = time.perf_counter()
    sent = max(0, own - PENDING_LEFT) if own > PENDING_LEFT + SYNC_PAGE else own // 2
    while store.acked_seq < sent:  # a sync: push (acknowledged), then the events come back in the pull
        batch = store.pending(limit=min(SYNC_PAGE, sent - store.acked_seq))
        store.acknowledge(batch[-1]["seq"])
        echoed = server.echo(batch)
        store.apply_pulled(echoed, echoed[-1]["cursor"])
    log(f"{sent:,} own events sent and pulled back in {time.perf_counter() - t0:.1f} s; "
        f"{store.pending_count():,} pending")
    clock.now = START + timedelta(days=3, hours=1)
    return Phone(store, provider, key, clock, server, device, hamlets, homes, {h.id for h in visited}, events)


def teammate_page(store: Store, server: ServerLog, rng: random.Random, homes: list[Home],
                  at: datetime, size: int = SYNC_PAGE) -> list[dict[str, Any]]:
    """A page a sync pulls: a teammate's visits in the same hamlets and what they changed."""
    mate = "bench-teammate"
    page: list[dict[str, Any]] = []
    while len(page) < size:
        home = rng.choice(homes)
        people = store.people(home.id)
        helped = [p for p in people if p.presence == "home"][:rng.randint(0, 2)]
        for person in helped:
            if len(page) < size - 1:
                page.append(server.event(mate, "person.updated", person.id,
                                         {"vneid": rng.choice(("l1_active", "l2_active"))}, at, person.version))
        page.append(server.event(mate, "visit.recorded", uuid7(), {
            "household_id": home.id, "outcome": "met" if helped else "not_home",
            "actions": ["activation_help"] if helped else [], "people_helped": [p.id for p in helped],
            "note": ""}, at))
        at += timedelta(minutes=2)
    return page[:size]
