"""The demo's story: thirty days of ten teams' work, as each device's events.

1. In the first days each volunteer enters the hamlet's household list (from the
   tổ trưởng's register and the commune police's target list): addresses, people
   with their names, birth years, and the card and VNeID status the list gives,
   some of it "unknown". Consent is asked at the door, so it starts unknown.
2. Then door to door (devtools/doorstep.py): about 80 % of households get a
   first visit, on a day weighted towards weekends, when people are home; a
   volunteer's visits of a day are spread between 07:45 and 20:15.
3. Each evening the volunteers sync, and the team leader reviews the day's
   visits: most approved, a few returned with a comment.

Deterministic: the same random generator state and today give the same events.
"""
from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from campaign import events as ev

from .. import names
from ..doorstep import Doorstep, Visit
from .world import CAMPAIGN_DAYS, COMMUNES, Device, Home, World


@dataclass
class Call:
    """A visit of the story: which household, which day, and when it was recorded."""
    home: Home
    day: int
    visit: Visit
    at: datetime | None = None
    id: str = ""


class Story:
    def __init__(self, rng: random.Random, today: date, households_per_hamlet: int | None) -> None:
        self.rng = rng
        self.world = World(rng, today, households_per_hamlet)
        self.door = Doorstep(rng)
        self.calls: dict[str, list[Call]] = {}
        # weekends see more visits: people are home; today has only its morning so far
        first_day = self.world.first_day
        self.day_weight = [1.4 if (first_day + timedelta(days=d)).weekday() >= 5 else 1.0
                           for d in range(CAMPAIGN_DAYS)]
        self.day_weight[-1] = 0.35

    def tell(self) -> None:
        """Every device's items, commune by commune, then their events (`Device.events`)."""
        world = self.world
        for commune in COMMUNES:
            world.add_hamlets(commune)
        for commune in COMMUNES:
            world.add_teams(commune)
            world.add_households(commune)
            for team in world.teams[commune]:
                for volunteer in team.volunteers:
                    self._list_entry(commune, volunteer)
            self._plan_visits(commune)
            self._schedule(commune)
            self._reviews(commune)
        self._number()

    # -- step 1: the household list ------------------------------------------------
    def _list_entry(self, commune: str, volunteer: Device) -> None:
        """The volunteer types in the hamlet's register, hamlet by hamlet, 08:00–17:30."""
        rng, world = self.rng, self.world
        day, clock = 0, 8 * 3600 + rng.randint(0, 1800)
        mine = [h for h in world.homes[commune] if h.volunteer is volunteer]
        for home in mine:
            if clock > 17.5 * 3600:
                day, clock = day + 1, 8 * 3600 + rng.randint(0, 1200)
            at = world.at(day, clock)
            home.id = world.new_id(at)
            home.created_at = at
            world.emit(volunteer, at, "household.created", home.id, {
                "hamlet_id": home.hamlet.id, "address": home.address, "consent": "unknown"})
            for person in home.people:
                clock += rng.randint(8, 25)
                at = world.at(day, clock)
                person.id = world.new_id(at)
                world.emit(volunteer, at, "person.added", person.id, {"household_id": home.id, **person.listed()})
            clock += rng.randint(30, 80)
        for home in mine:
            home.day_ready = day + 1

    # -- step 2: visits -----------------------------------------------------------
    def _plan_visits(self, commune: str) -> None:
        rng = self.rng
        calls: list[Call] = []
        for home in self.world.homes[commune]:
            if rng.random() >= 0.83 or home.day_ready >= CAMPAIGN_DAYS:
                continue
            days = list(range(home.day_ready, CAMPAIGN_DAYS))
            day = rng.choices(days, weights=[self.day_weight[d] for d in days])[0]
            calls += [Call(home, d, visit) for d, visit in self.door.calls(home, day, CAMPAIGN_DAYS)]
        self.calls[commune] = calls

    # -- scheduling: each volunteer's day, in order ------------------------------------
    def _schedule(self, commune: str) -> None:
        rng = self.rng
        by_day: dict[tuple[str, int], list[Call]] = defaultdict(list)
        for call in self.calls[commune]:
            by_day[(call.home.volunteer.key, call.day)].append(call)
        volunteers = {d.key: d for team in self.world.teams[commune] for d in team.volunteers}
        for (key, day), calls in sorted(by_day.items()):
            rng.shuffle(calls)
            durations = [self._duration(call.visit) for call in calls]
            travel = [rng.randint(60, 420) for _ in calls]
            start, end = 7.75 * 3600, (20.25 if day < CAMPAIGN_DAYS - 1 else 11.5) * 3600
            busy = sum(durations) + sum(travel)
            if busy > end - start:  # a long day: start early, walk fast, end a little later
                start = 7 * 3600
                squeeze = max(0.0, (end + 4500 - start - sum(durations)) / sum(travel))
                travel = [int(hop * min(1.0, squeeze)) for hop in travel]
            free = (end - start) - sum(durations) - sum(travel)
            gaps = [rng.random() for _ in range(len(calls) + 1)]
            scale = max(free, 0) / sum(gaps)
            clock = start
            # one gap more than calls: the time left after the last
            for call, duration, hop, gap in zip(calls, durations, travel, gaps, strict=False):
                clock += gap * scale + hop
                self._emit_visit(volunteers[key], call, clock, duration)
                clock += duration

    def _duration(self, visit: Visit) -> int:
        rng = self.rng
        if visit.outcome == "not_home":
            return rng.randint(60, 180)
        if visit.outcome in ("refused", "moved"):
            return rng.randint(150, 360) + 20 * len(visit.updates)
        return 150 + 40 * (len(visit.updates) + len(visit.relabel)) + rng.randint(150, 600)

    def _emit_visit(self, volunteer: Device, call: Call, clock: float, duration: int) -> None:
        rng, world, visit, day = self.rng, self.world, call.visit, call.day
        step = clock + 60
        for kind, entity, data in visit.changes(call.home):  # relabels, consent, people's changes
            if kind == "household.updated":
                step += rng.randint(5, 15)
            elif "label" in data:
                step += rng.randint(10, 25)
            else:  # the statuses once the family has been asked
                step = max(step, clock + 150) + rng.randint(20, 40)
            world.emit(volunteer, world.at(day, step), kind, entity, data)
        step = max(step, clock + 150)
        at = world.at(day, max(step + 30, clock + duration))
        call.at = at
        call.id = world.new_id(at)
        world.emit(volunteer, at, "visit.recorded", call.id, visit.recorded(call.home))

    # -- step 3: the leader's evening review --------------------------------------------
    def _reviews(self, commune: str) -> None:
        rng, world = self.rng, self.world
        per_leader: dict[tuple[str, int], list[Call]] = defaultdict(list)
        leaders = {team.id: team.leader for team in world.teams[commune]}
        for call in sorted(self.calls[commune], key=lambda x: (x.at, x.id)):
            if rng.random() >= 0.72:
                continue
            lag = rng.choices((0, 1, 2, 3), weights=(40, 35, 15, 10))[0]
            assert call.at is not None
            if lag == 0 and call.at.hour >= 20:
                lag = 1
            day = world.day_of(call.at) + lag
            if day >= CAMPAIGN_DAYS - 1:  # leaders review in the evening: today's is still to come
                continue
            per_leader[(call.home.volunteer.team_id or "", day)].append(call)
        for (team_id, day), calls in sorted(per_leader.items()):
            clock = 20.75 * 3600 + rng.randint(0, 900)
            for call in calls:
                clock += rng.randint(20, 90)
                returned = rng.random() < 0.035
                comment = rng.choice(names.RETURN_COMMENTS) if returned else rng.choice(names.APPROVE_COMMENTS)
                world.emit(leaders[team_id], world.at(day, clock), "review.decided", call.id, {
                    "decision": "returned" if returned else "approved", "comment": comment})

    # -- the events, in each device's order -----------------------------------------
    def _number(self) -> None:
        """Give each device's items their seq numbers, in time order, and ids."""
        for device in self.world.devices():
            device.items.sort(key=lambda item: (item.at, item.order))
            device.events = [
                {"id": self.world.new_id(item.at), "device_id": "", "seq": seq, "kind": item.kind,
                 "entity": item.entity, "base": None, "at": item.at.isoformat(timespec="seconds"),
                 "data": item.data, "schema": ev.SCHEMA}
                for seq, item in enumerate(device.items, start=1)]
