"""The demo campaign: two communes of Thành phố Hải Phòng, thirty days into a campaign.

`gocua-server demo` seeds Phường Hải Dương (10525, a ward of tổ dân phố) and
Xã Thanh Hà (10813, a rural commune of thôn) with about 16,000 households and
60,000 people, and the work of ten teams over the thirty days ending today.

Nothing is written behind the server's back. Every device is enrolled with a
real code, every change is an event with seq 1, 2, 3 … from that device, and
the events go through `store.events.push`, the same code path a phone's sync
takes. So the demo is also a test of the server: an event it quarantines is a
bug in this generator (or in the server), and seeding stops with the reason.

The story the data tells, per volunteer:
1. In the first days the volunteer enters the hamlet's household list (from
   the tổ trưởng's register and the commune police's target list): addresses,
   people with their names, birth years, and the card and VNeID status the list
   gives, some of it "unknown". Consent is asked at the door, so it starts
   unknown.
2. Then door to door: about 80 % of households get a first visit. Nobody home
   means a revisit a few days later. At the first meeting the volunteer asks
   for consent (a household that declines has its people relabelled "Người 1",
   "Người 2" …), corrects presence and the unknowns, and helps: installs the
   app, helps with level 1, activates approved accounts, books home capture for
   the old, records what blocks the rest. A follow-up visit a few days later
   activates what was pending.
3. Each evening the volunteers sync, and the team leader reviews the day's
   visits: most approved, a few returned with a comment.

Deterministic: the same rng_seed and today give the same events, byte for byte
(device ids apart: the server draws those at enrolment).
"""
from __future__ import annotations

import argparse
import bisect
import itertools
import os
import random
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable

from sqlalchemy import Engine, func, select

from campaign import events as ev
from campaign import vocabulary as v

from . import demo_names as names
from .config import Settings
from .store import devices, migrate
from .store import events as log
from .store import schema as t
from .store.db import make_engine, read_transaction, write_transaction

VN = timezone(timedelta(hours=7))
CAMPAIGN_DAYS = 30
HAMLETS_PER_COMMUNE = 25
TEAMS_PER_COMMUNE = 5
VOLUNTEERS_PER_TEAM = 2
HOUSEHOLDS_PER_HAMLET = (250, 400)
CODE_TTL_HOURS = 24 * 30
PUSH_BATCH = ev.MAX_BATCH  # 500
WARD, RURAL = "10525", "10813"
DEMO_TEAM = f"{WARD}-t1"  # its existence marks a database that holds the demo

# Household size 1..8: mean 3.6, as in the delta's censuses.
SIZE_WEIGHTS = (8, 17, 22, 27, 14, 7, 3, 2)
FAMILY_NAMES = list(names.FAMILY_NAMES)
FAMILY_CUM = list(itertools.accumulate(names.FAMILY_NAMES.values()))


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


# ---- ids ------------------------------------------------------------------------

def _ids(rng: random.Random, base: datetime) -> Callable[[datetime | None], str]:
    """UUIDv7-shaped ids from the rng: the time part from `at` (or the base), the rest random.

    Time-ordered like campaign.ids.uuid7, so the server's indexes append as they
    would for real devices, but reproducible for a given seed."""
    base_ms = int(base.timestamp() * 1000)

    def new_id(at: datetime | None = None) -> str:
        millis = int(at.timestamp()) * 1000 if at is not None else base_ms
        millis += rng.randrange(1000)
        value = (millis & ((1 << 48) - 1)) << 80
        value |= 0x7 << 76
        value |= rng.getrandbits(12) << 64
        value |= 0b10 << 62
        value |= rng.getrandbits(62)
        return str(uuid.UUID(int=value))
    return new_id


# ---- the model the generator works on ---------------------------------------------

@dataclass
class _Device:
    key: str  # "admin", "10525-t1-leader", "10525-t1-v1"
    role: str
    team_id: str | None
    hamlets: list[str] = field(default_factory=list)
    items: list[tuple[datetime, int, str, str, dict[str, Any]]] = field(default_factory=list)
    device: devices.Device | None = None
    events: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Hamlet:
    id: str
    commune: str
    name: str
    kind: str
    team: int  # index of the team within the commune


@dataclass
class _Person:
    id: str
    label: str
    birth_year: int
    age: int  # in the campaign's first year: the age rules' conservative side
    presence: str
    card: str
    vneid: str
    blockers: list[str]
    truth: dict[str, str]  # what the volunteer finds at the door: presence, card, vneid
    phone: str  # "" (none of their own), "ok", "old", "no_nfc"
    sim_own: bool
    snag: str  # a blocker waiting to happen: "", "no_otp", "number_taken", "data_mismatch", "refused", ...
    followup: set[str] = field(default_factory=set)  # what a later visit finishes
    met: bool = False


@dataclass
class _Household:
    id: str
    hamlet: _Hamlet
    volunteer: _Device
    address: str
    people: list[_Person]
    consent: str = "unknown"
    created_at: datetime | None = None
    day_ready: int = 0  # first campaign day a visit can happen


@dataclass
class _Visit:
    household: _Household
    day: int
    outcome: str
    consent: str | None = None  # a consent change recorded at this visit
    relabel: list[tuple[_Person, str]] = field(default_factory=list)
    updates: list[tuple[_Person, dict[str, Any]]] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    helped: list[str] = field(default_factory=list)
    note: str = ""
    at: datetime | None = None
    id: str = ""


# ---- the generator ----------------------------------------------------------------

class _Generator:
    def __init__(self, rng: random.Random, today: date, households_per_hamlet: int | None) -> None:
        self.rng = rng
        self.today = today
        self.first_day = today - timedelta(days=CAMPAIGN_DAYS - 1)
        self.year = self.first_day.year
        self.per_hamlet = households_per_hamlet
        self.new_id = _ids(rng, self._at(-3, 9 * 3600))
        self.order = 0
        self.admin = _Device("admin", "admin", None)
        self.hamlets: dict[str, list[_Hamlet]] = {}
        self.teams: dict[str, list[tuple[str, str, _Device, list[_Device]]]] = {}  # commune -> teams
        self.households: dict[str, list[_Household]] = {}
        self.visits: dict[str, list[_Visit]] = {}
        # weekends see more visits: people are home; today has only its morning so far
        self.day_weight = [1.4 if (self.first_day + timedelta(days=d)).weekday() >= 5 else 1.0
                           for d in range(CAMPAIGN_DAYS)]
        self.day_weight[-1] = 0.35

    # -- time ---------------------------------------------------------------------
    def _at(self, day: int, seconds: float) -> datetime:
        start = datetime.combine(self.first_day + timedelta(days=day), datetime.min.time(), VN)
        return start + timedelta(seconds=int(seconds))

    def _day_of(self, at: datetime) -> int:
        return (at.astimezone(VN).date() - self.first_day).days

    def emit(self, device: _Device, at: datetime, kind: str, entity: str, data: dict[str, Any]) -> None:
        self.order += 1
        device.items.append((at, self.order, kind, entity, data))

    # -- structure ----------------------------------------------------------------
    def build(self) -> None:
        for commune in (WARD, RURAL):
            self._hamlets(commune)
        for commune in (WARD, RURAL):
            self._teams(commune)
            self._households(commune)
            for team in self.teams[commune]:
                for volunteer in team[3]:
                    self._list_entry(commune, volunteer)
            self._plan_visits(commune)
            self._schedule(commune)
            self._reviews(commune)

    def _hamlets(self, commune: str) -> None:
        rng = self.rng
        if commune == WARD:
            names_kinds = [(f"Tổ dân phố {i}", "to_dan_pho") for i in range(1, HAMLETS_PER_COMMUNE - 4)]
            names_kinds += [(name, "other") for name in names.WARD_KHU]
        else:
            villages = rng.sample(names.COMMUNE_THON, HAMLETS_PER_COMMUNE)
            names_kinds = [(f"Thôn {name}", "thon") for name in villages]
        valid_from = min(date(2025, 7, 1), self.first_day - timedelta(days=3)).isoformat()
        out = []
        offset = 0 if commune == WARD else 3600
        for i, (name, kind) in enumerate(names_kinds):
            at = self._at(-3, 9 * 3600 + offset + i * 97)
            hamlet = _Hamlet(self.new_id(at), commune, name, kind, team=i // (HAMLETS_PER_COMMUNE // TEAMS_PER_COMMUNE))
            self.emit(self.admin, at, "hamlet.created", hamlet.id, {
                "commune": commune, "name": name, "kind": kind, "valid_from": valid_from, "valid_to": None})
            out.append(hamlet)
        self.hamlets[commune] = out

    def _teams(self, commune: str) -> None:
        teams = []
        for j in range(TEAMS_PER_COMMUNE):
            team_id = f"{commune}-t{j + 1}"
            hamlets = [h.id for h in self.hamlets[commune] if h.team == j]
            leader = _Device(f"{team_id}-leader", "leader", team_id)
            volunteers = [_Device(f"{team_id}-v{k + 1}", "volunteer", team_id)
                          for k in range(VOLUNTEERS_PER_TEAM)]
            # v1: the first two hamlets and half the middle one; v2: the rest
            volunteers[0].hamlets = hamlets[:3]
            volunteers[1].hamlets = hamlets[2:]
            teams.append((team_id, f"Tổ {j + 1}", leader, volunteers))
        self.teams[commune] = teams

    def _households(self, commune: str) -> None:
        rng = self.rng
        out: list[_Household] = []
        for hamlet in self.hamlets[commune]:
            volunteers = self.teams[commune][hamlet.team][3]
            local = [h for h in self.hamlets[commune] if h.team == hamlet.team].index(hamlet)
            n = self.per_hamlet if self.per_hamlet is not None else rng.randint(*HOUSEHOLDS_PER_HAMLET)
            addresses = self._addresses(hamlet, n)
            for k in range(n):
                if local < 2:
                    volunteer = volunteers[0]
                elif local > 2:
                    volunteer = volunteers[1]
                else:
                    volunteer = volunteers[k % 2]
                out.append(_Household("", hamlet, volunteer, addresses[k], self._family()))
        self.households[commune] = out

    # -- addresses ----------------------------------------------------------------
    def _addresses(self, hamlet: _Hamlet, n: int) -> list[str]:
        rng = self.rng
        out: list[str] = []
        if hamlet.commune == WARD:
            streets = rng.sample(names.WARD_STREETS, rng.randint(2, 3))
            # each street: houses on the street itself and along a few lanes (ngõ)
            places: list[tuple[str, int | None]] = []
            for street in streets:
                places.append((street, None))
                for lane in sorted(rng.sample(range(2, 180), rng.randint(3, 6))):
                    places.append((street, lane))
            used: set[tuple[str, int | None, str]] = set()
            while len(out) < n:
                street, lane = rng.choice(places)
                number = str(rng.randint(1, 90 if lane is None else 60))
                if rng.random() < 0.06:
                    number += rng.choice("ABC")
                if (street, lane, number) in used:
                    continue
                used.add((street, lane, number))
                if lane is None:
                    out.append(f"Số {number}, phố {street}")
                elif rng.random() < 0.12:
                    out.append(f"Số {number}, ngách {lane}/{rng.randint(2, 40)}, phố {street}")
                else:
                    out.append(f"Số {number}, ngõ {lane}, phố {street}")
        else:
            village = hamlet.name.removeprefix("Thôn ")
            xom_count = rng.randint(3, 8)
            used_numbers: set[tuple[int, int]] = set()
            while len(out) < n:
                xom = rng.randint(1, xom_count)
                if rng.random() < 0.35:
                    out.append(f"Xóm {xom}, thôn {village}")
                    continue
                number = rng.randint(1, 120)
                if (xom, number) in used_numbers:
                    continue
                used_numbers.add((xom, number))
                out.append(f"Số {number}, xóm {xom}, thôn {village}")
        for address in out:
            assert len(address) <= ev.MAX_ADDRESS, address
        return out

    # -- people -------------------------------------------------------------------
    def _family_name(self) -> str:
        x = self.rng.random() * FAMILY_CUM[-1]
        return FAMILY_NAMES[bisect.bisect_right(FAMILY_CUM, x)]

    def _name(self, family: str, sex: str, birth_year: int) -> str:
        gen = "old" if birth_year < 1975 else "mid" if birth_year < 2000 else "young"
        rng = self.rng
        middle = rng.choice((names.MIDDLE_MALE if sex == "m" else names.MIDDLE_FEMALE)[gen])
        given = rng.choice((names.GIVEN_MALE if sex == "m" else names.GIVEN_FEMALE)[gen])
        if middle == given:
            middle = "Văn" if sex == "m" else "Thị"
        return f"{family} {middle} {given}"

    def _family(self) -> list[_Person]:
        """One household: who lives there, named the way the register names them."""
        rng = self.rng
        size = rng.choices(range(1, 9), weights=SIZE_WEIGHTS)[0]
        members: list[tuple[str, str, int]] = []  # (family name, sex, age)
        family = self._family_name()
        if size == 1:
            age = rng.choice([rng.randint(20, 40), rng.randint(60, 92), rng.randint(60, 92)])
            sex = "f" if age >= 60 and rng.random() < 0.7 else rng.choice("mf")
            members.append((family if sex == "m" else self._family_name(), sex, age))
        else:
            three_generations = size >= 5 and rng.random() < 0.75 or size == 4 and rng.random() < 0.2
            if three_generations:
                grand = rng.randint(62, 88)
                members.append((family, "m", grand))
                if rng.random() < 0.6 or size >= 7:
                    members.append((self._family_name(), "f", grand - rng.randint(0, 6)))
                father = max(26, grand - rng.randint(22, 32))
            else:
                father = rng.randint(24, 72)
            members.append((family, "m", father))
            if len(members) < size:
                members.append((self._family_name(), "f", max(20, father - rng.randint(-2, 6))))
            mother = members[-1][2]
            while len(members) < size:
                child = mother - rng.randint(20, 38)
                if child < 0:
                    child = rng.randint(0, max(0, mother - 19))
                members.append((family, rng.choice("mf"), max(0, child)))
        people = []
        for fam, sex, age in members:
            birth_year = self.year - age
            people.append(self._person(self._name(fam, sex, birth_year), birth_year, age))
        return people

    def _person(self, label: str, birth_year: int, age: int) -> _Person:
        rng = self.rng
        # presence: what is true, and what the list says (it misses most departures)
        truth_presence = "home"
        r = rng.random()
        if 18 <= age <= 30 and r < 0.22 or 31 <= age <= 50 and r < 0.06:
            truth_presence = "away_work_study"
        elif 20 <= age <= 45 and rng.random() < 0.035:  # working in Japan, Korea, Taiwan
            truth_presence = "abroad"
        elif r > 0.985:
            truth_presence = "moved"
        elif age >= 80 and r > 0.93 or age >= 65 and r > 0.975:
            truth_presence = "deceased"
        listed_presence = truth_presence if truth_presence in ("away_work_study", "abroad") \
            and rng.random() < 0.4 else "home"
        card = self._pick(self._card_weights(age))
        true_card = card if card != "unknown" else (
            self._pick({"cccd_chip": 85, "can_cuoc": 10, "cmnd_only": 3, "none": 2}) if age >= 14
            else self._pick({"none": 80, "can_cuoc": 20}))
        vneid = self._pick(self._vneid_weights(age, true_card))
        if vneid != "unknown":
            true_vneid = vneid
        elif age >= 14:
            chip = true_card in v.CHIP_CARDS
            true_vneid = self._pick({"l2_active": 45 if chip else 0, "l1_active": 9, "l2_approved": 5 if chip else 0,
                                     "l1_approved": 4, "no_app": 37})
        elif age >= 6:
            true_vneid = self._pick({"not_eligible": 45, "no_app": 35, "l1_active": 20})
        else:
            true_vneid = self._pick({"not_eligible": 55, "no_app": 25, "l1_active": 20})
        phone = ""
        if age >= 14 and rng.random() < (0.96 if age < 60 else 0.7 if age < 75 else 0.3):
            phone = self._pick({"ok": 86, "old": 6, "no_nfc": 8})
        snag = ""
        if age >= 14:
            snag = self._pick({"": 90, "no_otp": 4, "number_taken": 2, "data_mismatch": 1.6, "refused": 1.4,
                               "forgot_password": 1})
        return _Person(id="", label=label, birth_year=birth_year, age=age, presence=listed_presence,
                       card=card, vneid=vneid, blockers=[],
                       truth={"presence": truth_presence, "card": true_card, "vneid": true_vneid},
                       phone=phone, sim_own=rng.random() < 0.88, snag=snag)

    def _pick(self, weights: dict[str, float]) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    @staticmethod
    def _card_weights(age: int) -> dict[str, float]:
        if age < 6:
            return {"none": 62, "unknown": 28, "can_cuoc": 8, "applied_waiting": 2}
        if age < 14:
            return {"none": 48, "unknown": 24, "can_cuoc": 26, "applied_waiting": 2}
        if age < 18:
            return {"can_cuoc": 81, "cccd_chip": 15, "applied_waiting": 2, "none": 1, "unknown": 1}
        if age < 70:
            return {"cccd_chip": 74, "can_cuoc": 23.9, "applied_waiting": 0.5, "cmnd_only": 0.2,
                    "cccd_barcode": 0.6, "none": 0.2, "unknown": 0.6}
        return {"cccd_chip": 80, "can_cuoc": 13.5, "applied_waiting": 1, "cmnd_only": 2,
                "cccd_barcode": 1.8, "none": 0.5, "unknown": 1.2}

    @staticmethod
    def _vneid_weights(age: int, card: str) -> dict[str, float]:
        chip = card in v.CHIP_CARDS or card == "applied_waiting"
        if age < 6:
            return {"not_eligible": 40, "unknown": 30, "l1_active": 20, "no_app": 8, "l1_pending": 2}
        if age < 14:
            if card == "can_cuoc":
                return {"l2_active": 40, "l2_approved": 8, "l1_active": 10, "no_app": 22, "unknown": 20}
            return {"not_eligible": 35, "no_app": 25, "unknown": 25, "l1_active": 15}
        if age < 18:
            weights = {"l2_active": 40, "l1_active": 9, "l2_pending": 3, "l2_approved": 4, "l1_pending": 2,
                       "l1_approved": 2, "no_app": 28, "unknown": 12}
        elif age < 60:
            weights = {"l2_active": 51, "l1_active": 6, "l2_pending": 2, "l2_approved": 4, "l1_pending": 1,
                       "l1_approved": 2, "no_app": 22, "unknown": 12}
        elif age < 75:
            weights = {"l2_active": 42, "l1_active": 5, "l2_pending": 2, "l2_approved": 5, "l1_pending": 1,
                       "l1_approved": 2, "no_app": 31, "unknown": 12}
        else:
            weights = {"l2_active": 24, "l1_active": 3, "l2_pending": 2, "l2_approved": 6, "l1_pending": 1,
                       "l1_approved": 2, "no_app": 49, "unknown": 13}
        if not chip:  # level 2 needs the chip card
            for code in ("l2_active", "l2_pending", "l2_approved"):
                weights["no_app"] += weights.pop(code)
        return weights

    # -- step 1: the household list ------------------------------------------------
    def _list_entry(self, commune: str, volunteer: _Device) -> None:
        """The volunteer types in the hamlet's register, hamlet by hamlet, 08:00–17:30."""
        rng = self.rng
        day, clock = 0, 8 * 3600 + rng.randint(0, 1800)
        mine = [h for h in self.households[commune] if h.volunteer is volunteer]
        for household in mine:
            if clock > 17.5 * 3600:
                day, clock = day + 1, 8 * 3600 + rng.randint(0, 1200)
            at = self._at(day, clock)
            household.id = self.new_id(at)
            household.created_at = at
            self.emit(volunteer, at, "household.created", household.id, {
                "hamlet_id": household.hamlet.id, "address": household.address, "consent": "unknown"})
            for person in household.people:
                clock += rng.randint(8, 25)
                at = self._at(day, clock)
                person.id = self.new_id(at)
                self.emit(volunteer, at, "person.added", person.id, {
                    "household_id": household.id, "label": person.label, "birth_year": person.birth_year,
                    "presence": person.presence, "card": person.card, "vneid": person.vneid})
            clock += rng.randint(30, 80)
        for household in mine:
            household.day_ready = day + 1

    # -- step 2: visits -----------------------------------------------------------
    def _plan_visits(self, commune: str) -> None:
        rng = self.rng
        visits: list[_Visit] = []
        for household in self.households[commune]:
            if rng.random() >= 0.83 or household.day_ready >= CAMPAIGN_DAYS:
                continue
            days = list(range(household.day_ready, CAMPAIGN_DAYS))
            day = rng.choices(days, weights=[self.day_weight[d] for d in days])[0]
            outcome = self._pick({"met": 80, "not_home": 15, "refused": 3, "moved": 2})
            for _ in range(4):
                visit = self._visit(household, day, outcome)
                visits.append(visit)
                if outcome == "not_home":
                    if rng.random() >= 0.75:
                        break
                    day += rng.randint(1, 6)
                    outcome = self._pick({"met": 82, "not_home": 15, "refused": 3})
                elif outcome == "met" and any(p.followup for p in household.people):
                    if rng.random() >= 0.65:
                        break
                    day += rng.randint(3, 9)
                    outcome = self._pick({"met": 92, "not_home": 8})
                else:
                    break
                if day >= CAMPAIGN_DAYS:
                    break
        self.visits[commune] = visits

    def _visit(self, household: _Household, day: int, outcome: str) -> _Visit:
        rng = self.rng
        visit = _Visit(household, day, outcome)
        if outcome == "not_home":
            visit.note = rng.choice(names.NOTES_NOT_HOME) if rng.random() < 0.3 else ""
            return visit
        if outcome == "moved":
            for person in household.people:
                if person.presence != "moved":
                    person.presence = "moved"
                    visit.updates.append((person, {"presence": "moved"}))
            visit.note = rng.choice(names.NOTES_MOVED) if rng.random() < 0.6 else ""
            return visit
        if outcome == "refused":
            if household.consent == "unknown" and rng.random() < 0.5:
                self._decline(household, visit)
            visit.note = rng.choice(names.NOTES_REFUSED) if rng.random() < 0.5 else ""
            return visit
        # met
        if household.consent == "unknown":
            r = rng.random()
            if r < 0.035:
                self._decline(household, visit)
            elif r < 0.975:
                household.consent = visit.consent = "given"
        actions: set[str] = set()
        for person in household.people:
            changes, done = self._meet(person, day)
            if changes:
                visit.updates.append((person, changes))
            if done:
                actions |= done
                visit.helped.append(person.id)
        if rng.random() < 0.85 or actions:
            actions.add("explained")
        visit.actions = [code for code in v.ACTIONS.codes if code in actions]
        if rng.random() < 0.2:
            visit.note = rng.choice(names.NOTES_MET)
        return visit

    def _decline(self, household: _Household, visit: _Visit) -> None:
        household.consent = visit.consent = "declined"
        for n, person in enumerate(household.people, start=1):
            label = ev.generic_label(n)
            if person.label != label:
                person.label = label
                visit.relabel.append((person, label))

    def _meet(self, person: _Person, day: int) -> tuple[dict[str, Any], set[str]]:
        """What one person's status is found to be, and what the volunteer did about it."""
        rng = self.rng
        before = {"presence": person.presence, "card": person.card, "vneid": person.vneid,
                  "blockers": list(person.blockers)}
        actions: set[str] = set()
        if not person.met:  # the first meeting: the family tells how things really are
            person.met = True
            person.presence = person.truth["presence"]
            if person.card == "unknown":
                person.card = person.truth["card"]
            if person.vneid == "unknown":
                person.vneid = person.truth["vneid"]
        if person.presence == "home":
            if person.age >= 14:
                actions = self._help_adult(person)
            else:
                actions = self._help_child(person)
        blockers = [code for code in v.BLOCKERS.codes if code in person.blockers]
        person.blockers = blockers
        after = {"presence": person.presence, "card": person.card, "vneid": person.vneid,
                 "blockers": blockers}
        changes = {k: after[k] for k in ("presence", "card", "vneid", "blockers") if after[k] != before[k]}
        return changes, actions

    def _help_adult(self, p: _Person) -> set[str]:
        rng = self.rng
        acts: set[str] = set()
        blockers = set(p.blockers)
        # the card first: without a chip card there is no level 2
        if "capture" in p.followup:
            p.followup.discard("capture")
            p.card = "applied_waiting"
            blockers.discard("cannot_travel")
        elif p.card in ("none", "cmnd_only", "cccd_barcode"):
            if p.age >= 75 or rng.random() < 0.25:
                acts.add("booked_home_capture")
                blockers.add("cannot_travel")
                p.followup.add("capture")
            else:
                acts.add("referred_l2")
                p.followup.add("capture")
        if p.snag == "refused":
            blockers.add("refused")
            p.blockers = sorted(blockers)
            return set()
        state = p.vneid
        if state in ("l1_active", "l2_active"):
            if state == "l2_active" and (p.snag == "forgot_password" or rng.random() < 0.04):
                acts.add("password_reset")
                p.snag = ""
                blockers.discard("forgot_password")
            elif "l2" in p.followup:  # went to the police in between
                p.followup.discard("l2")
                if rng.random() < 0.6:
                    p.vneid = "l2_approved"
                    if rng.random() < 0.8:
                        p.vneid = "l2_active"
                        acts.add("activation_help")
            elif state == "l1_active" and p.card in v.CHIP_CARDS and rng.random() < 0.4:
                acts.add("referred_l2")
                p.followup.add("l2")
        elif state in ("l1_pending", "l2_pending", "l1_approved", "l2_approved"):
            level = state[:2]
            if state.endswith("pending"):
                if rng.random() < 0.35:  # still waiting for the police to approve
                    p.followup.add("activate")
                    p.blockers = sorted(blockers)
                    return acts
                state = p.vneid = f"{level}_approved"
            if p.snag in ("no_otp", "data_mismatch") or p.phone == "":
                blockers.add(p.snag or "no_smartphone")
                if p.snag == "no_otp" and p.sim_own is False:
                    blockers.add("sim_not_own")
                    acts.add("referred_phone_change")
                if p.snag == "data_mismatch":
                    acts.add("referred_l2")
            elif p.snag == "forgot_password":
                acts.add("password_reset")
                if p.sim_own and rng.random() < 0.7:
                    acts.add("activation_help")
                    p.vneid = f"{level}_active"
                    blockers.clear()
                else:  # the reset needs an OTP to a number they no longer hold
                    blockers.add("forgot_password")
                    acts.add("referred_phone_change")
            else:
                acts.add("activation_help")
                p.vneid = f"{level}_active"
                blockers.clear()
            p.followup.discard("activate")
        elif state == "no_app":
            if p.phone == "":
                blockers.add("no_smartphone")
                if p.age >= 80:
                    blockers.add("cannot_travel")
            elif p.phone == "old":
                blockers.add("old_device")
            elif not p.sim_own or p.snag == "number_taken":
                blockers.add("sim_not_own" if not p.sim_own else "number_taken")
                acts.add("referred_phone_change")
                # they go to the carrier: a later visit can go on
                p.sim_own, p.snag = True, ""
                p.followup.add("retry")
            elif "retry" not in p.followup and rng.random() < 0.3:
                pass  # "not today, my son will do it for me": explained, nothing more
            else:
                acts.update(("installed_app", "l1_help"))
                blockers -= {"sim_not_own", "number_taken", "no_smartphone"}
                p.followup.discard("retry")
                if p.phone == "no_nfc":
                    blockers.add("no_nfc")
                    if rng.random() < 0.5:
                        acts.add("referred_l2")
                else:
                    p.vneid = "l1_pending"
                    p.followup.add("activate")
                    if p.snag == "no_otp":
                        blockers.add("no_otp")
        if p.vneid in v.ACTIVE_VNEID:
            blockers -= {"no_smartphone", "sim_not_own", "number_taken", "no_otp", "old_device",
                         "forgot_password", "no_nfc"}
        p.blockers = sorted(blockers)
        return acts

    def _help_child(self, p: _Person) -> set[str]:
        """Under 14: level 1 through a parent's account; never level 2 under 6."""
        rng = self.rng
        acts: set[str] = set()
        if p.vneid == "l1_pending" and ("activate" in p.followup or rng.random() < 0.6):
            p.vneid = "l1_active"
            p.followup.discard("activate")
            acts.add("activation_help")
        elif p.vneid in ("no_app", "not_eligible") and rng.random() < 0.15:
            p.vneid = "l1_pending"
            p.followup.add("activate")
            acts.add("l1_help")
        elif p.vneid == "l2_approved" and p.age >= 6:
            p.vneid = "l2_active"
            acts.add("activation_help")
        return acts

    # -- scheduling: each volunteer's day, in order ------------------------------------
    def _schedule(self, commune: str) -> None:
        rng = self.rng
        by_day: dict[tuple[str, int], list[_Visit]] = defaultdict(list)
        for visit in self.visits[commune]:
            by_day[(visit.household.volunteer.key, visit.day)].append(visit)
        volunteers = {d.key: d for team in self.teams[commune] for d in team[3]}
        for (key, day), visits in sorted(by_day.items()):
            rng.shuffle(visits)
            durations = [self._duration(vst) for vst in visits]
            travel = [rng.randint(60, 420) for _ in visits]
            start, end = 7.75 * 3600, (20.25 if day < CAMPAIGN_DAYS - 1 else 11.5) * 3600
            busy = sum(durations) + sum(travel)
            if busy > end - start:  # a long day: start early, walk fast, end a little later
                start = 7 * 3600
                squeeze = max(0.0, (end + 4500 - start - sum(durations)) / sum(travel))
                travel = [int(hop * min(1.0, squeeze)) for hop in travel]
            free = (end - start) - sum(durations) - sum(travel)
            gaps = [rng.random() for _ in range(len(visits) + 1)]
            scale = max(free, 0) / sum(gaps)
            clock = start
            for visit, duration, hop, gap in zip(visits, durations, travel, gaps):
                clock += gap * scale + hop
                self._emit_visit(volunteers[key], visit, day, clock, duration)
                clock += duration

    def _duration(self, visit: _Visit) -> int:
        rng = self.rng
        if visit.outcome == "not_home":
            return rng.randint(60, 180)
        if visit.outcome in ("refused", "moved"):
            return rng.randint(150, 360) + 20 * len(visit.updates)
        return 150 + 40 * (len(visit.updates) + len(visit.relabel)) + rng.randint(150, 600)

    def _emit_visit(self, volunteer: _Device, visit: _Visit, day: int, clock: float, duration: int) -> None:
        rng = self.rng
        household = visit.household
        step = clock + 60
        # as the app does: a declining household's people lose their names first
        for person, label in visit.relabel:
            step += rng.randint(10, 25)
            self.emit(volunteer, self._at(day, step), "person.updated", person.id, {"label": label})
        if visit.consent is not None:
            step += rng.randint(5, 15)
            self.emit(volunteer, self._at(day, step), "household.updated", household.id, {"consent": visit.consent})
        step = max(step, clock + 150)
        for person, changes in visit.updates:
            step += rng.randint(20, 40)
            self.emit(volunteer, self._at(day, step), "person.updated", person.id, dict(changes))
        at = self._at(day, max(step + 30, clock + duration))
        visit.at = at
        visit.id = self.new_id(at)
        self.emit(volunteer, at, "visit.recorded", visit.id, {
            "household_id": household.id, "outcome": visit.outcome, "actions": visit.actions,
            "people_helped": visit.helped, "note": visit.note})

    # -- step 3: the leader's evening review --------------------------------------------
    def _reviews(self, commune: str) -> None:
        rng = self.rng
        per_leader: dict[tuple[str, int], list[_Visit]] = defaultdict(list)
        leaders = {team[0]: team[2] for team in self.teams[commune]}
        for visit in sorted(self.visits[commune], key=lambda x: (x.at, x.id)):
            if rng.random() >= 0.72:
                continue
            lag = rng.choices((0, 1, 2, 3), weights=(40, 35, 15, 10))[0]
            assert visit.at is not None
            if lag == 0 and visit.at.hour >= 20:
                lag = 1
            day = self._day_of(visit.at) + lag
            if day >= CAMPAIGN_DAYS - 1:  # leaders review in the evening: today's is still to come
                continue
            per_leader[(visit.household.volunteer.team_id or "", day)].append(visit)
        for (team_id, day), visits in sorted(per_leader.items()):
            clock = 20.75 * 3600 + rng.randint(0, 900)
            for visit in visits:
                clock += rng.randint(20, 90)
                returned = rng.random() < 0.035
                comment = rng.choice(names.RETURN_COMMENTS) if returned else rng.choice(names.APPROVE_COMMENTS)
                self.emit(leaders[team_id], self._at(day, clock), "review.decided", visit.id, {
                    "decision": "returned" if returned else "approved", "comment": comment})

    # -- the events, in each device's order -----------------------------------------
    def all_devices(self) -> list[_Device]:
        out = [self.admin]
        for commune in (WARD, RURAL):
            for _team_id, _name, leader, volunteers in self.teams[commune]:
                out += [leader, *volunteers]
        return out

    def finish(self) -> None:
        """Give each device's items their seq numbers, in time order, and check every event."""
        for device in self.all_devices():
            device.items.sort(key=lambda item: (item[0], item[1]))
            device.events = []
            for seq, (at, _order, kind, entity, data) in enumerate(device.items, start=1):
                event = {"id": self.new_id(at), "device_id": "", "seq": seq, "kind": kind, "entity": entity,
                         "base": None, "at": at.isoformat(timespec="seconds"), "data": data, "schema": ev.SCHEMA}
                device.events.append(event)


# ---- seeding ----------------------------------------------------------------------

def _vn_today() -> date:
    return datetime.now(VN).date()


def seed(engine: Engine, households_per_hamlet: int | None = None, rng_seed: int = 6,
         today: date | None = None, progress: Callable[[str], None] | None = None) -> DemoSummary:
    """Seed the demo campaign into a migrated, empty database. See the module docstring."""
    started = time.perf_counter()
    say = progress or (lambda _line: None)
    today = today or _vn_today()
    gen = _Generator(random.Random(rng_seed), today, households_per_hamlet)
    gen.build()
    gen.finish()

    # enrol every device through a real code, then stamp its id into its events
    with write_transaction(engine) as conn:
        _enrol(conn, gen.admin)
    for event in gen.admin.events:
        _stamp(event, gen.admin)
    _push_all(engine, [(gen.admin, gen.admin.events)])
    with write_transaction(engine) as conn:
        for commune in (WARD, RURAL):
            for team_id, name, leader, volunteers in gen.teams[commune]:
                hamlet_ids = [h.id for h in gen.hamlets[commune] if f"{commune}-t{h.team + 1}" == team_id]
                devices.create_team(conn, team_id, name, commune, hamlet_ids)
                for device in (leader, *volunteers):
                    _enrol(conn, device)
                    for event in device.events:
                        _stamp(event, device)
    scopes: dict[str, devices.Scope] = {}
    with read_transaction(engine) as conn:
        for device in gen.all_devices():
            assert device.device is not None
            scopes[device.key] = devices.scope_of(conn, device.device)

    total = len(gen.admin.events)
    for commune in (WARD, RURAL):
        commune_started = time.perf_counter()
        pushes: dict[int, list[tuple[_Device, list[dict[str, Any]]]]] = defaultdict(list)
        count = 0
        for _team_id, _name, leader, volunteers in gen.teams[commune]:
            for device in (*volunteers, leader):  # a leader reviews what its volunteers synced
                by_day: dict[int, list[dict[str, Any]]] = defaultdict(list)
                for event in device.events:
                    by_day[gen._day_of(ev.parse_at(event["at"]))].append(event)
                for day, events in by_day.items():
                    pushes[day].append((device, events))
                count += len(device.events)
        for day in sorted(pushes):
            _push_all(engine, pushes[day], scopes)
        total += count
        households = len(gen.households[commune])
        people = sum(len(h.people) for h in gen.households[commune])
        say(f"  {_commune_name(commune)}: {len(gen.hamlets[commune])} hamlets, {households:,} households, "
            f"{people:,} people, {len(gen.visits[commune]):,} visits, {count:,} events "
            f"({time.perf_counter() - commune_started:.1f} s)")

    with write_transaction(engine) as conn:
        codes = spare_codes(conn)
    with write_transaction(engine) as conn:  # the campaign settings of both communes
        from .store.campaigns import demo_campaigns
        demo_campaigns(conn, gen.first_day)
    return DemoSummary(
        hamlets=sum(len(h) for h in gen.hamlets.values()),
        households=sum(len(h) for h in gen.households.values()),
        people=sum(len(hh.people) for hs in gen.households.values() for hh in hs),
        visits=sum(len(vs) for vs in gen.visits.values()),
        events=total,
        devices=len(gen.all_devices()),
        hamlets_by_commune={c: [h.id for h in hs] for c, hs in gen.hamlets.items()},
        teams=[team[0] for c in (WARD, RURAL) for team in gen.teams[c]],
        codes=codes,
        seconds=round(time.perf_counter() - started, 2),
    )


def _commune_name(code: str) -> str:
    from campaign.areas import commune
    return commune(code).full_name


def _enrol(conn: Any, device: _Device) -> None:
    code, _expires = devices.create_enrolment(conn, device.role, device.team_id,
                                              hamlets=device.hamlets if device.role == "volunteer" else None)
    device.device, _token = devices.enrol(conn, code)


def _stamp(event: dict[str, Any], device: _Device) -> None:
    assert device.device is not None
    event["device_id"] = device.device.id
    ev.check_event(event)  # a bad event here is the generator's fault: fail at once


def _push_all(engine: Engine, pushes: list[tuple[_Device, list[dict[str, Any]]]],
              scopes: dict[str, devices.Scope] | None = None) -> None:
    """One transaction per sync round: each device pushes its events in batches of ≤ 500."""
    with write_transaction(engine) as conn:
        for device, events in pushes:
            assert device.device is not None
            scope = scopes[device.key] if scopes else devices.Scope(hamlets=None)
            for i in range(0, len(events), PUSH_BATCH):
                batch = events[i:i + PUSH_BATCH]
                result = log.push(conn, device.device, scope, batch)
                if result.error or result.quarantined or result.acked_seq != batch[-1]["seq"]:
                    raise DemoError(f"{device.key}: the server did not take the demo's events as they are: "
                                    f"error={result.error} {result.detail} quarantined={result.quarantined[:5]}")


def spare_codes(conn: Any) -> dict[str, str]:
    """Unused enrolment codes for trying the app on the demo, valid for 30 days."""
    codes = {}
    for label, role, team, commune in (
            (f"volunteer {DEMO_TEAM}", "volunteer", DEMO_TEAM, None),
            (f"leader {DEMO_TEAM}", "leader", DEMO_TEAM, None),
            (f"officer {WARD}", "officer", None, WARD),
            (f"officer {RURAL}", "officer", None, RURAL)):
        codes[label], _ = devices.create_enrolment(conn, role, team, commune, ttl_hours=CODE_TTL_HOURS)
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


# ---- the command ----------------------------------------------------------------

#: The demo's field apps (web mode), each its own process and data dir under the working dir:
#: (who, enrolment code label, data dir, port offset from GOCUA_DEMO_APP_PORT).
DEMO_APPS = (
    ("volunteer of " + DEMO_TEAM, f"volunteer {DEMO_TEAM}", "gocua-demo-app", 0),
    ("officer of " + WARD + ": the dashboard", f"officer {WARD}", "gocua-demo-officer", 1),
)
DEMO_APP_PORT = 8550  # GOCUA_DEMO_APP_PORT overrides (the officer's app: the next port); 0 starts none
SERVER_WAIT = 60.0  # s for the API to answer before the apps are started


def start_companions(summary: DemoSummary, settings: Settings) -> None:
    """What runs beside the API for the demo: the enrolment codes, and two field
    apps (`gocua-app --web`), each already enrolled, that die with the demo: a
    volunteer of the demo team on port 8550 and the ward's police officer (the
    dashboard) on 8551.

    The API starts after this returns, so a thread per app waits for `/healthz`,
    then launches it with `--enrol CODE`: the app spends its spare code at the real
    `POST /api/v1/enroll` before it serves (or keeps its enrolment from an earlier
    run if the server still knows it). The server never imports the app: each app
    is a separate process, with its data dir in the working directory."""
    import threading

    from .cli import enrolment_url
    print("enrolment codes for the field app (one-time, 30 days):")
    for label, code in summary.codes.items():
        print(f"  {label:<20} {code}   {enrolment_url(settings.public_url, code)}")
    base = int(os.environ.get("GOCUA_DEMO_APP_PORT", DEMO_APP_PORT))
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
    import atexit
    import subprocess
    import urllib.request

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
        time.sleep(0.25)
    command = [sys.executable, "-m", "field_app.main", "--web", "--host", "127.0.0.1", "--port", str(port),
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
    import ctypes
    import signal
    PR_SET_PDEATHSIG = 1
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


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
    if not os.environ.get("GOCUA_PUBLIC_URL"):
        host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
        settings = replace(settings, public_url=f"http://{host}:{args.port}")
    start_companions(summary, settings)
    print(f"API at http://{args.host}:{args.port} (OpenAPI: /openapi.json); Ctrl+C stops it")
    sys.stdout.flush()
    import uvicorn

    from .app import create_app
    uvicorn.run(create_app(settings, engine), host=args.host, port=args.port,
                log_level="warning", access_log=False)
    return 0
