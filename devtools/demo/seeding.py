"""Seeding the demo through the server: real enrolments, the push path, nothing behind its back.

Every device is enrolled with a real code, every change is an event with seq
1, 2, 3 … from that device, and the events go through `store.events.push`, the
same code path a phone's sync takes. So the demo is also a test of the server:
an event it quarantines is a bug in the generator (or in the server), and
seeding stops with the reason.
"""
from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from campaign import areas
from campaign import events as ev
from campaign.time import VIETNAM
from sync_server.services import campaigns, enrolment, ingest
from sync_server.services import team as teams
from sync_server.store import schema as t
from sync_server.store.db import read_transaction, write_transaction
from sync_server.store.devices import Scope

from .story import Story
from .world import COMMUNES, DEMO_TEAM, RURAL, WARD, Device

CODE_TTL_HOURS = 24 * 30
PUSH_BATCH = ev.MAX_BATCH  # 500


class DemoError(RuntimeError):
    """The generator made an event the server would not apply: a bug here."""


@dataclass
class DemoSummary:
    hamlets: int
    households: int
    people: int
    visits: int
    events: int
    devices: int
    hamlets_by_commune: dict[str, list[str]]
    teams: list[str]
    codes: dict[str, str] = field(default_factory=dict)  # what it is for -> unused enrolment code
    seconds: float = 0.0


Pushes = list[tuple[Device, list[dict[str, Any]]]]


def seed(engine: Engine, households_per_hamlet: int | None = None, rng_seed: int = 6,
         today: date | None = None, progress: Callable[[str], None] | None = None) -> DemoSummary:
    """Seed the demo campaign into a migrated, empty database: two communes, thirty days."""
    started = time.perf_counter()
    say = progress or (lambda _line: None)
    story = Story(random.Random(rng_seed), today or datetime.now(VIETNAM).date(), households_per_hamlet)
    story.tell()
    world = story.world

    # enrol every device through a real code, then stamp its id into its events
    with write_transaction(engine) as conn:
        _enrol(conn, world.admin)
    for event in world.admin.events:
        _stamp(event, world.admin)
    _push_all(engine, [(world.admin, world.admin.events)])
    with write_transaction(engine) as conn:
        for commune in COMMUNES:
            for team in world.teams[commune]:
                hamlet_ids = [h.id for h in world.hamlets[commune] if f"{commune}-t{h.team + 1}" == team.id]
                teams.create_team(conn, team.id, team.name, commune, hamlet_ids)
                for device in (team.leader, *team.volunteers):
                    _enrol(conn, device)
                    for event in device.events:
                        _stamp(event, device)
    scopes: dict[str, Scope] = {}
    with read_transaction(engine) as conn:
        for device in world.devices():
            assert device.device is not None
            scopes[device.key] = enrolment.scope_of(conn, device.device)

    total = len(world.admin.events)
    for commune in COMMUNES:
        commune_started = time.perf_counter()
        pushes: dict[int, Pushes] = defaultdict(list)
        count = 0
        for team in world.teams[commune]:
            for device in (*team.volunteers, team.leader):  # a leader reviews what its volunteers synced
                by_day: dict[int, list[dict[str, Any]]] = defaultdict(list)
                for event in device.events:
                    by_day[world.day_of(ev.parse_at(event["at"]))].append(event)
                for day, events in by_day.items():
                    pushes[day].append((device, events))
                count += len(device.events)
        for day in sorted(pushes):  # each evening's sync round
            _push_all(engine, pushes[day], scopes)
        total += count
        homes = world.homes[commune]
        people = sum(len(h.people) for h in homes)
        say(f"  {areas.commune(commune).full_name}: {len(world.hamlets[commune])} hamlets, {len(homes):,} households, "
            f"{people:,} people, {len(story.calls[commune]):,} visits, {count:,} events "
            f"({time.perf_counter() - commune_started:.1f} s)")

    with write_transaction(engine) as conn:
        codes = spare_codes(conn)
    with write_transaction(engine) as conn:
        _campaigns(conn, world.first_day)
    return DemoSummary(
        hamlets=sum(len(h) for h in world.hamlets.values()),
        households=sum(len(h) for h in world.homes.values()),
        people=sum(len(home.people) for homes in world.homes.values() for home in homes),
        visits=sum(len(calls) for calls in story.calls.values()),
        events=total,
        devices=len(world.devices()),
        hamlets_by_commune={c: [h.id for h in hs] for c, hs in world.hamlets.items()},
        teams=[team.id for c in COMMUNES for team in world.teams[c]],
        codes=codes,
        seconds=round(time.perf_counter() - started, 2),
    )


def _enrol(conn: Connection, device: Device) -> None:
    code, _expires = enrolment.create_enrolment(conn, device.role, device.team_id,
                                              hamlets=device.hamlets if device.role == "volunteer" else None)
    device.device, _token = enrolment.enrol(conn, code)


def _stamp(event: dict[str, Any], device: Device) -> None:
    assert device.device is not None
    event["device_id"] = device.device.id
    ev.check_event(event)  # a bad event here is the generator's fault: fail at once


def _push_all(engine: Engine, pushes: Pushes, scopes: dict[str, Scope] | None = None) -> None:
    """One transaction per sync round: each device pushes its events in batches of ≤ 500."""
    with write_transaction(engine) as conn:
        for device, events in pushes:
            assert device.device is not None
            scope = scopes[device.key] if scopes else Scope(hamlets=None)
            for i in range(0, len(events), PUSH_BATCH):
                batch = events[i:i + PUSH_BATCH]
                result = ingest.push(conn, device.device, scope, batch)
                if result.error or result.quarantined or result.acked_seq != batch[-1]["seq"]:
                    raise DemoError(f"{device.key}: the server did not take the demo's events as they are: "
                                    f"error={result.error} {result.detail} quarantined={result.quarantined[:5]}")


def _campaigns(conn: Connection, first_day: date) -> None:
    """Both communes' campaign settings: started `first_day`, a 90-day drive to 90 % / 85 % of people."""
    for commune, name, percent in ((WARD, "Chiến dịch định danh điện tử, Phường Hải Dương", 90),
                                   (RURAL, "Chiến dịch định danh điện tử, Xã Thanh Hà", 85)):
        campaigns.save(conn, commune, {
            "name": name, "target_kind": "percent", "target_value": percent, "start": first_day,
            "deadline": first_day + timedelta(days=89), "ends": first_day + timedelta(days=119),
            "retention_days": campaigns.DEFAULT_RETENTION_DAYS})


def spare_codes(conn: Connection) -> dict[str, str]:
    """Unused enrolment codes for trying the app on the demo, valid for 30 days."""
    codes = {}
    for label, role, team, commune in (
            (f"volunteer {DEMO_TEAM}", "volunteer", DEMO_TEAM, None),
            (f"leader {DEMO_TEAM}", "leader", DEMO_TEAM, None),
            (f"officer {WARD}", "officer", None, WARD),
            (f"officer {RURAL}", "officer", None, RURAL)):
        codes[label], _ = enrolment.create_enrolment(conn, role, team, commune, ttl_hours=CODE_TTL_HOURS)
    return codes


# ---- an existing demo -----------------------------------------------------------

def is_seeded(engine: Engine) -> bool:
    with read_transaction(engine) as conn:
        return conn.execute(select(t.teams.c.id).where(t.teams.c.id == DEMO_TEAM)).first() is not None


def summarise(engine: Engine) -> DemoSummary:
    """The figures of a demo already in the database (codes: none, they are stored hashed)."""
    with read_transaction(engine) as conn:
        by_type = {type_: n for type_, n in conn.execute(
            select(t.entities.c.type, func.count()).group_by(t.entities.c.type))}
        hamlets: dict[str, list[str]] = defaultdict(list)
        for row in conn.execute(select(t.entities.c.id, t.entities.c.commune).where(
                t.entities.c.type == "hamlet").order_by(t.entities.c.version)):
            hamlets[row.commune].append(row.id)
        return DemoSummary(
            hamlets=by_type.get("hamlet", 0), households=by_type.get("household", 0),
            people=by_type.get("person", 0), visits=by_type.get("visit", 0),
            events=conn.execute(select(func.count()).select_from(t.events)).scalar_one(),
            devices=conn.execute(select(func.count()).select_from(t.devices)).scalar_one(),
            hamlets_by_commune=dict(hamlets),
            teams=list(conn.execute(select(t.teams.c.id).order_by(t.teams.c.commune, t.teams.c.id)).scalars()))
