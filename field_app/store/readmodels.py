"""Reads for the screens: hamlets, a page of households (search and filters), a household's
people and visits, the review queue, the home screen's counts. See docs/device.md
("Reads for the screens").

Bodies and search keys are ciphertext, so search and filters run here in Python after
decryption, never in SQL. The clear columns (type, hamlet_id, parent_id, id) still
narrow every query to the hamlet or household being shown first.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, NamedTuple

from campaign import duplicates
from campaign.assignments import DEFAULT_LAPSE_DAYS
from campaign.events import parse_at
from campaign.followup import revisit_order
from campaign.order import natural_key, same_address, walking_key
from campaign.projection import Entity, is_merged, is_voided
from campaign.search import Query, Rank

from .clock import Clock, today, year
from .entities import Entities, SearchRow, fold_key
from .rows import (
    Counts,
    HamletRow,
    HouseholdRow,
    HouseholdsPage,
    PersonRow,
    ReviewItem,
    Revisit,
    SearchMatch,
    VisitRow,
    hamlet_row,
    household_rows,
    person_row,
    scheduled_people,
    visit_row,
)
from .sealed import SealedDatabase, locked
from .sql import marks
from .summaries import FILTERS, Summaries, passes


class Found(NamedTuple):
    """A household a search found: its sealed search key (the summaries' cache key), its folded
    address, and, for a search, its rank and the person whose name matched."""
    sealed: bytes
    key: str
    rank: Rank | None = None
    person_id: str | None = None


def in_hamlet(type: str, hamlet_id: str | None) -> tuple[str, list[Any]]:
    """WHERE for one type in a hamlet, or in every hamlet this device holds (hamlet_id None:
    not a household kept after it moved away, see SyncState.drop_moved_away)."""
    if hamlet_id is not None:
        return f"WHERE type = '{type}' AND hamlet_id = ?", [hamlet_id]
    return f"WHERE type = '{type}' AND hamlet_id IN (SELECT id FROM entities WHERE type = 'hamlet')", []


def check_filter(filter: str | None) -> None:
    if filter is not None and filter not in FILTERS:
        raise ValueError(f"filter must be one of {', '.join(FILTERS)}")


class ReadModels:
    def __init__(self, sealed: SealedDatabase, entities: Entities, clock: Clock) -> None:
        self.sealed = sealed
        self.entities = entities
        self.clock = clock
        self.summaries = Summaries(sealed, entities)
        self.walked: dict[int, tuple[list[SearchRow], dict[str, int]]] = {}  # _walk_positions

    def forget_decrypted(self) -> None:
        self.summaries.forget_decrypted()
        self.walked.clear()

    def _walk_positions(self, households: list[SearchRow]) -> dict[str, int]:
        """Each household's place in walking order (campaign.order.walking_key, ties by id). Worked
        out once per list of search rows, which is the same list until the file changes
        (Entities.search_rows): a keystroke then sorts what it found by a number, not by the
        walking keys of thousands of addresses."""
        held = self.walked.get(id(households))
        if held is not None and held[0] is households:
            return held[1]
        ordered = sorted(households, key=lambda r: (walking_key(r.key), r.id))
        positions = {r.id: i for i, r in enumerate(ordered)}
        if len(self.walked) >= 4:  # the lists of one or two screens' scopes, not of every read
            self.walked.clear()
        self.walked[id(households)] = (households, positions)  # the list held: its id is not reused
        return positions

    @locked
    def hamlets(self) -> list[HamletRow]:
        """Hamlets known here, in the natural order of their names, with their household and visited counts."""
        counts: dict[str | None, list[int]] = {}
        for h in self.entities.select("WHERE type = 'household'"):
            count = counts.setdefault(h.hamlet_id, [0, 0])
            count[0] += 1
            count[1] += bool(h.data.get("visits"))
        hamlets = self.entities.select("WHERE type = 'hamlet'")
        # campaign's natural order ("Tổ dân phố 2" before "Tổ dân phố 10"), as the server lists them
        return [hamlet_row(h, *counts.get(h.id, (0, 0)))
                for h in sorted(hamlets, key=lambda h: (natural_key(fold_key(h)), fold_key(h), h.id))]

    def _matching(self, hamlet_id: str | None, search: str) -> dict[str, Found]:
        """The households `search` finds (campaign.search: one person's name, the address as a
        phrase, the hamlet's whole name), each with its best rank and the person who matched:
        id → Found. Only the cached search keys are opened."""
        households = self.entities.search_rows(*in_hamlet("household", hamlet_id))
        query = Query.of(search)
        if not search.strip():
            return {r.id: Found(r.sealed, r.key) for r in households}
        if not query:  # only punctuation: no word to find
            return {}
        hint = query.hint  # one substring test skips most keys before the words are compared
        best: dict[str, tuple[Rank, str | None]] = {r.id: (Rank.ADDRESS, None) for r in households
                                                    if hint in r.key and query.phrase(r.key)}
        shown = {r.id for r in households}
        people_sql, people_params = "WHERE type = 'person'", []
        if hamlet_id is not None:  # people carry their household's hamlet (projection, writer, replay)
            people_sql += " AND hamlet_id = ?"
            people_params.append(hamlet_id)
        ranks: dict[str, Rank | None] = {}  # names repeat (the bench's 36,514 people have 12,710 keys)
        for person in self.entities.search_rows(people_sql, people_params):
            key = person.key
            if hint not in key:
                continue
            if key in ranks:
                rank = ranks[key]
            else:
                rank = ranks[key] = query.name(key)
            if rank is None or person.parent_id not in shown:
                continue
            held = best.get(person.parent_id)
            # the best rank; among equals the person added first (ids are uuid7: time-ordered)
            if held is None or rank < held[0] or (rank == held[0] and person.id < (held[1] or "")):
                best[person.parent_id] = (rank, person.id)
        named = [r.id for r in self.entities.search_rows("WHERE type = 'hamlet'") if query.whole(r.key)]
        if named:
            where, params = in_hamlet("household", hamlet_id)
            for (id,) in self.sealed.db.execute(
                    f"SELECT id FROM entities {where} AND hamlet_id IN ({marks(named)})", [*params, *named]):
                best.setdefault(id, (Rank.HAMLET, None))
        return {r.id: Found(r.sealed, r.key, *best[r.id]) for r in households if r.id in best}

    @locked
    def households_page(self, hamlet_id: str | None = None, search: str = "", filter: str | None = None,
                        offset: int = 0, limit: int = 100, me: str | None = None,
                        lapse_days: int = DEFAULT_LAPSE_DAYS) -> HouseholdsPage:
        """One page of the households screen: rows offset … offset+limit, and how many match in all
        (by name, by address, by hamlet).

        hamlet_id None: every hamlet this device holds. search: campaign.search (a person's name,
        the address as a phrase, the hamlet's name); the rows carry their `match`. filter:
        not_visited, revisit (the latest visit found nobody home), follow_up, returned (the latest
        visit was returned by the leader). Ordered by rank (a search's), then walking order
        (campaign.order.walking_key: street by street, the outermost way first, then the house
        numbers in natural order, "Số 2" before "Số 10"), ties by folded address then id. `me` (this
        device), with no search: the households it holds first ("Của tôi", campaign.assignments.holder),
        then the rest, each in that order; `mine` says how many. Only the page's
        households, people and latest visits are decrypted and parsed: the order and the total come
        from the cached search keys, a filter from the cached summaries."""
        check_filter(filter)
        if offset < 0 or limit < 0:
            raise ValueError("offset and limit must be 0 or more")
        found = self._matching(hamlet_id, search)
        # walking order (campaign.order.walking_key: street by street, then house numbers), a search's
        # best rank first
        walk = self._walk_positions(self.entities.search_rows(*in_hamlet("household", hamlet_id)))
        order = sorted(found, key=lambda id: (found[id].rank or Rank.EXACT, walk[id]))
        mine: set[str] = set()
        if filter is not None or (me is not None and not search.strip()):
            summaries = self.summaries.of({id: f.sealed for id, f in found.items()}, hamlet_id, year(self.clock))
            if filter is not None:
                order = [id for id in order if passes(summaries[id], filter)]
            if filter == "revisit" and not search.strip():  # the server's revisit order: dated first, then by window
                order.sort(key=lambda id: revisit_order({"last_outcome": "not_home",
                                                         "last_come_back": summaries[id].come_back}))
            if me is not None and not search.strip():
                now = self.clock()
                mine = {id for id in order if summaries[id].holder(now, lapse_days) == me}
                order = [id for id in order if id in mine] + [id for id in order if id not in mine]
        page = order[offset:offset + limit]
        loaded = self.entities.by_ids(page)
        people: dict[str, list[Entity]] = {}
        rows = household_rows(self.entities, [loaded[id] for id in page if id in loaded], year(self.clock), people)
        if mine:
            rows = [replace(r, mine=True) if r.id in mine else r for r in rows]
        if search.strip():
            rows = self._with_matches(rows, found, people)
        ranks = [found[id].rank for id in order]
        return HouseholdsPage(rows, len(order), by_name=sum(1 for r in ranks if r is not None and r.by_name),
                              by_address=ranks.count(Rank.ADDRESS), by_hamlet=ranks.count(Rank.HAMLET), mine=len(mine))

    @locked
    def revisits(self, hamlet_id: str | None = None) -> list[Revisit]:
        """The households to revisit (the latest visit found nobody home) with when to come back:
        the home's come-backs of today are picked from these (campaign.come_back)."""
        found = self._matching(hamlet_id, "")
        summaries = self.summaries.of({id: f.sealed for id, f in found.items()}, hamlet_id, year(self.clock))
        ids = [id for id in found if summaries[id].revisit]
        loaded = self.entities.by_ids(ids)
        return [Revisit(id, loaded[id].data.get("address", ""), summaries[id].come_back) for id in ids if id in loaded]

    @staticmethod
    def _with_matches(rows: list[HouseholdRow], found: dict[str, Found],
                      people: dict[str, list[Entity]]) -> list[HouseholdRow]:
        """The rows with why they were found: the matching person's label and birth year (from
        the page's people, already read)."""
        out = []
        for r in rows:
            f = found[r.id]
            person = next((p for p in people.get(r.id, []) if p.id == f.person_id), None)
            match = SearchMatch(Rank.ADDRESS if f.rank is None else f.rank, f.person_id,
                                person.data.get("label") if person is not None else None,
                                person.data.get("birth_year") if person is not None else None)
            out.append(replace(r, match=match))
        return out

    @locked
    def same_address(self, hamlet_id: str, address: str) -> list[HouseholdRow]:
        """The households of the hamlet at that address (campaign.order.same_address: folded, the
        same house number and ways), in walking order: what adding a household warns about."""
        ids = [r.id for r in self.entities.search_rows(*in_hamlet("household", hamlet_id))
               if same_address(r.key, address)]
        loaded = self.entities.by_ids(ids)
        return household_rows(self.entities, [loaded[id] for id in sorted(ids) if id in loaded], year(self.clock))

    @locked
    def household(self, id: str) -> HouseholdRow | None:
        entity = self.entities.load(id)
        if entity is None or entity.type != "household":
            return None
        return household_rows(self.entities, [entity], year(self.clock))[0]

    @locked
    def people(self, household_id: str) -> list[PersonRow]:
        """A household's people in the order they were added, with their follow-up needs."""
        this_year = year(self.clock)
        found = [p for p in self.entities.select("WHERE type = 'person' AND parent_id = ? ORDER BY id", [household_id])
                 if not is_merged(p.data)]  # a duplicate merged into another is nobody here
        booked = scheduled_people(self.entities, {p.hamlet_id for p in found})
        return [person_row(p, this_year, p.id in booked) for p in found]

    @locked
    def similar_people(self, household_id: str, hamlet_id: str | None, label: str,
                       birth_year: int | None) -> list[PersonRow]:
        """People of the household or its hamlet likely to be the one about to be added
        (campaign.duplicates: same folded label, birth year within one): the household's first."""
        wanted = duplicates.key(label)
        if not wanted:
            return []
        sql, params = "WHERE type = 'person' AND (parent_id = ?", [household_id]
        if hamlet_id is not None:
            sql += " OR hamlet_id = ?"
            params.append(hamlet_id)
        ids = [r.id for r in self.entities.search_rows(sql + ")", params) if r.key == wanted]
        found = self.entities.by_ids(ids)
        this_year = year(self.clock)
        hits = set(duplicates.likely(label, birth_year, ((i, e.data) for i, e in found.items())))
        booked = scheduled_people(self.entities, {found[i].hamlet_id for i in hits})
        rows = [person_row(found[i], this_year, i in booked) for i in sorted(hits)]
        return sorted(rows, key=lambda p: p.household_id != household_id)

    @locked
    def person(self, id: str) -> PersonRow | None:
        entity = self.entities.load(id)
        if entity is None or entity.type != "person":
            return None
        return person_row(entity, year(self.clock), entity.id in scheduled_people(self.entities, [entity.hamlet_id]))

    @locked
    def visits(self, household_id: str) -> list[VisitRow]:
        """A household's visits, newest first; a visit taken back (visit.voided) is not among them."""
        rows = [visit_row(e) for e in self.entities.select("WHERE type = 'visit' AND parent_id = ?", [household_id])
                if not is_voided(e.data)]
        return sorted(rows, key=lambda r: (parse_at(r.at), r.id), reverse=True)

    @locked
    def review_queue(self, hamlet_id: str | None = None) -> list[ReviewItem]:
        """Visits with no decision yet and not taken back, oldest first, with their household's address."""
        sql = "WHERE type = 'visit'"
        params: list[Any] = []
        if hamlet_id is not None:
            sql += " AND hamlet_id = ?"
            params.append(hamlet_id)
        out = []
        for visit in self.entities.select(sql, params):
            if visit.data.get("review") is not None or is_voided(visit.data):
                continue
            household = self.entities.load(visit.parent_id)
            out.append(ReviewItem(visit_row(visit),
                                  household.data.get("address") if household is not None else None))
        return sorted(out, key=lambda r: (parse_at(r.visit.at), r.visit.id))

    @locked
    def counts(self, hamlet_id: str | None, pending: int, quarantined: int, device_id: str | None = None) -> Counts:
        """The home screen's numbers (with the sync state's `pending` and `quarantined`), from the
        cached summaries and visit days: only what changed since the last call is opened. `today`
        is the team's visits today (every device's, in the hamlets held here), `today_mine` those
        this device (`device_id`) recorded."""
        where, params = in_hamlet("household", hamlet_id)
        sealed = dict(self.sealed.db.execute(f"SELECT id, search FROM entities {where}", params).fetchall())
        summaries = list(self.summaries.of(sealed, hamlet_id, year(self.clock)).values())
        day = today(self.clock)
        days = self.summaries.visit_days(hamlet_id)
        visited = sum(1 for s in summaries if s.visits)
        return Counts(
            households=len(summaries),
            visited=visited,
            left=len(summaries) - visited,
            revisit=sum(1 for s in summaries if s.revisit),
            follow_up=sum(1 for s in summaries if s.follow_up),
            returned=sum(1 for s in summaries if s.returned),
            today=sum(1 for d, _ in days if d == day),
            today_mine=sum(1 for d, device in days if d == day and device == device_id),
            pending=pending,
            quarantined=quarantined,
        )
