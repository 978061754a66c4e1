"""Likely duplicates across devices (personal data: every view is audited), for leaders
(their team's hamlets) and officers (their commune) to merge with `person.merged`.

The rule is campaign.duplicates' (same folded label, birth years within one), applied
across the caller's hamlets of the commune, so two volunteers who recorded one person in
two households of two hamlets are found too. People already merged are left out.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from campaign import duplicates as rules

from ..store import followup as store
from ..store.db import read_transaction
from .access import checked_commune, scope_hamlets, visible_hamlets
from .audit import log_read
from .enrolment import Caller

MAX_PAIRS = 500


@dataclass(frozen=True)
class Pair:
    people: tuple[dict[str, Any], dict[str, Any]]  # the older record first (ids are time-ordered)

    def wire(self) -> dict[str, Any]:
        return {"people": list(self.people)}


def likely(engine: Engine, who: Caller, commune: str) -> list[Pair]:
    """The likely-duplicate pairs in the caller's scope (at most MAX_PAIRS), audited
    (duplicates.view) once read."""
    checked_commune(who, commune)
    with read_transaction(engine) as conn:
        hamlets = scope_hamlets(conn, who, commune)
        people: dict[str, dict[str, Any]] = {}
        for hamlet_id, name in visible_hamlets(conn, commune, who.scope).items():
            addresses = {i: data.get("address", "") for i, _p, data in store.households(conn, hamlet_id)}
            for person_id, household_id, data in store.people(conn, hamlet_id):
                people[person_id] = {"person_id": person_id, "label": data.get("label"),
                                     "birth_year": data.get("birth_year"), "household_id": household_id,
                                     "address": addresses.get(household_id or "", ""), "hamlet_id": hamlet_id,
                                     "hamlet": name, "presence": data.get("presence"), "card": data.get("card"),
                                     "vneid": data.get("vneid"), "merged_into": data.get("merged_into")}
    found = rules.pairs((i, p) for i, p in people.items())[:MAX_PAIRS]
    out = [Pair((_public(people[a]), _public(people[b]))) for a, b in found]
    log_read(engine, who, "duplicates.view", commune, {"pairs": len(out)}, hamlets)
    return out


def _public(person: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in person.items() if k != "merged_into"}
