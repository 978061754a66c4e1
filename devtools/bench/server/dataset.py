"""A province-scale campaign, generated fast and deterministically.

The event stream is what the devices of a province would push: an admin creates
each commune's hamlets, one volunteer per hamlet lists its households and their
people, and visits them (nobody home, a revisit, help given, a follow-up) as the
shared model draws it: the people are devtools/population.py's, the visits
devtools/doorstep.py's. What is the bench's own is the scale (a province), each
volunteer working their hamlet over about ten days, and a few households left
unvisited. A commune's events are interleaved in 500-event batches, as the
devices' pushes would arrive; communes follow one another.

`commune_rows` turns a commune's stream into the rows the push path stores
(events, entities, totals, devices), with the server's own code: the projection
(campaign.projection.apply) in cursor order, the canonical event form, the
entity body as services/ingest.py writes it, and the totals as the recount sums
them. `verify.py` proves that on a sample, against the real push path.
"""
from __future__ import annotations

import json
import random
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from campaign import areas, projection
from campaign import events as ev
from campaign import totals as rules
from campaign.time import VIETNAM

from ...doorstep import Doorstep, Visit
from ...ids import uuid4_of, uuid7_at
from ...population import Household, Population

PROVINCE = "96"  # Tỉnh Cà Mau: 64 communes, the size the issue asks for
CAMPAIGN_START = date(2026, 3, 2)
CAMPAIGN_DAYS = 45
HAMLET_DAYS = 10  # a volunteer works their hamlet over about two weeks
LISTED_ONLY = 0.08  # households listed from the target list, not visited yet
BATCH = ev.MAX_BATCH


@dataclass(frozen=True)
class Scale:
    name: str
    communes: int
    hamlets_per_commune: int
    households_per_hamlet: int  # the mean; each hamlet varies ±25 %

    @property
    def households(self) -> int:
        return self.communes * self.hamlets_per_commune * self.households_per_hamlet


FULL = Scale("province", 64, 20, 414)  # ≈ 530 k households, ≈ 1.9 M people
QUICK = Scale("quick", 2, 4, 150)


def communes(scale: Scale) -> list[areas.Commune]:
    return areas.communes_of(PROVINCE)[:scale.communes]


class Hamlet(NamedTuple):
    id: str
    name: str
    urban: bool  # a ward's (streets and lanes) or a rural commune's (villages and xóm)


# ---- one device's log --------------------------------------------------------------

class DeviceLog:
    """Events of one device, seq by seq (what its outbox holds)."""

    def __init__(self, device_id: str, seq: int = 0) -> None:
        self.device_id = device_id
        self.seq = seq
        self.events: list[dict[str, Any]] = []

    def emit(self, rng: random.Random, at: datetime, kind: str, entity: str, data: dict[str, Any]) -> None:
        self.seq += 1
        self.events.append({"id": uuid7_at(rng, at), "device_id": self.device_id, "seq": self.seq,
                            "kind": kind, "entity": entity, "base": None, "at": at.isoformat(), "data": data,
                            "schema": ev.SCHEMA})


def hamlets_created(log: DeviceLog, rng: random.Random, commune: areas.Commune, n: int,
                    at: datetime) -> list[Hamlet]:
    """The admin creates n hamlets of a commune."""
    urban = commune.type == "phuong"
    out = []
    for name, kind in Population(rng, at.year).hamlets(urban, n):
        hamlet = Hamlet(uuid7_at(rng, at), name, urban)
        log.emit(rng, at, "hamlet.created", hamlet.id, {"commune": commune.code, "name": name, "kind": kind,
                                                        "valid_from": "2025-07-01", "valid_to": None})
        out.append(hamlet)
    return out


def household_work(log: DeviceLog, rng: random.Random, hamlet: Hamlet, households: int,
                   first_day: date) -> None:
    """List `households` households of a hamlet with their people, visit them, follow up."""
    population, door = Population(rng, first_day.year), Doorstep(rng)
    addresses = population.addresses(hamlet.name, hamlet.urban, households)
    moments = sorted(rng.random() for _ in range(households))
    for address, moment in zip(addresses, moments, strict=True):
        day = first_day + timedelta(days=int(moment * HAMLET_DAYS))
        at = datetime(day.year, day.month, day.day, 7, 30, tzinfo=VIETNAM) + timedelta(
            seconds=int((moment * HAMLET_DAYS % 1) * 11 * 3600))
        _household(log, rng, population, door, hamlet.id, address, at)


def _household(log: DeviceLog, rng: random.Random, population: Population, door: Doorstep, hamlet_id: str,
               address: str, at: datetime) -> None:
    home = Household(people=population.household(), address=address)
    home.id = uuid7_at(rng, at)
    log.emit(rng, at, "household.created", home.id, {"hamlet_id": hamlet_id, "address": address,
                                                     "consent": home.consent})
    for person in home.people:
        at += timedelta(seconds=rng.randint(20, 90))
        person.id = uuid7_at(rng, at)
        log.emit(rng, at, "person.added", person.id, {"household_id": home.id, **person.listed()})
    if rng.random() < LISTED_ONLY:
        return
    at += timedelta(seconds=rng.randint(60, 600))
    last_day = 0
    for day, visit in door.calls(home, 0, HAMLET_DAYS):
        if day > last_day:  # a revisit or a follow-up, some days later
            at += timedelta(days=day - last_day, seconds=rng.randint(0, 3600))
            last_day = day
        at = _visit(log, rng, home, visit, at)


def _visit(log: DeviceLog, rng: random.Random, home: Household, visit: Visit, at: datetime) -> datetime:
    """A visit's events, as the app records them; returns when the volunteer left."""
    for kind, entity, data in visit.changes(home):
        at += timedelta(seconds=rng.randint(10, 40))
        log.emit(rng, at, kind, entity, data)
    at += timedelta(seconds=rng.randint(30, 120))
    log.emit(rng, at, "visit.recorded", uuid7_at(rng, at), visit.recorded(home))
    return at


def interleave(logs: list[list[dict[str, Any]]], batch: int = BATCH) -> Iterator[dict[str, Any]]:
    """Devices' batches as they arrive: one batch of each device in turn."""
    position = [0] * len(logs)
    while True:
        progressed = False
        for i, log in enumerate(logs):
            if position[i] < len(log):
                yield from log[position[i]:position[i] + batch]
                position[i] += batch
                progressed = True
        if not progressed:
            return


# ---- a commune ---------------------------------------------------------------------

@dataclass
class Commune:
    index: int
    code: str
    admin_seq0: int
    hamlets: list[str]
    volunteers: list[str]  # one per hamlet, same order
    events: list[dict[str, Any]]  # in cursor order


def commune_events(scale: Scale, index: int, admin_id: str, seed: int = 1) -> Commune:
    commune = communes(scale)[index]
    rng = random.Random(f"gocua-bench:{seed}:{scale.name}:{commune.code}")
    admin = DeviceLog(admin_id, seq=index * scale.hamlets_per_commune)
    seq0 = admin.seq
    start = datetime(CAMPAIGN_START.year, CAMPAIGN_START.month, CAMPAIGN_START.day, 7, 0, tzinfo=VIETNAM)
    hamlets = hamlets_created(admin, rng, commune, scale.hamlets_per_commune, start + timedelta(minutes=index))
    volunteers, logs = [], []
    for hamlet in hamlets:
        volunteer = DeviceLog(uuid4_of(rng))
        households = max(1, round(scale.households_per_hamlet * rng.uniform(0.75, 1.25)))
        first = CAMPAIGN_START + timedelta(days=rng.randrange(CAMPAIGN_DAYS - HAMLET_DAYS))
        household_work(volunteer, rng, hamlet, households, first)
        volunteers.append(volunteer.device_id)
        logs.append(volunteer.events)
    return Commune(index, commune.code, seq0, [h.id for h in hamlets], volunteers,
                   admin.events + list(interleave(logs)))


def admin_device_id(seed: int = 1) -> str:
    return uuid4_of(random.Random(f"gocua-bench-admin:{seed}"))


# ---- rows as the push path stores them ----------------------------------------------

def canonical(event: dict[str, Any]) -> str:
    """ev.canonical, without re-normalising text that is NFC already (the generator's is)."""
    body = json.dumps({key: event[key] for key in ev.ENVELOPE if key in event}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False)
    return body if unicodedata.is_normalized("NFC", body) else ev.canonical(event)


EVENT_COLUMNS = ("cursor", "device_id", "seq", "kind", "entity", "hamlet_id", "commune", "status", "reason",
                 "received_at", "body")
ENTITY_COLUMNS = ("id", "type", "hamlet_id", "parent_id", "commune", "version", "body")
TOTAL_COLUMNS = ("hamlet_id", "day", "metric", "commune", "n")


@dataclass
class Rows:
    events: list[tuple[Any, ...]]
    entities: list[tuple[Any, ...]]
    totals: list[tuple[Any, ...]]


def commune_rows(events: list[dict[str, Any]], cursor0: int, received_at: str,
                 known_hamlets: dict[str, str] | None = None) -> Rows:
    """Apply `events` from cursor0 + 1 on with the server's projection; every event
    must apply (the generator makes none that would be quarantined)."""
    state: dict[str, projection.Entity] = {}
    communes_of: dict[str, str] = dict(known_hamlets or {})
    event_rows = []
    cursor = cursor0
    get = state.get
    for event in events:
        cursor += 1
        outcome = projection.apply(event, cursor, get)
        if event["kind"] == "hamlet.created":
            communes_of[event["entity"]] = event["data"]["commune"]
        if outcome.moved:
            raise ValueError("the generator makes no moves")
        state.update(outcome.changed)
        event_rows.append((cursor, event["device_id"], event["seq"], event["kind"], event["entity"],
                           outcome.hamlet_id, communes_of.get(outcome.hamlet_id or ""), "applied", None,
                           received_at, canonical(event)))
    entity_rows = [(e.id, e.type, e.hamlet_id, e.parent_id, communes_of.get(e.hamlet_id or ""), e.version,
                    json.dumps(e.to_json(), ensure_ascii=False, separators=(",", ":")))
                   for e in state.values()]
    total_rows = [(h, d, m, communes_of.get(h, ""), n) for (h, d, m), n in rules.recount(state.values()).items()]
    return Rows(event_rows, entity_rows, total_rows)
