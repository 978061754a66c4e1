"""The demo's world: two communes, their hamlets, teams and devices, and the households on their lists.

The people come from the shared population (devtools/population.py); what is
the demo's own is its shape: 25 hamlets a commune, five teams of a leader and
two volunteers each, and which volunteer lists which household. Every record
made here by a device is an item of that device's log (`World.emit`), written
out as events once the story is told (devtools/demo/story.py).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from campaign import areas
from campaign.time import VIETNAM
from sync_server.store import devices

from ..ids import uuid7_at
from ..population import Household, Population

CAMPAIGN_DAYS = 30
HAMLETS_PER_COMMUNE = 25
TEAMS_PER_COMMUNE = 5
VOLUNTEERS_PER_TEAM = 2
HOUSEHOLDS_PER_HAMLET = (250, 400)
WARD, RURAL = "10525", "10813"
COMMUNES = (WARD, RURAL)
DEMO_TEAM = f"{WARD}-t1"  # its existence marks a database that holds the demo


class Item(NamedTuple):
    """Something a device recorded: an event before it has its seq and id."""
    at: datetime
    order: int  # ties at the same second keep the order they were made in
    kind: str
    entity: str
    data: dict[str, Any]


@dataclass
class Device:
    key: str  # "admin", "10525-t1-leader", "10525-t1-v1"
    role: str
    team_id: str | None
    hamlets: list[str] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    device: devices.Device | None = None  # once enrolled
    events: list[dict[str, Any]] = field(default_factory=list)  # the wire events, seq 1, 2, 3 …


@dataclass
class Hamlet:
    id: str
    commune: str
    name: str
    kind: str
    team: int  # index of the team within the commune


@dataclass
class Team:
    id: str
    name: str
    leader: Device
    volunteers: list[Device]


@dataclass(kw_only=True)
class Home(Household):
    hamlet: Hamlet
    volunteer: Device
    created_at: datetime | None = None
    day_ready: int = 0  # first campaign day a visit can happen


class World:
    """The campaign's structure and its devices' logs, drawn from one random generator."""

    def __init__(self, rng: random.Random, today: date, households_per_hamlet: int | None) -> None:
        self.rng = rng
        self.first_day = today - timedelta(days=CAMPAIGN_DAYS - 1)
        self.population = Population(rng, self.first_day.year)
        self.per_hamlet = households_per_hamlet
        self.order = 0
        self.admin = Device("admin", "admin", None)
        self.hamlets: dict[str, list[Hamlet]] = {}
        self.teams: dict[str, list[Team]] = {}
        self.homes: dict[str, list[Home]] = {}

    # -- time and records ------------------------------------------------------------
    def at(self, day: int, seconds: float) -> datetime:
        """The moment `seconds` after midnight of campaign day `day` (0 is the first), Vietnam's time."""
        start = datetime.combine(self.first_day + timedelta(days=day), datetime.min.time(), VIETNAM)
        return start + timedelta(seconds=int(seconds))

    def day_of(self, at: datetime) -> int:
        return (at.astimezone(VIETNAM).date() - self.first_day).days

    def new_id(self, at: datetime) -> str:
        return uuid7_at(self.rng, at)

    def emit(self, device: Device, at: datetime, kind: str, entity: str, data: dict[str, Any]) -> None:
        self.order += 1
        device.items.append(Item(at, self.order, kind, entity, data))

    def devices(self) -> list[Device]:
        out = [self.admin]
        for commune in COMMUNES:
            for team in self.teams[commune]:
                out += [team.leader, *team.volunteers]
        return out

    # -- structure ----------------------------------------------------------------------
    def add_hamlets(self, commune: str) -> None:
        """The admin creates the commune's hamlets three days before the campaign starts."""
        names_kinds = self.population.hamlets(areas.commune(commune).type == "phuong", HAMLETS_PER_COMMUNE)
        valid_from = min(date(2025, 7, 1), self.first_day - timedelta(days=3)).isoformat()
        out = []
        offset = 0 if commune == WARD else 3600
        for i, (name, kind) in enumerate(names_kinds):
            at = self.at(-3, 9 * 3600 + offset + i * 97)
            hamlet = Hamlet(self.new_id(at), commune, name, kind, team=i // (HAMLETS_PER_COMMUNE // TEAMS_PER_COMMUNE))
            self.emit(self.admin, at, "hamlet.created", hamlet.id, {
                "commune": commune, "name": name, "kind": kind, "valid_from": valid_from, "valid_to": None})
            out.append(hamlet)
        self.hamlets[commune] = out

    def add_teams(self, commune: str) -> None:
        teams = []
        for j in range(TEAMS_PER_COMMUNE):
            team_id = f"{commune}-t{j + 1}"
            hamlets = [h.id for h in self.hamlets[commune] if h.team == j]
            leader = Device(f"{team_id}-leader", "leader", team_id)
            volunteers = [Device(f"{team_id}-v{k + 1}", "volunteer", team_id)
                          for k in range(VOLUNTEERS_PER_TEAM)]
            # v1: the first two hamlets and half the middle one; v2: the rest
            volunteers[0].hamlets = hamlets[:3]
            volunteers[1].hamlets = hamlets[2:]
            teams.append(Team(team_id, f"Tổ {j + 1}", leader, volunteers))
        self.teams[commune] = teams

    def add_households(self, commune: str) -> None:
        """Each hamlet's households (addresses, then families), and the volunteer who lists each."""
        rng = self.rng
        urban = areas.commune(commune).type == "phuong"
        out: list[Home] = []
        for hamlet in self.hamlets[commune]:
            volunteers = self.teams[commune][hamlet.team].volunteers
            local = [h for h in self.hamlets[commune] if h.team == hamlet.team].index(hamlet)
            n = self.per_hamlet if self.per_hamlet is not None else rng.randint(*HOUSEHOLDS_PER_HAMLET)
            addresses = self.population.addresses(hamlet.name, urban, n)
            for k in range(n):
                if local < 2:
                    volunteer = volunteers[0]
                elif local > 2:
                    volunteer = volunteers[1]
                else:
                    volunteer = volunteers[k % 2]
                out.append(Home(people=self.population.household(), address=addresses[k], hamlet=hamlet,
                                volunteer=volunteer))
        self.homes[commune] = out
