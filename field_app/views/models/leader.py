"""The team leader's screens' logic, without Flet: the review queue and its
decisions, open conflicts grouped side by side and their settling, the team's
devices and how recently each synced, one device's quarantined events.
views/leader.py draws them.

Decisions and resolutions are events in the local store (`Store.decide_review`,
`Store.resolve_conflict`): they reach the volunteer by pull after the next
sync. Conflicts and the team come from the server (dicts as it sends them).
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from campaign import vocabulary as v
from campaign.events import InvalidEvent
from campaign.ids import device_short
from field_app import i18n
from field_app.i18n import format_number, plural, t, vocab_label
from field_app.store import ReviewItem, Store, StoreError

from .review_groups import Filters, VolunteerDay, approve_rest, choices, volunteer_days
from .words import changes_text, code_label, format_value, parse_time, refusal_of, relative_time

__all__ = ["OUTCOME_STATUS", "QUEUE_SHOWN", "STALE_AFTER_HOURS", "ConflictCard", "ConflictOption", "FilterChoices",
           "HeldEvent",
           "LeaderApi", "LeaderModel", "Member", "ReviewQueue", "TeamApi", "VisitCard", "group_conflicts",
           "held_events", "sync_state"]

#: A visit outcome -> the status whose icon shape marks it (the chip's words say the outcome).
OUTCOME_STATUS = {"met": "done", "not_home": "revisit", "refused": "problem", "moved": "problem"}
STALE_AFTER_HOURS = 24  # a member not synced for longer is flagged
QUEUE_SHOWN = 50  # visits drawn at once (oldest first); deciding them brings the next ones

Answer = Mapping[str, Any]  # a JSON object as the server sent it


class TeamApi(Protocol):
    """The server calls of the team screens (field_app/net/server_api.py `ServerApi`)."""

    def team_devices(self, commune: str | None = None) -> list[dict[str, Any]]: ...
    def quarantined(self, device_id: str) -> list[dict[str, Any]]: ...


class LeaderApi(TeamApi, Protocol):
    """The server calls of the leader's screens."""

    def conflicts(self, commune: str) -> list[dict[str, Any]]: ...

    def walksheet_pdf(self, hamlet: str, device: str | None = None) -> Any: ...  # a net.server_api.Download

    def new_member(self, name: str, team: str | None = None) -> dict[str, Any]: ...  # views/members.py

    def team_settings(self, team: str) -> dict[str, Any]: ...  # views/team_settings.py

    def put_team_settings(self, team: str, settings: dict[str, int]) -> dict[str, Any]: ...


def sync_state(device: Answer, now: datetime) -> tuple[str, datetime | None]:
    """How recently a device synced (its last push or pull): "done" (within
    STALE_AFTER_HOURS), "revisit" (longer ago) or "problem" (never); and when."""
    times = [m for m in (parse_time(device.get("last_push_at")), parse_time(device.get("last_pull_at"))) if m]
    if not times:
        return "problem", None
    last = max(times)
    return ("revisit" if (now - last).total_seconds() > STALE_AFTER_HOURS * 3600 else "done"), last


# ---- the review queue (offline) ----------------------------------------------------------


@dataclass(frozen=True)
class VisitCard:
    id: str
    title: str  # the household's address, or words for a household not held here
    address: str  # the address as held ("" when none): what the confirmations name
    outcome: tuple[str, str]  # a status (theme.STATUSES) and the outcome in words
    actions: str
    helped: str | None  # the people helped, by name
    note: str | None
    by: str  # who recorded it, when
    sample: bool = False  # drawn for a close look (campaign.review.sample): the card says so


@dataclass(frozen=True)
class FilterChoices:
    """Each review filter's choices among the visits waiting: (code, words)."""
    days: list[tuple[str, str]]
    volunteers: list[tuple[str, str]]
    outcomes: list[tuple[str, str]]
    actions: list[tuple[str, str]]


@dataclass(frozen=True)
class ReviewQueue:
    head: str  # "3 lượt thăm chờ duyệt"
    cards: list[VisitCard]  # the oldest QUEUE_SHOWN
    more: str | None  # how many more wait behind them


# ---- conflicts (online) --------------------------------------------------------------------


@dataclass(frozen=True)
class ConflictOption:
    """One value a device wrote, as a choice."""

    value: Any  # as the server sent it: the value a tap settles on
    text: str
    device: str
    when: str
    current: bool  # the value this device holds now


@dataclass(frozen=True)
class ConflictCard:
    entity: str
    field: str
    field_label: str
    about: str  # the person, household or hamlet, in words
    options: list[ConflictOption]  # one per distinct value, in the server's order
    settled: str | None  # "Đã chọn: …" once settled here, until the server agrees

    @property
    def key(self) -> str:
        return f"conflict:{self.entity}:{self.field}"


def group_conflicts(rows: Iterable[Answer]) -> dict[tuple[str, str], list[Answer]]:
    """Several devices on one field: one group (one card) with every value."""
    grouped: dict[tuple[str, str], list[Answer]] = {}
    for row in rows:
        grouped.setdefault((row["entity"], row["field"]), []).append(row)
    return grouped


# ---- the team (online) -----------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    device_id: str
    label: str
    status: tuple[str, str]  # how recently it synced: a status and its words
    sent: str  # when it last sent to the server, in words
    revoked: bool
    quarantined: int
    quarantined_text: str


@dataclass(frozen=True)
class HeldEvent:
    """A quarantined event and the server's reason."""

    seq: Any
    kind: str
    when: str
    reason: str | None  # the reason in words, when the code is known
    detail: str  # the server's reason as sent


def held_events(events: Iterable[Answer]) -> list[HeldEvent]:
    out = []
    known = i18n.keys()
    for event in events:
        reason = str(event.get("reason") or "")
        code = reason.split(":", 1)[0].strip()
        out.append(HeldEvent(
            event.get("seq"), code_label("leader.kind", str(event.get("kind") or "")),
            t("leader.quarantined.seq", seq=event.get("seq"), when=relative_time(event.get("received_at"))),
            t(f"leader.reason.{code}") if f"leader.reason.{code}" in known else None, reason))
    return out


# ---- one leader's screens ------------------------------------------------------------------------


class LeaderModel:
    """What the leader's screens of one session know: the device's store, the roles
    the last team list told (for device labels), and the conflicts settled here
    that the server has not confirmed yet."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.roles: dict[str, str | None] = {}  # device id -> role, from the last team list
        self.names: dict[str, str] = store.device_names()  # device id -> holder's name, kept in the store
        self.settled: dict[tuple[str, str], Any] = {}  # (entity, field) -> value chosen, until the server agrees

    def device_label(self, device_id: str | None) -> str:
        """Who holds the device: "Nguyễn Thị Lan" once a team list named them, else "Máy 3F2A9C"
        (with the role when the team list told us); "Máy này" for this one."""
        if not device_id:
            return t("leader.device.unknown")
        if device_id == self.store.device_id:
            return t("leader.device.this")
        name = self.names.get(device_id)
        if name:
            return name
        short = t("leader.device.short", id=device_short(device_id))
        role = self.roles.get(device_id)
        return f"{vocab_label(v.ROLES, role)} · {short}" if role is not None and role in v.ROLES else short

    def as_of(self) -> str:
        last = self.store.last_sync_ok
        return t("leader.review.as_of", when=relative_time(last)) if last else t("leader.review.never_synced")

    # -- the review queue --------------------------------------------------------------------

    def queue(self) -> ReviewQueue:
        visits = self.store.review_queue()
        more = (t("leader.review.more", shown=QUEUE_SHOWN, count=format_number(len(visits) - QUEUE_SHOWN))
                if len(visits) > QUEUE_SHOWN else None)
        return ReviewQueue(plural("leader.review.count", len(visits)),
                           [self._visit(item) for item in visits[:QUEUE_SHOWN]], more)

    def groups(self, filters: Filters | None = None) -> list[tuple[VolunteerDay, str, list[VisitCard]]]:
        """The queue by volunteer and day (review_groups): each group, its heading in words and
        its cards, the sample's first; QUEUE_SHOWN cards in all are drawn."""
        out, drawn = [], 0
        every = self.store.team_settings().sample_every  # the team's "one in N", as the server last sent it
        for group in volunteer_days(self.store.review_queue(), filters or Filters(), every):
            items = (group.sample + group.rest)[:max(0, QUEUE_SHOWN - drawn)]
            drawn += len(items)
            day = f"{group.day[8:10]}/{group.day[5:7]}"
            out.append((group, t("leader.review.group", who=self.device_label(group.device_id), day=day,
                                 sample=len(group.sample), rest=len(group.rest)),
                        [replace(self._visit(item), sample=n < len(group.sample)) for n, item in enumerate(items)]))
        return out

    def filter_choices(self) -> FilterChoices:
        """What the filters by day, volunteer, outcome and action offer: only values waiting."""
        found = choices(self.store.review_queue())
        return FilterChoices(
            [(d, f"{d[8:10]}/{d[5:7]}/{d[:4]}") for d in found.days],
            [(device, self.device_label(device)) for device in found.devices],
            [(o, vocab_label(v.OUTCOME, o)) for o in found.outcomes if o in v.OUTCOME],
            [(a, vocab_label(v.ACTIONS, a)) for a in found.actions if a in v.ACTIONS])

    def approve_rest(self, group: VolunteerDay) -> str | None:
        """Approve the group's rest in one action. None when recorded, else why not, in words."""
        try:
            approve_rest(self.store, group)
        except (InvalidEvent, StoreError) as exc:
            return t("leader.review.failed", reason=refusal_of(exc))
        return None

    def _visit(self, item: ReviewItem) -> VisitCard:
        visit = item.visit
        outcome = visit.outcome or "met"
        actions = [vocab_label(v.ACTIONS, a) for a in visit.actions if a in v.ACTIONS]
        helped = []
        for person_id in visit.people_helped:
            person = self.store.person(person_id)
            helped.append(person.label if person else t("leader.value.unknown_person"))
        return VisitCard(
            visit.id,
            item.address or t("leader.value.unknown_household"),
            item.address or "",
            (OUTCOME_STATUS.get(outcome, "todo"), vocab_label(v.OUTCOME, outcome)),
            t("leader.review.actions", list=", ".join(actions)) if actions else t("leader.review.no_actions"),
            t("leader.review.helped", list=", ".join(helped)) if helped else None,
            t("leader.review.note", note=visit.note) if visit.note else None,
            t("leader.review.by", who=self.device_label(visit.device_id), when=relative_time(visit.at)),
        )

    def decide(self, visit_id: str, decision: str, comment: str = "") -> str | None:
        """Approve or return a visit. None when recorded, else why not, in words."""
        try:
            self.store.decide_review(visit_id, decision, comment)
        except (InvalidEvent, StoreError) as exc:  # e.g. not enrolled: say why, keep the queue
            return t("leader.review.failed", reason=refusal_of(exc))
        return None

    # -- conflicts --------------------------------------------------------------------------------

    def communes(self) -> list[str]:
        """The communes to ask about: the scope's, else those of the hamlets held here."""
        scope = self.store.scope if isinstance(self.store.scope, dict) else {}
        if scope.get("commune"):
            return [scope["commune"]]
        return sorted({h.commune for h in self.store.hamlets() if h.commune})

    def fetch_conflicts(self, api: LeaderApi) -> list[dict[str, Any]]:
        """Every open conflict in reach, and the team's roles for the device labels (blocking)."""
        rows = [row for commune in self.communes() for row in api.conflicts(commune)]
        self.learn(api.team_devices())  # the values are named by who wrote them
        return rows

    def conflicts(self, rows: list[dict[str, Any]]) -> tuple[str, list[ConflictCard]] | None:
        """The head line and one card per (entity, field); None when there is none. A conflict
        the server no longer reports is no longer ours to remember as settled."""
        grouped = group_conflicts(rows)
        for key in list(self.settled):
            if key not in grouped:
                del self.settled[key]
        if not grouped:
            return None
        times = self.store.event_times(value.get("event") for row in rows for value in row.get("values") or [])
        cards = [self._conflict(entity, field, same, times) for (entity, field), same in grouped.items()]
        return t("leader.conflicts.count", count=format_number(len(grouped))), cards

    def _conflict(self, entity: str, field: str, rows: list[Answer], times: dict[str, str]) -> ConflictCard:
        values: dict[str, Answer] = {}  # one per distinct value, in the server's order
        for row in rows:
            for value in row.get("values") or []:
                values.setdefault(json.dumps(value.get("value"), sort_keys=True), value)
        settled = self.chosen(field, self.settled[(entity, field)]) if (entity, field) in self.settled else None
        current = self.current(entity, field)
        options = []
        for value in values.values():
            when = times.get(value.get("event") or "")
            options.append(ConflictOption(
                value.get("value"), format_value(field, value.get("value")), self.device_label(value.get("device_id")),
                relative_time(when) if when else t("leader.conflicts.version", n=value.get("version")),
                current is not None and value.get("value") == current))
        return ConflictCard(entity, field, code_label("leader.field", field), self.describe(entity, rows[0].get("type")),
                            options, settled)

    @staticmethod
    def chosen(field: str, value: Any) -> str:
        return t("leader.conflicts.chosen", value=format_value(field, value))

    def describe(self, entity: str, kind: str | None) -> str:
        """What a conflict is about: a person (and where they live), a household, a hamlet."""
        person = self.store.person(entity) if kind in (None, "person") else None
        if person is not None:
            household = self.store.household(person.household_id or "")
            where = household.address if household else None
            return t("leader.conflicts.person", label=person.label or "", address=where or "")
        household = self.store.household(entity) if kind in (None, "household") else None
        if household is not None:
            return household.address or ""
        hamlet = next((h for h in self.store.hamlets() if h.id == entity), None)
        return hamlet.name if hamlet else t("leader.conflicts.not_here")

    def current(self, entity: str, field: str) -> Any:
        """The value this device holds now (None when it holds no such record)."""
        person = self.store.person(entity)
        if person is not None:
            return person.as_data().get(field)
        household = self.store.household(entity)
        return household.as_data().get(field) if household is not None else None

    def settle(self, entity: str, field: str, value: Any) -> str | None:
        """Settle a conflict on `value`. None when recorded, else why not, in words."""
        try:
            self.store.resolve_conflict(entity, field, value)
        except (InvalidEvent, StoreError) as exc:  # e.g. a move between hamlets, not enrolled
            return t("leader.conflicts.failed", reason=refusal_of(exc))
        self.settled[(entity, field)] = value
        return None

    # -- the team ---------------------------------------------------------------------------------

    def learn(self, devices: list[dict[str, Any]]) -> None:
        """The team list's roles and names, for every device label (names kept in the store)."""
        self.roles = {d["device_id"]: d.get("role") for d in devices}
        named = {d["device_id"]: d["name"] for d in devices if isinstance(d.get("name"), str) and d["name"]}
        if named:
            self.store.remember_device_names(named)
            self.names.update(named)

    def members(self, devices: list[dict[str, Any]], now: datetime) -> list[Member]:
        self.learn(devices)
        return [self._member(d, now) for d in devices]

    def _member(self, device: Answer, now: datetime) -> Member:
        device_id = device["device_id"]
        status, last = sync_state(device, now)
        words = t("leader.team.never") if last is None else \
            t("leader.team.last_sync", when=relative_time(last.isoformat(), now))
        count = int(device.get("quarantined") or 0)
        sent = parse_time(device.get("last_push_at"))
        return Member(device_id, self.device_label(device_id), (status, words),
                      t("leader.team.sent", when=relative_time(sent.isoformat(), now)) if sent
                      else t("leader.team.never_sent"),
                      bool(device.get("revoked")), count,
                      t("leader.team.quarantined", changes=changes_text(count)))
