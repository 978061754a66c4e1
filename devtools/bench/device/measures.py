"""The device bench's measures: each step a volunteer waits for, ours against the raw limit.

Ours and raw alternate run by run, so a change in the machine's load falls on
both alike. The first run of each is a warm-up, reported apart as `first`.
"""
from __future__ import annotations

import itertools
import random
import sqlite3
import statistics
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from field_app.keys import FileKeyProvider
from field_app.store import HouseholdRow, PersonRow, Store

from ..common import Log, percentile
from . import screen
from .phone import SYNC_PAGE, Home, Phone, pages, teammate_page
from .raw import PAGE, Clear, connect, one_address, raw_page, raw_search, words_of

# Runs per measure (after one warm-up run, reported as `first`). The writes
# grow the store a little with every run; the reads do not change it.
RUNS = {"open": 20, "list": 15, "list_all": 5, "search": 20, "keystroke": 15, "screen": 15, "record": 30,
        "pending": 20, "apply": 7, "first_sync": 2, "week": 2}
# The steps, in the order results.json lists them (`--only` picks some of them)
STEPS = ("open", "lists", "searches", "keystroke_screen", "pending", "record_visit", "apply_pulled", "first_sync",
         "week_pull")
WEEK_PAGES = 10  # a week's teammates' work in 4 hamlets, pulled after a week away: ~5,000 changes

T = TypeVar("T")


@dataclass
class Timings:
    """One measure: our runs and the raw runs, in seconds; the first (warm-up) run kept apart."""

    label: str
    what: str
    raw_what: str
    ours: list[float] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)
    first: float | None = None
    raw_first: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, ours: float, raw: float) -> None:
        if self.first is None:
            self.first, self.raw_first = ours, raw
        else:
            self.ours.append(ours)
            self.raw.append(raw)

    def summary(self) -> dict[str, Any]:
        median, raw_median = statistics.median(self.ours), statistics.median(self.raw)
        return {"label": self.label, "what": self.what, "raw_what": self.raw_what, "runs": len(self.ours),
                "median_ms": _ms(median), "p95_ms": _ms(percentile(self.ours, 95)), "first_ms": _ms(self.first),
                "raw_median_ms": _ms(raw_median), "raw_p95_ms": _ms(percentile(self.raw, 95)),
                "raw_first_ms": _ms(self.raw_first),
                # raw / ours: 1.0 is as fast as SQLite itself on the same rows
                "ratio": round(raw_median / median, 4) if median > 0 else None, **self.extra}


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def screen_fill(store: Store, hamlet: str | None, search: str = "", counts: bool = True) -> list[HouseholdRow]:
    """What households_screen's fill() asks of the store: the first page of the matching rows
    (households_page, in the screen's natural_key order), and on opening (not on a keystroke)
    counts() for the chips."""
    rows = store.households_page(hamlet, search=search, limit=PAGE)[0]
    if counts:
        store.counts(hamlet)
    return rows


class Measures:
    """Every measure on one built phone and its raw copy, in the order results.json lists them."""

    def __init__(self, phone: Phone, clear: Clear, raw: sqlite3.Connection, root: Path, rng: random.Random,
                 log: Log) -> None:
        self.phone, self.store, self.clear, self.raw = phone, phone.store, clear, raw
        self.root, self.rng, self.log = root, rng, log
        # the largest hamlet (they are equal by construction; the first when tied)
        per_hamlet = {h: sum(1 for home in phone.homes if home.hamlet_id == h) for h in phone.hamlets}
        self.hamlet = max(phone.hamlets, key=lambda h: per_hamlet[h])
        self.mine = [home for home in phone.homes if home.hamlet_id == self.hamlet]
        self.out: dict[str, Any] = {}

    def sizes(self) -> dict[str, Any]:
        homes, store = self.phone.homes, self.store
        return {"households": len(homes), "hamlets": len(self.phone.hamlets), "households_in_hamlet": len(self.mine),
                "people": sum(len(h.people) for h in homes), "visited": len(self.phone.visited),
                "outbox_events": store.last_seq, "pending_events": store.pending_count(),
                "inbox_events": self.raw.execute("SELECT count(*) FROM inbox").fetchone()[0],
                "entities": self.raw.execute("SELECT count(*) FROM entities").fetchone()[0],
                "store_bytes": _file_bytes(store.path)}

    def all(self, only: Collection[str] = ()) -> dict[str, Any]:
        """Every step, or the steps named in `only` (STEPS), in this order."""
        for name, step in ((n, getattr(self, n)) for n in STEPS):
            if not only or name in only:
                step()
        return self.out

    def _keep(self, name: str, t: Timings) -> None:
        self.out[name] = m = t.summary()
        self.log(f"  {name}: median {m['median_ms']:.2f} ms, p95 {m['p95_ms']:.2f} ms, "
                 f"raw {m['raw_median_ms']:.3f} ms, raw/ours {m['ratio']:.3f}")

    # -- opening the store: the key file read, the key check decrypted, the schema checked
    def open(self) -> None:
        t = Timings("open the store", "Store(dir, key=FileKeyProvider) + device_id (key file read, key check "
                    "decrypted, pragmas, schema version)", "sqlite3.connect + the same pragmas + user_version + "
                    "a meta row")
        raw_file = self.root / "raw.db"
        for _ in range(RUNS["open"] + 1):
            ours, opened = timed(partial(_open, self.store.path.parent, self.phone.provider))
            opened.close()
            theirs, conn = timed(partial(_raw_open, raw_file))
            conn.close()
            t.add(ours, theirs)
        self._keep("open", t)

    # -- the households screen's first page, one hamlet and all of them
    def lists(self) -> None:
        for name, scope, runs in (("list_page", self.hamlet, RUNS["list"]),
                                  ("list_page_all", None, RUNS["list_all"])):
            label = ("households screen, first page of a hamlet" if scope else
                     "households screen, first page of all hamlets")
            t = Timings(label, "households_page(hamlet, limit=100) + counts(hamlet) (the screen's fill())",
                        "first 100 households by folded address with people counts + household/visited counts")
            for _ in range(runs + 1):
                ours, rows = timed(partial(screen_fill, self.store, scope))
                theirs, raw_rows = timed(partial(raw_page, self.raw, scope))
                t.add(ours, theirs)
            t.extra.update(rows=len(rows), raw_rows=len(raw_rows))
            self._keep(name, t)

    # -- search as you type on the folded key
    def searches(self) -> None:
        hamlet = self.hamlet
        queries = {"search_many": "nguyen", "search_name": "tran thi hoa",
                   "search_one": one_address(self.raw, hamlet, [home.address for home in self.mine]),
                   "search_none": "khong co ai"}
        for name, query in queries.items():
            t = Timings(f"search {query!r}", "households_page(hamlet, search=q, limit=100): sealed keys of the "
                        "hamlet decrypted (cached), matched, ordered, the first 100 matches opened",
                        "LIKE per folded word over a clear column, matches' bodies")
            for _ in range(RUNS["search"] + 1):
                ours, (_rows, found) = timed(partial(self.store.households_page, hamlet, search=query, limit=PAGE))
                theirs, raw_rows = timed(partial(raw_search, self.raw, hamlet, query))
                t.add(ours, theirs)
            if found != len(raw_rows):  # the raw query must answer the same question
                raise AssertionError(f"search {query!r}: the store found {found}, the raw query {len(raw_rows)}")
            t.extra.update(query=query, matches=found)
            self._keep(name, t)
        t = Timings("a keystroke as the screen makes it", "screen fill(): households_page(hamlet, search='nguyen v', "
                    "limit=100) (the chips' counts are kept until the data changes)", "the same search's LIKE")
        for _ in range(RUNS["keystroke"] + 1):
            ours, _ = timed(partial(screen_fill, self.store, hamlet, "nguyen v", counts=False))
            theirs, _ = timed(partial(raw_search, self.raw, hamlet, "nguyen v"))
            t.add(ours, theirs)
        self._keep("keystroke", t)

    # -- a keystroke through the households screen's own code, to the patch for the client
    def keystroke_screen(self) -> None:
        hamlets = self.phone.hamlets
        scope = None if len(hamlets) > 1 else hamlets[0]  # what the screen shows first: every hamlet
        typed = "nguyen v"
        found = screen.keystrokes(
            self.store.path.parent, typed[:-1], typed,  # the data dir, as the app opens it
            RUNS["screen"],
            partial(self.store.households_search, scope, search=typed, limit=PAGE),
            lambda: [raw_search(self.raw, h, typed) for h in ([scope] if scope else hamlets)])
        sent = Timings("a keystroke to the list on screen (web mode, no browser)",
                       "the households screen's search box changed as the browser sends it: the screen's handler, "
                       "the store's search, the rows as controls, Flet's diff encoded for the client "
                       f"({'every hamlet' if scope is None else 'the hamlet'}, {typed!r})",
                       "the same search's LIKE")
        applied = Timings("  and applied by the harness's client", "the same, and the patch decoded and applied "
                          "to the harness's mirror of the page (stands in for the browser's decoding)",
                          "the same search's LIKE")
        store = Timings("  of which the store's search", "households_search(scope, search, limit=100), as the "
                        "screen calls it", "the same search's LIKE")
        for s, a, st, r in zip(found["sent"], found["applied"], found["store"], found["raw"], strict=True):
            sent.add(s, r)
            applied.add(a, r)
            store.add(st, r)
        sent.extra.update(rows=found["rows"], hamlets=len(hamlets) if scope is None else 1)
        self._keep("keystroke_screen", sent)
        self._keep("keystroke_screen_applied", applied)
        self._keep("keystroke_screen_store", store)

    # -- pending events for a push batch
    def pending(self) -> None:
        t = Timings("pending events for a push batch of 500", "pending(limit=500): rows read, decrypted, parsed",
                    "SELECT seq, body of the same rows")
        acked = self.store.acked_seq
        query = "SELECT seq, body FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?"
        for _ in range(RUNS["pending"] + 1):
            ours, batch = timed(partial(self.store.pending, limit=SYNC_PAGE))
            theirs, _ = timed(lambda: self.raw.execute(query, [acked, SYNC_PAGE]).fetchall())
            t.add(ours, theirs)
        t.extra.update(events=len(batch))
        self._keep("pending_500", t)

    # -- recording a visit: two people's VNeID status and the visit
    def record_visit(self) -> None:
        store, clock, homes = self.store, self.phone.clock, self.phone.homes
        # Households not visited yet first; a small store runs out of them and visits some again.
        unvisited = [h for h in homes if h.id not in self.phone.visited]
        self.rng.shuffle(unvisited)
        targets = itertools.cycle(unvisited + [h for h in homes if h.id in self.phone.visited])
        adult = clock.now.year - 18

        def next_visit() -> tuple[Home, list[PersonRow]]:
            for _ in range(len(homes)):
                home = next(targets)
                helped = [p for p in store.people(home.id) if p.presence == "home"
                          and isinstance(p.birth_year, int) and p.birth_year <= adult][:2]
                if len(helped) == 2:
                    return home, helped
            raise RuntimeError("no household with two adults at home: use more households")

        def one_transaction(home: Home, helped: list[PersonRow]) -> None:
            with store.transaction():  # as visit_record.record_outcome writes a visit
                for person in helped:  # a status that differs from the stored one, so an event is written
                    store.update_person(person.id, vneid="l1_active" if person.vneid == "l1_pending"
                                        else "l1_pending")
                store.record_visit(home.id, "met", actions=["l1_help"], people_helped=[p.id for p in helped])

        t = Timings("record a visit (3 events, one transaction)",
                    "update_person ×2 + record_visit: events validated, projected, sealed, fsynced",
                    "the same 3 event rows and 4 entity rows (clear) inserted in one transaction")
        for _ in range(RUNS["record"] + 1):
            home, helped = next_visit()
            clock.now += timedelta(minutes=4)
            before = store.last_seq
            ours, _ = timed(partial(one_transaction, home, helped))
            events = self.clear.outbox("WHERE seq > ?", [before])
            ids = [home.id, *(p.id for p in helped), *(e[3] for e in events if e[2] == "visit.recorded")]
            rows = words_of(self.clear.entities(f"WHERE id IN ({','.join('?' * len(ids))})", ids))
            theirs, _ = timed(partial(_raw_write, self.raw, events, rows, "outbox"))
            t.add(ours, theirs)
        t.extra.update(events=len(events), entity_rows=len(rows))
        self._keep("record_visit", t)

    # -- applying a pulled page of 500 events
    def apply_pulled(self) -> None:
        store, clock = self.store, self.phone.clock
        t = Timings("apply a pulled page of 500 events", "apply_pulled(page): inbox rows sealed, touched households "
                    "recomputed from their events, one transaction", "the same 500 inbox rows and the entity rows "
                    "they change (clear) in one transaction")
        for _ in range(RUNS["apply"] + 1):
            clock.now += timedelta(minutes=30)
            page = teammate_page(store, self.phone.server, self.rng, self.phone.homes, clock.now)
            first = page[0]["cursor"]
            ours, _ = timed(partial(store.apply_pulled, page, page[-1]["cursor"]))
            inbox = self.clear.inbox("WHERE cursor >= ?", [first])
            rows = self._entities({e["entity"] for e in page} | {e["data"]["household_id"] for e in page
                                                                 if e["kind"] == "visit.recorded"})
            theirs, _ = timed(partial(_raw_write, self.raw, inbox, words_of(rows), "inbox"))
            t.add(ours, theirs)
        t.extra.update(events=len(page), entity_rows=len(rows))
        self._keep("apply_pulled_500", t)


    def _entities(self, ids: set[str]) -> list[tuple[Any, ...]]:
        """The clear entity rows of these ids (what a page changed), 200 ids a query."""
        changed, rows = sorted(ids), []
        for start in range(0, len(changed), 200):
            chunk = changed[start:start + 200]
            rows += self.clear.entities(f"WHERE id IN ({','.join('?' * len(chunk))})", chunk)
        return rows

    # -- the first sync after enrolment: every page of the target list into an empty store
    def first_sync(self) -> None:
        target = self.phone.target
        t = Timings(f"first sync after enrolment, store side ({len(target):,} changes, "
                    f"{len(self.phone.homes):,} households)", "apply_pulled of every 500-event page of the "
                    "target list into a new, enrolled store (the network is the server bench's)",
                    "the same inbox rows and their entity rows (clear) in one transaction")
        inbox = self.clear.inbox("WHERE cursor <= ?", [target[-1]["cursor"]])
        rows = words_of(self.clear.entities("WHERE type IN ('hamlet', 'household', 'person')"))
        for run in range(RUNS["first_sync"] + 1):
            store = Store(self.root / f"first-sync-{run}", key=FileKeyProvider(self.root / f"first-sync-{run}.key"))
            try:
                store.enrol("http://127.0.0.1:9", "bench-first", "bench-token", "volunteer",
                            {"hamlets": self.phone.hamlets})
                started = time.perf_counter()
                for page in pages(target):
                    store.apply_pulled(page, page[-1]["cursor"])
                ours = time.perf_counter() - started
            finally:
                store.close()
            theirs, _ = timed(partial(_raw_write, self.raw, inbox, rows, "inbox"))
            t.add(ours, theirs)
        t.extra.update(events=len(target), entity_rows=len(rows))
        self._keep("first_sync", t)

    # -- a week's pull: teammates' pages, one after another, as a sync after a week away applies them
    def week_pull(self) -> None:
        store, clock = self.store, self.phone.clock
        n = min(WEEK_PAGES, max(2, len(self.phone.homes) // 200))  # a smoke run's phone: fewer pages
        t = Timings(f"a week's pull applied ({n} pages of 500)", f"apply_pulled of {n} teammates' pages in a "
                    "row", "the same inbox rows and the entity rows they change (clear), a transaction a page")
        for _ in range(RUNS["week"] + 1):
            got = []
            for _page in range(n):
                clock.now += timedelta(hours=3)
                got.append(teammate_page(store, self.phone.server, self.rng, self.phone.homes, clock.now))
            ours, _ = timed(partial(_apply_all, store, got))
            inbox = self.clear.inbox("WHERE cursor >= ?", [got[0][0]["cursor"]])
            rows = self._entities({e["entity"] for p in got for e in p})
            theirs, _ = timed(partial(_raw_write, self.raw, inbox, words_of(rows), "inbox"))
            t.add(ours, theirs)
        t.extra.update(events=sum(len(p) for p in got))
        self._keep("week_pull", t)


def _apply_all(store: Store, got: list[list[dict[str, Any]]]) -> None:
    for page in got:
        store.apply_pulled(page, page[-1]["cursor"])


def _open(data: Path, provider: FileKeyProvider) -> Store:
    store = Store(data, key=provider)
    _ = store.device_id  # the first read the app makes (signed in?)
    return store


def _raw_open(path: Path) -> sqlite3.Connection:
    conn = connect(path)
    conn.execute("PRAGMA user_version").fetchone()
    conn.execute("SELECT value FROM meta WHERE key = 'device_id'").fetchone()
    return conn


def _raw_write(conn: sqlite3.Connection, events: list[tuple[Any, ...]], entities: list[tuple[Any, ...]],
               table: str) -> None:
    marks = ",".join("?" * (12 if table == "outbox" else 9))
    conn.execute("BEGIN")
    conn.executemany(f"INSERT OR REPLACE INTO {table} VALUES ({marks})", events)
    conn.executemany("INSERT OR REPLACE INTO entities VALUES (?, ?, ?, ?, ?, ?, ?)", entities)
    conn.execute("COMMIT")


def _file_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
