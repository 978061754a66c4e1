"""The synthetic population: hamlets, households, people and what the lists say of them.

One model for the demo and both benchmarks, so that a volunteer's phone in the
device bench, a commune of the server bench and the demo's two communes hold the
same kind of people: households of 1 to 8 (mean 3.6, as in the delta's
censuses), two or three generations named the way the registers name them, and
card and VNeID statuses by age in the shares a campaign meets. What happens at
the door (visits, help, follow-ups) is devtools/doorstep.py.

Each person has two sides: what the hamlet's list says (`presence`, `card`,
`vneid`, some of it "unknown") and what is true (`truth`), which the volunteer
finds out at the first meeting. Everything is drawn from the one random
generator given, in a fixed order: the same seed gives the same people.
"""
from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Mapping
from dataclasses import dataclass, field

from campaign import events as ev
from campaign import vocabulary as v

from . import names

# Household size 1..8: mean 3.6, as in the delta's censuses.
SIZE_WEIGHTS = (8, 17, 22, 27, 14, 7, 3, 2)
FAMILY_NAMES = list(names.FAMILY_NAMES)
FAMILY_CUM = list(itertools.accumulate(names.FAMILY_NAMES.values()))


def pick(rng: random.Random, weights: Mapping[str, float]) -> str:
    """One code of `weights` (code -> weight)."""
    return rng.choices(list(weights), weights=list(weights.values()))[0]


@dataclass(frozen=True)
class Truth:
    """How things really are, which the list may not say."""
    presence: str
    card: str
    vneid: str


@dataclass
class Person:
    label: str
    birth_year: int
    age: int  # in the campaign's first year: the age rules' conservative side
    presence: str  # from here to blockers: what the list says, then what the volunteer records
    card: str
    vneid: str
    blockers: list[str]
    truth: Truth
    phone: str  # "" (none of their own), "ok", "old", "no_nfc"
    sim_own: bool
    snag: str  # a blocker waiting to happen: "", "no_otp", "number_taken", "data_mismatch", "refused", ...
    followup: set[str] = field(default_factory=set)  # what a later visit finishes
    met: bool = False
    id: str = ""

    def listed(self) -> dict[str, str | int]:
        """The person.added data a list entry gives: label, birth year and the listed statuses."""
        return {"label": self.label, "birth_year": self.birth_year, "presence": self.presence,
                "card": self.card, "vneid": self.vneid}


@dataclass(kw_only=True)
class Household:
    people: list[Person]
    address: str
    consent: str = "unknown"  # asked at the door: unknown until the first meeting
    id: str = ""


class Population:
    """Draws hamlets, addresses and households for a campaign whose first year is `year`."""

    def __init__(self, rng: random.Random, year: int) -> None:
        self.rng = rng
        self.year = year

    # -- hamlets and addresses -----------------------------------------------------
    def hamlets(self, urban: bool, n: int) -> list[tuple[str, str]]:
        """(name, kind) of a commune's n hamlets: a ward's numbered tổ dân phố and a few
        named khu; a rural commune's villages (thôn)."""
        if urban:
            khu = names.WARD_KHU[:n // 5]
            return [(f"Tổ dân phố {i}", "to_dan_pho") for i in range(1, n - len(khu) + 1)] + \
                [(name, "other") for name in khu]
        villages = names.COMMUNE_THON
        if n <= len(villages):
            return [(f"Thôn {name}", "thon") for name in self.rng.sample(villages, n)]
        return [(f"Thôn {villages[i % len(villages)]} {i // len(villages) + 1}", "thon") for i in range(n)]

    def addresses(self, hamlet: str, urban: bool, n: int) -> list[str]:
        """n different addresses in a hamlet: houses along a ward's streets and lanes (ngõ),
        or by xóm in a village (some houses have no number)."""
        rng = self.rng
        out: list[str] = []
        if urban:
            streets = rng.sample(names.WARD_STREETS, rng.randint(2, 3))
            # each street: houses on the street itself and along a few lanes (ngõ)
            places: list[tuple[str, int | None]] = []
            for street in streets:
                places.append((street, None))
                for ngo in sorted(rng.sample(range(2, 180), rng.randint(3, 6))):
                    places.append((street, ngo))
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
            village = hamlet.removeprefix("Thôn ")
            xom_count = rng.randint(3, 8)
            used_numbers: set[tuple[int, int]] = set()
            while len(out) < n:
                xom = rng.randint(1, xom_count)
                if rng.random() < 0.35:
                    out.append(f"Xóm {xom}, thôn {village}")
                    continue
                house = rng.randint(1, 120)
                if (xom, house) in used_numbers:
                    continue
                used_numbers.add((xom, house))
                out.append(f"Số {house}, xóm {xom}, thôn {village}")
        for address in out:
            assert len(address) <= ev.MAX_ADDRESS, address
        return out

    # -- people ----------------------------------------------------------------------
    def family_name(self) -> str:
        x = self.rng.random() * FAMILY_CUM[-1]
        return FAMILY_NAMES[bisect.bisect_right(FAMILY_CUM, x)]

    def name(self, family: str, sex: str, birth_year: int) -> str:
        gen = "old" if birth_year < 1975 else "mid" if birth_year < 2000 else "young"
        rng = self.rng
        middle = rng.choice((names.MIDDLE_MALE if sex == "m" else names.MIDDLE_FEMALE)[gen])
        given = rng.choice((names.GIVEN_MALE if sex == "m" else names.GIVEN_FEMALE)[gen])
        if middle == given:
            middle = "Văn" if sex == "m" else "Thị"
        return f"{family} {middle} {given}"

    def household(self) -> list[Person]:
        """One household: who lives there, named the way the register names them."""
        rng = self.rng
        size = rng.choices(range(1, 9), weights=SIZE_WEIGHTS)[0]
        members: list[tuple[str, str, int]] = []  # (family name, sex, age)
        family = self.family_name()
        if size == 1:
            age = rng.choice([rng.randint(20, 40), rng.randint(60, 92), rng.randint(60, 92)])
            sex = "f" if age >= 60 and rng.random() < 0.7 else rng.choice("mf")
            members.append((family if sex == "m" else self.family_name(), sex, age))
        else:
            three_generations = (size >= 5 and rng.random() < 0.75) or (size == 4 and rng.random() < 0.2)
            if three_generations:
                grand = rng.randint(62, 88)
                members.append((family, "m", grand))
                if rng.random() < 0.6 or size >= 7:
                    members.append((self.family_name(), "f", grand - rng.randint(0, 6)))
                father = max(26, grand - rng.randint(22, 32))
            else:
                father = rng.randint(24, 72)
            members.append((family, "m", father))
            if len(members) < size:
                members.append((self.family_name(), "f", max(20, father - rng.randint(-2, 6))))
            mother = members[-1][2]
            while len(members) < size:
                child = mother - rng.randint(20, 38)
                if child < 0:
                    child = rng.randint(0, max(0, mother - 19))
                members.append((family, rng.choice("mf"), max(0, child)))
        people = []
        for fam, sex, age in members:
            birth_year = self.year - age
            people.append(self.person(self.name(fam, sex, birth_year), birth_year, age))
        return people

    def person(self, label: str, birth_year: int, age: int) -> Person:
        rng = self.rng
        # presence: what is true, and what the list says (it misses most departures)
        truth_presence = "home"
        r = rng.random()
        if (18 <= age <= 30 and r < 0.22) or (31 <= age <= 50 and r < 0.06):
            truth_presence = "away_work_study"
        elif 20 <= age <= 45 and rng.random() < 0.035:  # working in Japan, Korea, Taiwan
            truth_presence = "abroad"
        elif r > 0.985:
            truth_presence = "moved"
        elif (age >= 80 and r > 0.93) or (age >= 65 and r > 0.975):
            truth_presence = "deceased"
        listed_presence = truth_presence if truth_presence in ("away_work_study", "abroad") \
            and rng.random() < 0.4 else "home"
        card = pick(rng, card_weights(age))
        true_card = card if card != "unknown" else (
            pick(rng, {"cccd_chip": 85, "can_cuoc": 10, "cmnd_only": 3, "none": 2}) if age >= 14
            else pick(rng, {"none": 80, "can_cuoc": 20}))
        vneid = pick(rng, vneid_weights(age, true_card))
        if vneid != "unknown":
            true_vneid = vneid
        elif age >= 14:
            chip = true_card in v.CHIP_CARDS
            true_vneid = pick(rng, {"l2_active": 45 if chip else 0, "l1_active": 9, "l2_approved": 5 if chip else 0,
                                    "l1_approved": 4, "no_app": 37})
        elif age >= 6:
            true_vneid = pick(rng, {"not_eligible": 45, "no_app": 35, "l1_active": 20})
        else:
            true_vneid = pick(rng, {"not_eligible": 55, "no_app": 25, "l1_active": 20})
        phone = ""
        if age >= 14 and rng.random() < (0.96 if age < 60 else 0.7 if age < 75 else 0.3):
            phone = pick(rng, {"ok": 86, "old": 6, "no_nfc": 8})
        snag = ""
        if age >= 14:
            snag = pick(rng, {"": 90, "no_otp": 4, "number_taken": 2, "data_mismatch": 1.6, "refused": 1.4,
                              "forgot_password": 1})
        return Person(label=label, birth_year=birth_year, age=age, presence=listed_presence,
                      card=card, vneid=vneid, blockers=[],
                      truth=Truth(presence=truth_presence, card=true_card, vneid=true_vneid),
                      phone=phone, sim_own=rng.random() < 0.88, snag=snag)


def card_weights(age: int) -> dict[str, float]:
    """The card a list gives for an age ("unknown": the list does not say)."""
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


def vneid_weights(age: int, card: str) -> dict[str, float]:
    """The VNeID status a list gives for an age and a card; level 2 needs the chip card."""
    chip = card in v.CHIP_CARDS or card == "applied_waiting"
    if age < 6:
        return {"not_eligible": 40, "unknown": 30, "l1_active": 20, "no_app": 8, "l1_pending": 2}
    if age < 14:
        if card == "can_cuoc":
            return {"l2_active": 40, "l2_approved": 8, "l1_active": 10, "no_app": 22, "unknown": 20}
        return {"not_eligible": 35, "no_app": 25, "unknown": 25, "l1_active": 15}
    weights: dict[str, float]
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
