"""Reports on the maintained totals: a commune's totals by hamlet, team or day, the
communes a caller may report on, a province by commune, and the open conflicts.

Counts recorded by the team; the police hold the official figures. What counts
is campaign.totals'; the counters are kept by every push (services/ingest.py)
and proved by a replay (services/recount.py).
"""
from __future__ import annotations

import json
import threading
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar

from sqlalchemy import Connection, Engine

from campaign import areas
from campaign import totals as rules
from campaign.roles import Capability, can

from ..render.rows import TotalsTable
from ..store import campaigns as store_campaigns
from ..store import events as store_events
from ..store import totals as store
from ..store.db import read_transaction
from ..store.devices import Scope
from .access import check_commune, known_commune, scope_hamlets, visible_hamlets, visible_of
from .audit import log_read
from .enrolment import Caller
from .errors import Invalid

BY = ("hamlet", "team", "day")
A = TypeVar("A")  # an answer as the API sends it


@dataclass(frozen=True)
class Totals:
    commune: str
    by: str  # hamlet | team | day
    rows: list[dict[str, Any]]  # campaign.totals.row(): the wire row
    total: dict[str, Any]

    def table(self) -> TotalsTable:
        return TotalsTable(self.rows, self.total)


@dataclass(frozen=True)
class ProvinceTotals:
    province: str
    rows: list[dict[str, Any]]  # one per commune with data, in code order
    total: dict[str, Any]
    by: str = "commune"


@dataclass(frozen=True)
class CommuneSummary:
    """A commune in the dashboard's picker, with its headline totals (the wire's field names)."""
    code: str
    name: str
    province: str
    campaign: str | None  # the campaign's name
    households: int
    visited: int
    people: int
    total: dict[str, Any]


@dataclass(frozen=True)
class OpenConflict:
    """The same field changed on two devices, neither having seen the other (the wire's field names)."""
    id: int
    entity: str
    type: str
    field: str
    hamlet_id: str | None
    values: list[Any]  # [earlier, later]
    opened_cursor: int


def commune_totals(conn: Connection, commune: str, by: str, scope: Scope) -> Totals:
    """A commune's counters within a scope, grouped by hamlet (in natural order), team (by
    name) or day, with their total."""
    hamlets = visible_hamlets(conn, commune, scope)
    return _grouped(conn, commune, by, hamlets, store.team_hamlets(conn, commune) if by == "team" else [])


def _grouped(conn: Connection, commune: str, by: str, hamlets: dict[str, str],
             teams: Sequence[store.TeamHamlet]) -> Totals:
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    names: dict[str, str] = {}
    everything: Counter[str] = Counter()
    if by == "day":  # summed in SQL (store.sums_by_*: a covering index, issue #16)
        for day, metric, n in store.sums_by_day(conn, list(hamlets)):
            if day:
                groups[day][metric] += n
            everything[metric] += n
        names = {day: day for day in sorted(groups)}
    elif by == "hamlet":  # each (hamlet, metric) comes once: set, not added (a commune's ~1,000 sums)
        names = dict(hamlets)
        for hamlet_id, metric, n in store.sums_by_hamlet(conn, list(hamlets)):
            if hamlet_id in names:
                groups[hamlet_id][metric] = n
            everything[metric] += n
    elif by == "team":
        sums = store.sums_by_hamlet(conn, list(hamlets))
        team_of: dict[str, list[str]] = defaultdict(list)
        for team in teams:
            names[team.team_id] = team.team_name
            team_of[team.hamlet_id].append(team.team_id)
        for hamlet_id, metric, n in sums:
            for key in team_of.get(hamlet_id, ()):
                groups[key][metric] += n
            everything[metric] += n
    else:
        raise ValueError(by)
    rows = [rules.row(key, name, groups.get(key, Counter())) for key, name in names.items()]
    return Totals(commune, by, rows, rules.row("", "", everything))


def totals(conn: Connection, who: Caller, commune: str | None, by: str) -> Totals:
    """GET /totals: the commune's totals in the caller's scope. Without a commune, the caller's one
    commune (an officer's, a leader's); an admin, who may read any, must name it."""
    commune = _checked(conn, who, commune)
    return commune_totals(conn, commune, by, who.scope)


def _checked(conn: Connection, who: Caller, commune: str | None) -> str:
    if commune is None:
        if can(who.device.role, Capability.ANY_COMMUNE) or not who.device.commune:
            raise Invalid("missing_commune", "give ?commune=CODE: this device reads more than one commune")
        commune = who.device.commune
    known_commune(commune)
    check_commune(who, commune, conn)
    return commune


class TotalsKey(NamedTuple):
    """Everything a commune's answer is made of: the version of its counters (store/totals.py
    bumps it with every write of them), and the hamlets the caller sees with their names (and,
    by team, the teams' hamlets), read afresh by every request."""
    commune: str
    by: str
    version: tuple[int, int]
    hamlets: tuple[tuple[str, str], ...]
    teams: tuple[store.TeamHamlet, ...]


class AnswerCache(Generic[A]):
    """Answers kept by one server process, the `size` last used. Each process keeps its own;
    the key holds the version read from the database, so a write through any process (or the
    command line) makes every process's kept answer unreachable."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._held: OrderedDict[Hashable, A] = OrderedDict()
        self._lock = threading.Lock()  # the handlers run in a thread pool

    def get(self, key: Hashable) -> A | None:
        with self._lock:
            found = self._held.get(key)
            if found is not None:
                self._held.move_to_end(key)
            return found

    def put(self, key: Hashable, answer: A) -> None:
        with self._lock:
            self._held[key] = answer
            self._held.move_to_end(key)
            while len(self._held) > self._size:
                self._held.popitem(last=False)


def kept_totals(conn: Connection, who: Caller, commune: str | None, by: str, cache: AnswerCache[A],
                encode: Callable[[Totals], A]) -> A:
    """GET /totals as `totals`, encoded; the encoded answer is kept in `cache` for as long as its
    TotalsKey holds: a commune's ~1,000 sums, their rows and their JSON cost ~3 ms of CPU a
    request, one version read ~0.1 ms (issue #16, one commune's totals p95 ≤ 5 ms)."""
    commune = _checked(conn, who, commune)
    # The version is read before the sums: on PostgreSQL (read committed) a push committed
    # between the two gives sums newer than the version, kept under the older key, never the
    # other way round: no answer older than its key.
    version, names = store.version_and_hamlets(conn, commune)
    hamlets = visible_of(names, commune, who.scope)
    teams = tuple(store.team_hamlets(conn, commune)) if by == "team" else ()
    key = TotalsKey(commune, by, version, tuple(hamlets.items()), teams)
    answer = cache.get(key)
    if answer is None:
        answer = encode(_grouped(conn, commune, by, hamlets, teams))
        cache.put(key, answer)
    return answer


def province_totals(conn: Connection, province: str) -> ProvinceTotals:
    """A province's counters by commune: one GROUP BY over the maintained totals. For admins;
    rows only for communes with data, in code order."""
    codes = [c.code for c in areas.communes_of(province)]
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    everything: Counter[str] = Counter()
    for commune, metric, n in store.sums_by_commune(conn, codes):
        groups[commune][metric] += n
        everything[metric] += n
    rows = [rules.row(code, areas.commune(code).full_name, groups[code]) for code in codes if code in groups]
    return ProvinceTotals(province, rows, rules.row("", "", everything))


def communes(conn: Connection, who: Caller) -> list[CommuneSummary]:
    """The communes the caller may report on, each with its headline totals, in code order:
    an officer's or leader's own commune (a leader: counted over the team's hamlets); for an
    admin every commune with hamlets, counters or a campaign (one GROUP BY over the totals)."""
    if not can(who.device.role, Capability.ANY_COMMUNE):
        commune = who.device.commune
        if commune is None:
            return []
        found = {commune: commune_totals(conn, commune, "hamlet", who.scope).total} \
            if areas.is_commune_code(commune) else {}
    else:
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for code, metric, n in store.sums_by_commune(conn):
            counts[code][metric] += n
        found = {code: rules.row("", "", counts[code]) for code in store.known_communes(conn)
                 if areas.is_commune_code(code)}
    names = store_campaigns.names(conn)
    out = []
    for code in sorted(found):
        place, total = areas.commune(code), found[code]
        out.append(CommuneSummary(code, place.full_name, place.province, names.get(code), total["households"],
                                  total["visited"], total["people"], {**total, "key": code, "name": place.full_name}))
    return out


def conflicts(engine: Engine, who: Caller, commune: str) -> list[OpenConflict]:
    """The commune's open conflicts within the caller's scope, oldest first. They show
    people's labels, so the view is audited (conflicts.view: how many) before it leaves."""
    check_commune(who, commune)
    with read_transaction(engine) as conn:
        found = [OpenConflict(r.id, r.entity, r.type, r.field, r.hamlet_id,
                              [json.loads(r.earlier), json.loads(r.later)], r.opened_cursor)
                 for r in store_events.open_conflicts(conn, commune) if who.scope.allows(r.hamlet_id, commune)]
        hamlets = scope_hamlets(conn, who, commune)
    log_read(engine, who, "conflicts.view", commune, {"rows": len(found)}, hamlets)
    return found
