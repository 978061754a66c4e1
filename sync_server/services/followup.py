"""Follow-up lists: who still needs the team, hamlet by hamlet (personal data: every view
and download is audited; counts are not).

The rules are `campaign.followup`'s, the ones the phone uses. Rows come out in
one order everywhere (JSON pages, CSV, the export's sheet): hamlets by name as
in the totals, then households in the order they were created (ids are
time-ordered), then people in the order they were added. A page's `next` is
the position of its last row, so the next page resumes exactly there.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby

from sqlalchemy import Connection, Engine

from campaign import children as kids
from campaign import followup as rules
from campaign import guides
from campaign.ids import is_uuid
from campaign.time import local_year, now

from ..render import csv as render_csv
from ..render.rows import FollowupRow, HouseholdRevisit, PersonNeed
from ..store import entities as store_entities
from ..store import followup as store
from ..store.db import read_transaction
from ..store.devices import Scope
from .access import checked_commune, scope_hamlets, visible_hamlets
from .audit import log_read
from .enrolment import Caller
from .errors import Invalid

# list name on the wire -> the need in campaign.followup (revisit: households)
LISTS: dict[str, str] = {"card_capture": "card_capture", "level2": "l2", "activation": "activation",
                         "home_capture": "home_capture", "revisit": "revisit"}
PERSON_LISTS = ("card_capture", "level2", "activation", "home_capture")
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000




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
            raise Invalid("bad_cursor", "after must be the `next` of the page before")
        return cls(parts[0], parts[1], parts[2] if people else "")


@dataclass(frozen=True)
class Page:
    rows: list[FollowupRow]
    next: str | None
    more: bool


def this_year() -> int:
    """The year the age rules count in: Vietnam's."""
    return local_year(now())


# ---- one hamlet -------------------------------------------------------------------------

def _booked(conn: Connection, hamlet_id: str) -> set[str]:
    """People a visit in this hamlet booked a home capture for."""
    out: set[str] = set()
    for _i, _p, visit in store.visits_mentioning(conn, hamlet_id, rules.HOME_CAPTURE_ACTION):
        out.update(rules.booked_people(visit))
    if out:  # a booking of a duplicate merged since counts for the person kept (person.merged)
        for person in store_entities.load(conn, sorted(out)).values():
            if person.data.get("merged_into"):
                out.add(person.data["merged_into"])
    return out


def scheduled_in(conn: Connection, hamlet_id: str) -> set[str]:
    """People of this hamlet holding a capture booking (campaign.followup.scheduled)."""
    found = list(store.bookings(conn, hamlet_id))
    if not found:
        return set()
    sessions = store_entities.load(conn, sorted({s for _i, s, _d in found if s}))
    return {str(data["person_id"]) for _i, session_id, data in found
            if rules.scheduled(data, sessions[session_id].data if session_id in sessions else None)}


def _people_in(conn: Connection, hamlet_id: str, hamlet: str, year: int, want: str | None,
               after: Position | None) -> Iterator[tuple[Position, PersonNeed]]:
    """People of one hamlet with a need (`want`, or any need for None), in list order."""
    households = {i: data for i, _p, data in store.households(conn, hamlet_id)}
    booked = _booked(conn, hamlet_id) if want in (None, "home_capture") else set()
    scheduled = scheduled_in(conn, hamlet_id)  # a booking takes care of card capture and level 2 too
    resume = (after.household_id, after.person_id) if after is not None else None
    for person_id, household_id, data in store.people(conn, hamlet_id, resume):
        needs = rules.needs(data, year, person_id in booked, person_id in scheduled)
        if needs and (want is None or want in needs):
            assert household_id is not None
            household = households.get(household_id, {})
            yield (Position(hamlet_id, household_id, person_id),
                   PersonNeed(hamlet_id, hamlet, household_id, household.get("address", ""), person_id,
                              data["label"], data.get("birth_year"), data["card"], data["vneid"],
                              data.get("blockers", []), needs))


def _revisits_in(conn: Connection, hamlet_id: str, hamlet: str,
                 after: Position | None) -> Iterator[tuple[Position, HouseholdRevisit]]:
    """A hamlet's households to revisit in campaign.followup.revisit_order (dated come-backs first,
    then by window), ties by id. A page resumes after the household named in `after` at the
    place its data puts it now (a household that needs no revisit any more still has one)."""
    keyed = sorted(((rules.revisit_order(data), household_id), data)
                   for household_id, _p, data in store.households(conn, hamlet_id))
    start = 0
    if after is not None:
        place = next((key for key, _d in keyed if key[1] == after.household_id), None)
        start = sum(1 for key, _d in keyed if place is not None and key <= place)
    for (_order, household_id), data in keyed[start:]:
        if rules.needs_revisit(data):
            yield (Position(hamlet_id, household_id, ""),
                   HouseholdRevisit(hamlet_id, hamlet, household_id, data["address"], data["visits"],
                                    data["last_visit_at"], come_back=rules.come_back_of(data)))


# ---- a commune ------------------------------------------------------------------------

def rows(conn: Connection, commune: str, scope: Scope, list_name: str, year: int,
         after: Position | None = None) -> Iterator[tuple[Position, FollowupRow]]:
    """Every row of one list, in list order, after a position (exclusive)."""
    want = LISTS[list_name]
    hamlets = list(visible_hamlets(conn, commune, scope).items())
    start = 0
    if after is not None:
        ids = [h for h, _n in hamlets]
        if after.hamlet_id not in ids:
            raise Invalid("bad_cursor", "the page before was of a hamlet this list no longer shows: start again")
        start = ids.index(after.hamlet_id)
    for i, (hamlet_id, name) in enumerate(hamlets[start:], start):
        resume = after if (after is not None and i == start) else None
        if want == "revisit":
            yield from _revisits_in(conn, hamlet_id, name, resume)
        else:
            yield from _people_in(conn, hamlet_id, name, year, want, resume)


def everything(conn: Connection, commune: str, scope: Scope, year: int) -> Iterator[FollowupRow]:
    """The export's sheet: per hamlet, everyone with a need, then the households to revisit."""
    for hamlet_id, name in visible_hamlets(conn, commune, scope).items():
        for _where, person in _people_in(conn, hamlet_id, name, year, None, None):
            yield person
        for _where, household in _revisits_in(conn, hamlet_id, name, None):
            yield household


def counts(conn: Connection, who: Caller, commune: str) -> dict[str, int]:
    """How long each list is in the caller's scope (the dashboard's tiles), from one pass over
    the commune's people and households. Counts only: no personal data, so not audited."""
    checked_commune(who, commune)
    year = this_year()
    out = dict.fromkeys(LISTS, 0)
    wire = {need: name for name, need in LISTS.items()}
    for hamlet_id, name in visible_hamlets(conn, commune, who.scope).items():
        for _where, person in _people_in(conn, hamlet_id, name, year, None, None):
            for need in person.needs:
                if need in wire:
                    out[wire[need]] += 1
        out["revisit"] += sum(1 for _ in _revisits_in(conn, hamlet_id, name, None))
    return out


def blockers(conn: Connection, who: Caller, commune: str) -> dict[str, guides.BlockerProgress]:
    """Each blocker in the caller's scope: people living here who still have it, and the help
    they were given (campaign.guides.progress). Counts only: not audited."""
    checked_commune(who, commune)
    parts = []
    for hamlet_id in visible_hamlets(conn, commune, who.scope):
        helped = guides.help_given(data for _i, _p, data in store.visits(conn, hamlet_id))
        parts.append(guides.progress(((i, data) for i, _p, data in store.people(conn, hamlet_id)), helped))
    return guides.merge(parts)


def children(conn: Connection, who: Caller, commune: str) -> dict[str, int]:
    """Children under 14 living here, in the caller's scope, by what can be done for them
    (campaign.children: now, capture, parent_first, done). Counts only: not audited."""
    checked_commune(who, commune)
    year = this_year()
    found: list[kids.Child] = []
    for hamlet_id in visible_hamlets(conn, commune, who.scope):
        for _household, people in groupby(store.people(conn, hamlet_id), key=lambda body: body[1]):
            found += kids.household(((i, data) for i, _p, data in people), year)
    return kids.count(found)


def page(engine: Engine, who: Caller, commune: str, list_name: str, after: str | None, limit: int) -> Page:
    """One JSON page of a list; its `next` goes in `after` for the next page. Audited
    (followup.view) once read, before it leaves the server."""
    checked_commune(who, commune)
    position = Position.parse(after, list_name != "revisit") if after else None
    with read_transaction(engine) as conn:
        hamlets = scope_hamlets(conn, who, commune)
        out: list[FollowupRow] = []
        last: Position | None = None
        more = False
        for where, row in rows(conn, commune, who.scope, list_name, this_year(), position):
            if len(out) == limit:
                more = True
                break
            out.append(row)
            last = where
    log_read(engine, who, "followup.view", commune,
             {"list": list_name, "format": "json", "rows": len(out), "first_page": after is None}, hamlets)
    return Page(out, last.text() if last else after, more)


def download(engine: Engine, who: Caller | None, commune: str, list_name: str) -> Iterator[str]:
    """The whole list as CSV text, audited (followup.download) before its first line is read.
    `who` None: the command line (every hamlet). The lines are read in a transaction of
    their own, as they are sent."""
    if who is not None:
        checked_commune(who, commune)
    seen = who.scope if who else Scope(hamlets=None)
    with read_transaction(engine) as conn:
        hamlets = scope_hamlets(conn, who, commune)
    log_read(engine, who, "followup.download", commune, {"list": list_name, "format": "csv"}, hamlets)
    year = this_year()

    def lines() -> Iterator[str]:
        with read_transaction(engine) as conn:
            found = (row for _where, row in rows(conn, commune, seen, list_name, year))
            yield from render_csv.followup(list_name, found)
    return lines()

