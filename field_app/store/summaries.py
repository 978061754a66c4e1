"""Households' list summaries and visits' local days, cached in memory, never written to the file.

What the list's filters and the home screen's counts need, without opening every body
each time. An entry is valid while the household's sealed search key, the (id, sealed
search key) of its people and visits, of every capture booking and session, and the year are unchanged: every write of an
entity seals its search key with a fresh nonce and a deletion removes the row, so any
change misses the cache, also when another connection wrote it.

Why not a clear column: visited / not home / returned / needs follow-up next to a
household id would put in the file a map of a hamlet's progress and needs, and
follow-up depends on the year (a stored flag goes stale on 1 January).
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, NamedTuple

from campaign import assignments
from campaign.projection import is_voided
from campaign.time import local_day

from .entities import Entities
from .rows import household_rows
from .sealed import SealedDatabase

SUMMARY_CACHE = 50_000  # households' list summaries and visits' days kept in memory
FILTERS = ("not_visited", "revisit", "follow_up", "returned")


class Summary(NamedTuple):
    """What the list's filters and counts need from a household, without its address or names."""
    visits: int
    revisit: bool  # the latest visit found nobody home
    follow_up: bool  # someone living here needs follow_up() this year
    returned: bool  # the latest visit was returned by the leader
    assigned_to: str | None = None  # with assigned_at and last_visit_at: who holds it (campaign.assignments)
    assigned_at: str | None = None
    last_visit_at: str | None = None
    come_back: dict[str, Any] | None = None  # to revisit: when to come back (the revisit list's order)

    def holder(self, now: datetime, lapse_days: int = assignments.DEFAULT_LAPSE_DAYS) -> str | None:
        """The device holding the household now (an assignment not worked for the team's
        `lapse_days` has lapsed)."""
        return assignments.holder({"assigned_to": self.assigned_to, "assigned_at": self.assigned_at,
                                   "last_visit_at": self.last_visit_at}, now, lapse_days)


def passes(summary: Summary, filter: str) -> bool:
    """The households screen's filters (FILTERS), on a summary."""
    if filter == "not_visited":
        return summary.visits == 0
    if filter == "revisit":
        return summary.revisit
    if filter == "follow_up":
        return summary.follow_up
    return summary.returned


class Summaries:
    """Callers hold the database's lock."""

    def __init__(self, sealed: SealedDatabase, entities: Entities) -> None:
        self.sealed = sealed
        self.entities = entities
        # household id → ((year, its sealed key, its people's and visits' (id, sealed key)), Summary),
        # and (visit id, sealed key) → its local day.
        self.summary_cache: dict[str, tuple[tuple[Any, ...], Summary]] = {}
        self.day_cache: dict[tuple[str, bytes], tuple[str | None, str | None]] = {}

    def forget_decrypted(self) -> None:
        self.summary_cache.clear()
        self.day_cache.clear()

    def _children(self, hamlet_id: str | None) -> dict[str, list[tuple[str, bytes]]]:
        """household id → its people's and visits' (id, sealed search key), from the covering index."""
        out: dict[str, list[tuple[str, bytes]]] = {}
        sql, params = "WHERE type IN ('person', 'visit')", []
        if hamlet_id is not None:  # people and visits carry their household's hamlet
            sql += " AND hamlet_id = ?"
            params.append(hamlet_id)
        for parent, id, sealed in self.sealed.db.execute(f"SELECT parent_id, id, search FROM entities {sql}", params):
            out.setdefault(parent, []).append((id, sealed))
        return out

    def of(self, households: dict[str, bytes], hamlet_id: str | None, year: int) -> dict[str, Summary]:
        """id → Summary for the households given (id → sealed search key), from memory when
        nothing they depend on changed. A household whose latest visit is not among its
        visits is never kept (nothing would tell when that visit changes)."""
        children = self._children(hamlet_id)
        # A capture booking takes its person off the follow-up (campaign.followup.scheduled); it
        # is no household's child, so any booking or session written misses every entry.
        digest = hashlib.blake2b(digest_size=16)  # one value to compare, however many bookings
        for booking_id, sealed_key in sorted(self.sealed.db.execute(
                "SELECT id, search FROM entities WHERE type IN ('booking', 'session')").fetchall()):
            digest.update(booking_id.encode() + b"\0" + bytes(sealed_key or b"") + b"\0")
        booked = digest.digest()
        out: dict[str, Summary] = {}
        stale: dict[str, tuple[Any, ...]] = {}
        for id, sealed in households.items():
            mark = (year, sealed, tuple(sorted(children.get(id, ()))), booked)
            cached = self.summary_cache.get(id)
            if cached is not None and cached[0] == mark:
                out[id] = cached[1]
            else:
                stale[id] = mark
        if stale:
            loaded = self.entities.by_ids(list(stale))
            for row in household_rows(self.entities, [loaded[id] for id in stale if id in loaded], year):
                out[row.id] = summary = Summary(row.visits, row.revisit, bool(row.follow_up), row.returned,
                                                row.assigned_to, row.assigned_at, row.last_visit_at,
                                                row.come_back)
                last = row.last_visit_id
                if last is None or any(child == last for child, _ in stale[row.id][2]):
                    if len(self.summary_cache) >= SUMMARY_CACHE:
                        self.summary_cache.clear()
                    self.summary_cache[row.id] = (stale[row.id], summary)
        return out

    def visit_days(self, hamlet_id: str | None) -> list[tuple[str | None, str | None]]:
        """(local day, device that recorded it) of each visit (of a hamlet, or all; day None for
        one taken back), opened only when its sealed key changed."""
        sql, params = "WHERE type = 'visit'", []
        if hamlet_id is not None:
            sql += " AND hamlet_id = ?"
            params.append(hamlet_id)
        rows = self.sealed.db.execute(f"SELECT id, search FROM entities {sql}", params).fetchall()
        cache = self.day_cache
        missing = [id for id, sealed in rows if (id, sealed) not in cache]
        if missing:
            if len(cache) + len(missing) >= SUMMARY_CACHE:
                cache.clear()
                missing = [id for id, _ in rows]
            loaded = self.entities.by_ids(missing)
            for id, sealed in rows:
                if id in loaded:
                    data = loaded[id].data
                    at = data.get("at")
                    cache[(id, sealed)] = (local_day(at) if at and not is_voided(data) else None,
                                           data.get("device_id"))
        return [cache.get((id, sealed), (None, None)) for id, sealed in rows]
