"""Follow-up lists: who still needs the team, hamlet by hamlet (personal data: audited by the caller).

The rules are `campaign.followup`'s, the ones the phone uses. Rows come out in
one order everywhere (JSON pages, CSV, the export's sheet): hamlets by name as
in the totals, then households in the order they were created (ids are
time-ordered), then people in the order they were added. A page's `next` is
the position of its last row, so the next page resumes exactly there.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterator

from sqlalchemy import Connection, and_, or_, select

from campaign import followup as rules
from campaign.ids import is_uuid

from . import schema as t
from .devices import Scope
from .totals import hamlets_of

# list name on the wire -> the need in campaign.followup (revisit: households)
LISTS: dict[str, str] = {"card_capture": "card_capture", "level2": "l2", "activation": "activation",
                         "home_capture": "home_capture", "revisit": "revisit"}
PERSON_LISTS = ("card_capture", "level2", "activation", "home_capture")
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


class CursorError(ValueError):
    pass


@dataclass(frozen=True)
class Position:
    hamlet_id: str
    household_id: str
    person_id: str  # "" for a household list

    def text(self) -> str:
        return "/".join(p for p in (self.hamlet_id, self.household_id, self.person_id) if p)

    @classmethod
    def parse(cls, text: str, people: bool) -> Position:
        parts = text.split("/")
        if len(parts) != (3 if people else 2) or not all(is_uuid(p) for p in parts):
            raise CursorError("after must be the `next` of the page before")
        return cls(parts[0], parts[1], parts[2] if people else "")


def person_row(hamlet_id: str, hamlet: str, household_id: str, household: dict[str, Any],
               person_id: str, person: dict[str, Any], needs: list[str]) -> dict[str, Any]:
    return {"hamlet_id": hamlet_id, "hamlet": hamlet, "household_id": household_id,
            "address": household.get("address", ""), "person_id": person_id, "label": person["label"],
            "birth_year": person.get("birth_year"), "card": person["card"], "vneid": person["vneid"],
            "blockers": person.get("blockers", []), "needs": needs}


def household_row(hamlet_id: str, hamlet: str, household_id: str, household: dict[str, Any]) -> dict[str, Any]:
    return {"hamlet_id": hamlet_id, "hamlet": hamlet, "household_id": household_id,
            "address": household["address"], "visits": household["visits"],
            "last_visit_at": household["last_visit_at"], "needs": ["revisit"]}


def _bodies(conn: Connection, query: Any) -> Iterator[tuple[str, str | None, dict[str, Any]]]:
    for row in conn.execute(query.execution_options(yield_per=2000)):
        yield row.id, row.parent_id, json.loads(row.body)["data"]


def _households(conn: Connection, hamlet_id: str) -> dict[str, dict[str, Any]]:
    e = t.entities.c
    return {i: d for i, _p, d in _bodies(conn, select(e.id, e.parent_id, e.body).where(
        e.hamlet_id == hamlet_id, e.type == "household"))}


def _booked(conn: Connection, hamlet_id: str) -> set[str]:
    """People a visit in this hamlet booked a home capture for."""
    e = t.entities.c
    out: set[str] = set()
    for _i, _p, visit in _bodies(conn, select(e.id, e.parent_id, e.body).where(
            e.hamlet_id == hamlet_id, e.type == "visit", e.body.like(f"%{rules.HOME_CAPTURE_ACTION}%"))):
        out.update(rules.booked_people(visit))
    return out


def _people_in(conn: Connection, hamlet_id: str, hamlet: str, year: int, want: str | None,
               after: Position | None) -> Iterator[tuple[Position, dict[str, Any]]]:
    """People of one hamlet with a need (`want`, or any need for None), in list order."""
    e = t.entities.c
    households = _households(conn, hamlet_id)
    booked = _booked(conn, hamlet_id) if want in (None, "home_capture") else set()
    query = select(e.id, e.parent_id, e.body).where(e.hamlet_id == hamlet_id, e.type == "person")
    if after is not None:
        query = query.where(or_(e.parent_id > after.household_id,
                                and_(e.parent_id == after.household_id, e.id > after.person_id)))
    for person_id, household_id, data in _bodies(conn, query.order_by(e.parent_id, e.id)):
        needs = rules.needs(data, year, person_id in booked)
        if needs and (want is None or want in needs):
            assert household_id is not None
            yield (Position(hamlet_id, household_id, person_id),
                   person_row(hamlet_id, hamlet, household_id, households.get(household_id, {}), person_id,
                              data, needs))


def _revisits_in(conn: Connection, hamlet_id: str, hamlet: str,
                 after: Position | None) -> Iterator[tuple[Position, dict[str, Any]]]:
    e = t.entities.c
    query = select(e.id, e.parent_id, e.body).where(e.hamlet_id == hamlet_id, e.type == "household")
    if after is not None:
        query = query.where(e.id > after.household_id)
    for household_id, _p, data in _bodies(conn, query.order_by(e.id)):
        if rules.needs_revisit(data):
            yield Position(hamlet_id, household_id, ""), household_row(hamlet_id, hamlet, household_id, data)


def rows(conn: Connection, commune: str, scope: Scope, list_name: str, year: int,
         after: Position | None = None) -> Iterator[tuple[Position, dict[str, Any]]]:
    """Every row of one list, in list order, after a position (exclusive)."""
    want = LISTS[list_name]
    hamlets = list(hamlets_of(conn, commune, scope).items())
    start = 0
    if after is not None:
        ids = [h for h, _n in hamlets]
        if after.hamlet_id not in ids:
            raise CursorError("the page before was of a hamlet this list no longer shows: start again")
        start = ids.index(after.hamlet_id)
    for i, (hamlet_id, name) in enumerate(hamlets[start:], start):
        resume = after if (after is not None and i == start) else None
        if want == "revisit":
            yield from _revisits_in(conn, hamlet_id, name, resume)
        else:
            yield from _people_in(conn, hamlet_id, name, year, want, resume)


def page(conn: Connection, commune: str, scope: Scope, list_name: str, year: int,
         after: str | None, limit: int) -> dict[str, Any]:
    """One JSON page: {"rows", "next", "more"}; `next` goes in `after` for the next page."""
    position = Position.parse(after, list_name != "revisit") if after else None
    out: list[dict[str, Any]] = []
    last: Position | None = None
    more = False
    for where, row in rows(conn, commune, scope, list_name, year, position):
        if len(out) == limit:
            more = True
            break
        out.append(row)
        last = where
    return {"rows": out, "next": last.text() if last else after, "more": more}


def counts(conn: Connection, commune: str, scope: Scope, year: int) -> dict[str, int]:
    """How long each list is, from one pass over the commune's people and households (the
    lists' own rules; no row leaves the server, so nothing personal is shown)."""
    out = dict.fromkeys(LISTS, 0)
    wire = {need: name for name, need in LISTS.items()}
    for hamlet_id, name in hamlets_of(conn, commune, scope).items():
        for _where, row in _people_in(conn, hamlet_id, name, year, None, None):
            for need in row["needs"]:
                if need in wire:
                    out[wire[need]] += 1
        out["revisit"] += sum(1 for _ in _revisits_in(conn, hamlet_id, name, None))
    return out


def everything(conn: Connection, commune: str, scope: Scope, year: int) -> Iterator[dict[str, Any]]:
    """The export's sheet: per hamlet, everyone with a need, then the households to revisit."""
    for hamlet_id, name in hamlets_of(conn, commune, scope).items():
        for _where, row in _people_in(conn, hamlet_id, name, year, None, None):
            yield row
        for _where, row in _revisits_in(conn, hamlet_id, name, None):
            yield row
