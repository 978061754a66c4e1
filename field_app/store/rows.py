"""The typed rows the store's reads return to the screens (frozen: a row is a snapshot)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from campaign import vocabulary as v
from campaign.events import FAMILIES, family
from campaign.followup import FOLLOW_UP, come_back_of, follow_up, needs_revisit, scheduled
from campaign.projection import Entity, is_merged
from campaign.search import Rank

from .entities import Entities
from .sql import chunks, marks


@dataclass(frozen=True, slots=True)
class HamletRow:
    id: str
    commune: str
    name: str
    kind: str
    valid_from: str
    valid_to: str | None
    version: int | None
    households: int  # households held here in it
    visited: int  # of which visited at least once


@dataclass(frozen=True, slots=True)
class SearchMatch:
    """Why a search found a household (campaign.search): the rank, and the person whose name
    matched (None when the address or the hamlet did)."""
    rank: Rank
    person_id: str | None = None
    label: str | None = None
    birth_year: int | None = None


@dataclass(frozen=True, slots=True)
class HouseholdRow:
    id: str
    hamlet_id: str | None
    address: str
    consent: str
    assigned_to: str | None
    visits: int
    first_visit_at: str | None
    last_visit_at: str | None
    last_outcome: str | None
    last_visit_id: str | None
    version: int | None
    people: int
    people_here: int  # living here (campaign.vocabulary.LIVING_HERE)
    follow_up: tuple[str, ...]  # what its people still need (campaign.followup.FOLLOW_UP order)
    returned: bool  # the latest visit was returned by the leader
    revisit: bool  # the latest visit found nobody home (campaign.followup.needs_revisit)
    match: SearchMatch | None = None  # on a search's rows: why it was found
    assigned_at: str | None = None  # when assigned_to was set (campaign.assignments: lapsing)
    mine: bool = False  # this device holds it (campaign.assignments.holder): the list shows it first
    come_back: dict[str, Any] | None = None  # to revisit: when its latest visit said to come back (campaign.followup)

    def as_data(self) -> dict[str, Any]:
        """The household's fields as events name them (a conflict's value is compared with these)."""
        return {"hamlet_id": self.hamlet_id, "address": self.address, "consent": self.consent,
                "assigned_to": self.assigned_to, "visits": self.visits, "first_visit_at": self.first_visit_at,
                "last_visit_at": self.last_visit_at, "last_outcome": self.last_outcome,
                "last_visit_id": self.last_visit_id}


class Revisit(NamedTuple):
    """A household to revisit, as the home's come-backs of today need it."""
    id: str
    address: str
    come_back: dict[str, Any] | None  # {"window", "on"}; None when the visit said nothing


@dataclass(frozen=True, slots=True)
class HouseholdsPage:
    """A page of the households screen and what the whole search found: `total` households,
    `by_name` of them through a person's name, `by_address` through the address, `by_hamlet`
    through the hamlet's name (each counted once, under its best rank)."""
    rows: list[HouseholdRow]
    total: int
    by_name: int = 0
    by_address: int = 0
    by_hamlet: int = 0
    mine: int = 0  # the first `mine` households of the whole list are this device's ("Của tôi")


@dataclass(frozen=True, slots=True)
class PersonRow:
    id: str
    household_id: str
    hamlet_id: str | None
    label: str
    birth_year: int | None
    presence: str
    card: str
    vneid: str
    blockers: tuple[str, ...]
    vneid_active_at: str | None
    version: int | None
    follow_up: tuple[str, ...]  # campaign.followup.follow_up this year

    def as_data(self) -> dict[str, Any]:
        """The person's fields as events name them and campaign's rules read them (lists as on the wire)."""
        return {"household_id": self.household_id, "label": self.label, "birth_year": self.birth_year,
                "presence": self.presence, "card": self.card, "vneid": self.vneid,
                "blockers": list(self.blockers), "vneid_active_at": self.vneid_active_at}


@dataclass(frozen=True, slots=True)
class VisitRow:
    id: str
    household_id: str
    hamlet_id: str | None
    outcome: str
    actions: tuple[str, ...]
    people_helped: tuple[str, ...]
    note: str
    at: str
    device_id: str
    review: str | None  # approved | returned, None until a leader decides
    review_comment: str | None
    reviewed_by: str | None
    reviewed_at: str | None
    version: int | None
    voided_at: str | None = None  # taken back (visit.voided): the reads leave it out
    void_reason: str | None = None
    come_back: dict[str, Any] | None = None  # not_home: when to come back ({"window", "on"})


@dataclass(frozen=True, slots=True)
class FieldChange:
    """A person's field a visit changed (the VNeID status its help implied): what undoing the
    visit puts back."""
    person_id: str
    field: str
    before: Any
    after: Any


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """A visit waiting for the leader's decision, with its household's address."""
    visit: VisitRow
    address: str | None


@dataclass(frozen=True, slots=True)
class Counts:
    """The home screen's numbers."""
    households: int
    visited: int
    left: int
    revisit: int
    follow_up: int
    returned: int
    today: int  # visits whose day in Vietnam is today, by the whole team (every device)
    today_mine: int  # of which recorded by this device
    pending: int  # events not yet acknowledged
    quarantined: int


@dataclass(frozen=True, slots=True)
class Work:
    """This device's events told as people speak of them (campaign.events.family): the visits
    they record or take back, the reviews, and the households and people added, or changed
    outside those visits (a visit's own consent and VNeID changes belong to it), each once;
    `other` counts the remaining events (a hamlet, a settled conflict)."""
    visits: int = 0
    reviews: int = 0
    households: int = 0
    people: int = 0
    other: int = 0

    @property
    def total(self) -> int:
        return self.visits + self.reviews + self.households + self.people + self.other


def work_of(rows: Iterable[tuple[str, str, str | None]]) -> Work:
    """Work from outbox rows (kind, entity, related household)."""
    items = list(rows)
    visited = {related for kind, _, related in items if family(kind) == "visit" and related}
    seen: dict[str, set[str]] = {f: set() for f in FAMILIES}
    other = 0
    for kind, entity, related in items:
        f = family(kind)
        if f == "other":
            other += 1
        elif kind.endswith(".updated") and ((f == "household" and entity in visited)
                                            or (f == "person" and related in visited)):
            continue  # changed during a visit of this household (consent, VNeID): told as that visit
        else:
            seen[f].add(entity)
    return Work(len(seen["visit"]), len(seen["review"]), len(seen["household"]), len(seen["person"]), other)


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the server's receipt must say: the acknowledged events (quarantined ones too)."""
    acked_seq: int
    counts: Mapping[str, int]  # kind -> events
    digest: str  # campaign.events.digest of their canonical JSON, in seq order


@dataclass(frozen=True, slots=True)
class QuarantinedEvent:
    """An event of this device the server refused, and why."""
    seq: int
    kind: str
    reason: str | None
    at: str
    entity: str


# ---- from entities --------------------------------------------------------------------------

def _strings(value: Any) -> tuple[str, ...]:
    return tuple(value) if isinstance(value, list) else ()


def hamlet_row(hamlet: Entity, households: int, visited: int) -> HamletRow:
    d = hamlet.data
    return HamletRow(hamlet.id, d.get("commune", ""), d.get("name", ""), d.get("kind", ""), d.get("valid_from", ""),
                     d.get("valid_to"), hamlet.version, households, visited)


def scheduled_people(entities: Entities, hamlets: Iterable[str | None]) -> set[str]:
    """The people of these hamlets holding a capture booking (campaign.followup.scheduled: booked or
    attended, in a session not cancelled): card capture and level 2 are taken care of, as the
    server's lists say. A booking lives in its person's hamlet."""
    wanted = sorted({h for h in hamlets if h})
    bookings = [b for chunk in chunks(wanted)
                for b in entities.select(f"WHERE type = 'booking' AND hamlet_id IN ({marks(chunk)})", chunk)]
    if not bookings:
        return set()
    sessions = entities.by_ids(sorted({b.parent_id for b in bookings if b.parent_id}))
    return {str(b.data.get("person_id")) for b in bookings
            if scheduled(b.data, sessions[b.parent_id].data if b.parent_id in sessions else None)}


def person_row(person: Entity, year: int, booked: bool = False) -> PersonRow:
    """`booked`: the person holds a capture booking (scheduled_people)."""
    d = person.data
    return PersonRow(person.id, d.get("household_id", person.parent_id or ""), person.hamlet_id, d.get("label", ""),
                     d.get("birth_year"), d.get("presence", ""), d.get("card", ""), d.get("vneid", ""),
                     _strings(d.get("blockers")), d.get("vneid_active_at"), person.version,
                     tuple(follow_up(d, year, booked)))


def visit_row(visit: Entity) -> VisitRow:
    d = visit.data
    return VisitRow(visit.id, d.get("household_id", visit.parent_id or ""), visit.hamlet_id, d.get("outcome", ""),
                    _strings(d.get("actions")), _strings(d.get("people_helped")), d.get("note", ""), d.get("at", ""),
                    d.get("device_id", ""), d.get("review"), d.get("review_comment"), d.get("reviewed_by"),
                    d.get("reviewed_at"), visit.version, d.get("voided_at"), d.get("void_reason"),
                    d.get("come_back") if isinstance(d.get("come_back"), dict) else None)


def household_rows(entities: Entities, households: Sequence[Entity], year: int,
                   people: dict[str, list[Entity]] | None = None) -> list[HouseholdRow]:
    """The rows of these households: their people read in one query a chunk (into `people`,
    household id → its people, when given), and only each household's latest visit opened (it
    alone decides `returned`)."""
    ids = [h.id for h in households]
    people = {} if people is None else people
    for chunk in chunks(ids):
        for p in entities.select(f"WHERE type = 'person' AND parent_id IN ({marks(chunk)}) ORDER BY id", chunk):
            if not is_merged(p.data):  # a duplicate merged into another is nobody here
                people.setdefault(p.parent_id or "", []).append(p)
    booked = scheduled_people(entities, {h.hamlet_id for h in households})
    latest = entities.by_ids([v_id for h in households if isinstance(v_id := h.data.get("last_visit_id"), str)])
    returned = {v_id for v_id, visit in latest.items()
                if visit.type == "visit" and visit.data.get("review") == "returned"}
    rows = []
    for h in households:
        d = h.data
        members = people.get(h.id, [])
        needs = sorted({reason for p in members for reason in follow_up(p.data, year, p.id in booked)},
                       key=FOLLOW_UP.index)
        rows.append(HouseholdRow(
            h.id, h.hamlet_id, d.get("address", ""), d.get("consent", ""), d.get("assigned_to"),
            int(d.get("visits") or 0), d.get("first_visit_at"), d.get("last_visit_at"), d.get("last_outcome"),
            d.get("last_visit_id"), h.version, len(members),
            sum(p.data.get("presence") in v.LIVING_HERE for p in members), tuple(needs),
            d.get("last_visit_id") in returned, needs_revisit(d), assigned_at=d.get("assigned_at"),
            come_back=come_back_of(d)))
    return rows
