"""`python -m field_app.bench`: the device store's figures against SQLite itself.

Performance is measured here, by a command, not by timed tests (they fail on a
loaded CI machine and say nothing about a phone). The bench builds, in a
temporary directory that it deletes, what one volunteer's phone holds after a
few days of work, and measures the steps a volunteer waits for:

- opening the store (reading the data key, checking it, the schema),
- the households screen's first page of a hamlet, and of all hamlets,
- search as you type on the folded key (queries matching many, some, one, none),
  and a keystroke as the households screen makes it,
- recording a visit (its events in one transaction, as record_outcome writes it),
- reading a push batch of 500 pending events,
- applying a pulled page of 500 events, as a sync does.

Each figure comes with the RAW LIMIT measured in the same run on the same
machine: the same rows, decrypted, in a plain sqlite3 database with the same
pragmas (WAL, synchronous=FULL) and indexes, and the cheapest SQL that gives
the same answer (a SELECT of the same page, a LIKE over a clear folded column,
an INSERT of the same bytes). The ratio is raw / ours: 1.0 is "as fast as
SQLite itself", 0.1 is ten times slower. Ours and raw alternate run by run, so
a change in the machine's load falls on both alike.

The store is built only through Store's public API (apply_pulled for what the
server sent, record_visit / update_person / acknowledge for the volunteer's own
work). The raw copy is read from the store's file and decrypted with the key,
so it holds the very bytes the store keeps: this ties the bench to schema 2's
tables (field_app/store.py), on purpose: a schema change must revisit the bench.

Stdlib and what field_app already uses; never sync_server (the phone build
does not carry it). BENCHMARKS.md, "Device (field app store)", explains the
figures and the budget a phone implies.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from campaign.events import SCHEMA, check_event, generic_label, normalize
from campaign.ids import uuid7
from campaign.text import fold

from .crypto import Cipher, place
from .keys import KEY_FILE, FileKeyProvider
from .store import Store

VN = timezone(timedelta(hours=7))
COMMUNE = "10525"  # Phường Hải Dương, as in the tests
HAMLET_SIZE = 500  # households per hamlet; 2,000 households are 4 hamlets
PAGE = 100  # field_app/views/households.py PAGE: rows the list shows before "Xem thêm"
SYNC_PAGE = 500  # field_app/sync.py PAGE and campaign.events.MAX_BATCH
PENDING_LEFT = 700  # own events left unsent at the start (≥ one push batch at the default size)
VISITED_SHARE = 0.4  # households this device has visited before the bench
DEFAULT_OUT = Path("benchmarks") / "device.json"

# Runs per measure (after one warm-up run, reported as `first`). The writes
# grow the store a little with every run; the reads do not change it.
RUNS = {"open": 20, "list": 15, "list_all": 5, "search": 20, "keystroke": 15, "record": 30,
        "pending": 20, "apply": 7}

# The same mix as the server bench's province (sync_server/bench/dataset.py), so
# that the phone's hamlets look like the server's: 3.57 people a household.
SIZES = (1, 2, 3, 4, 5, 6, 7, 8)
SIZE_WEIGHTS = (10, 18, 22, 24, 14, 7, 3, 2)
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
          "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Đoàn", "Trương", "Lâm")
FAMILY_WEIGHTS = (36, 11, 9, 7, 4, 4, 3, 4, 3, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1)
MIDDLE = ("Văn", "Thị", "Minh", "Ngọc", "Thanh", "Hữu", "Quốc", "Thu", "Kim", "Hoàng", "Bảo", "Gia", "Đức")
GIVEN = ("An", "Anh", "Bình", "Châu", "Cường", "Dũng", "Duyên", "Đạt", "Giang", "Hà", "Hải", "Hạnh",
         "Hiếu", "Hòa", "Hoà", "Hoa", "Hùng", "Hương", "Khang", "Lan", "Linh", "Long", "Mai", "Minh",
         "Nam", "Nga", "Ngân", "Nhung", "Phúc", "Phương", "Quân", "Sơn", "Tâm", "Thảo", "Thắng", "Thủy",
         "Trang", "Trí", "Trung", "Tuấn", "Uyên", "Vân", "Việt", "Yến")
STREETS = ("Lý Thường Kiệt", "Trần Hưng Đạo", "Nguyễn Trãi", "Hùng Vương", "Phan Ngọc Hiển", "Ngô Quyền",
           "Lê Lợi", "Quang Trung", "Nguyễn Tất Thành", "Hai Bà Trưng", "Đề Thám", "Điện Biên Phủ")
HAMLETS = (("to_dan_pho", "Tổ dân phố {n}"), ("thon", "Thôn Đông Hòa {n}"), ("ap", "Ấp Phú Lộc {n}"),
           ("thon", "Thôn Đoài {n}"))
NOTES = ("Hẹn quay lại buổi tối", "Ông bà lớn tuổi, cần hỗ trợ tại nhà", "Con đi làm xa, về cuối tuần",
         "Điện thoại không nhận OTP", "Đã hướng dẫn cài VNeID")
ACTIONS = ("explained", "installed_app", "l1_help", "activation_help", "referred_l2", "booked_home_capture")
ACTION_WEIGHTS = (30, 14, 14, 16, 12, 4)
NOT_REGISTERED = ("no_app", "unknown")  # field_app/app_state.py NOT_YET_REGISTERED: l1_help moves these on

Log = Callable[[str], None]


# ---- timing -----------------------------------------------------------------------------

def percentile(values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (what the server bench reports)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


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


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


# ---- the phone's data -------------------------------------------------------------------

class Clock:
    """The device's clock for the store: set by the bench, so visits fall on the days it chooses."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Household:
    id: str
    hamlet_id: str
    address: str
    people: list[str]


class ServerLog:
    """Events as the server sends them: envelopes with a cursor, valid by campaign.events."""

    def __init__(self, cursor: int = 0) -> None:
        self.cursor = cursor
        self.seqs: dict[str, int] = {}

    def event(self, device: str, kind: str, entity: str, data: dict[str, Any], at: datetime,
              base: int | None = None) -> dict[str, Any]:
        seq = self.seqs.get(device, 0) + 1
        self.seqs[device] = seq
        self.cursor += 1
        event = normalize({"id": uuid7(), "device_id": device, "seq": seq, "kind": kind, "entity": entity,
                           "base": base, "at": at.isoformat(timespec="seconds"), "data": data,
                           "schema": SCHEMA})
        check_event(event)  # a bench that feeds the store invalid events would measure the wrong path
        return {**event, "cursor": self.cursor}

    def echo(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The device's own events coming back in a pull, with the cursors the server gave them."""
        out = []
        for event in events:
            self.cursor += 1
            out.append({**event, "cursor": self.cursor})
        return out


def _pages(events: list[dict[str, Any]], size: int = SYNC_PAGE) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(events), size):
        yield events[start:start + size]


def _card(rng: random.Random, age: int) -> str:
    if age < 14:
        return rng.choices(("none", "can_cuoc", "unknown"), (60, 30, 10))[0]
    return rng.choices(("cccd_chip", "can_cuoc", "cccd_barcode", "cmnd_only", "applied_waiting", "none", "unknown"),
                       (58, 14, 8, 5, 5, 5, 5))[0]


def _vneid(rng: random.Random, age: int) -> str:
    if age < 6:
        return rng.choices(("not_eligible", "l1_active", "unknown"), (70, 20, 10))[0]
    return rng.choices(("l2_active", "l1_active", "l2_pending", "l2_approved", "l1_pending", "no_app", "unknown"),
                       (34, 14, 10, 8, 5, 17, 12))[0]


def target_list(log: ServerLog, rng: random.Random, households: int, start: datetime
                ) -> tuple[list[dict[str, Any]], list[str], list[Household]]:
    """The commune's target list for this volunteer's hamlets, as an admin's events the server sends."""
    admin = "bench-admin"
    n_hamlets = max(1, round(households / HAMLET_SIZE))
    events: list[dict[str, Any]] = []
    hamlets = []
    for i in range(n_hamlets):
        kind, name = HAMLETS[i % len(HAMLETS)]
        hamlet = uuid7()
        hamlets.append(hamlet)
        events.append(log.event(admin, "hamlet.created", hamlet, {
            "commune": COMMUNE, "name": name.format(n=i + 1), "kind": kind, "valid_from": "2025-07-01",
            "valid_to": None}, start))
    out: list[Household] = []
    for n in range(households):
        hamlet = hamlets[n % n_hamlets]
        at = start + timedelta(seconds=n)
        household = uuid7()
        consent = rng.choices(("given", "unknown", "declined"), (85, 10, 5))[0]
        address = f"Số {n // n_hamlets + 1}, hẻm {rng.randint(1, 60)}, đường {rng.choice(STREETS)}"
        events.append(log.event(admin, "household.created", household,
                                {"hamlet_id": hamlet, "address": address, "consent": consent}, at))
        family = rng.choices(FAMILY, FAMILY_WEIGHTS)[0]
        people = []
        for i in range(rng.choices(SIZES, SIZE_WEIGHTS)[0]):
            age = rng.randint(18, 85) if i < 2 else rng.randint(0, 60)
            label = generic_label(i + 1) if consent == "declined" else \
                f"{family} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
            person = uuid7()
            people.append(person)
            presence = rng.choices(("home", "away_work_study", "abroad", "moved", "deceased"), (78, 14, 3, 3, 2))[0]
            events.append(log.event(admin, "person.added", person, {
                "household_id": household, "label": label, "birth_year": at.year - age, "presence": presence,
                "card": _card(rng, age), "vneid": _vneid(rng, age)}, at))
        out.append(Household(household, hamlet, address, people))
    return events, hamlets, out


def visit(store: Store, rng: random.Random, household: Household, outcome: str | None = None) -> int:
    """A volunteer's visit through the store, as app_state.record_outcome writes it: each helped
    person's new VNeID status, then the visit. Returns the number of events written."""
    outcome = outcome or rng.choices(("met", "not_home", "refused"), (78, 19, 3))[0]
    helped: list[str] = []
    actions: list[str] = []
    events = 0
    if outcome == "met":
        actions = list(dict.fromkeys(rng.choices(ACTIONS, ACTION_WEIGHTS, k=rng.randint(1, 3))))
        for person in store.people(household.id):
            if person.get("vneid") in NOT_REGISTERED and person.get("presence") == "home" and len(helped) < 2:
                helped.append(person["id"])
                store.update_person(person["id"], vneid="l1_pending")
                events += 1
        if not helped:
            actions = ["explained"]
    store.record_visit(household.id, outcome, actions=actions, people_helped=helped,
                       note=rng.choice(NOTES) if rng.random() < 0.15 else "")
    return events + 1


# ---- the raw copy: the same rows, decrypted, in plain sqlite3 ------------------------------

RAW_SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE outbox (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
        entity TEXT NOT NULL, related TEXT, base INTEGER, at TEXT NOT NULL, body TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending', reason TEXT, pulled INTEGER NOT NULL DEFAULT 0, problem TEXT)""",
    "CREATE INDEX outbox_entity ON outbox(entity)",
    "CREATE INDEX outbox_related ON outbox(related)",
    """CREATE TABLE inbox (cursor INTEGER PRIMARY KEY, id TEXT NOT NULL, device_id TEXT NOT NULL,
        seq INTEGER NOT NULL, kind TEXT NOT NULL, entity TEXT NOT NULL, related TEXT, body TEXT NOT NULL,
        problem TEXT)""",
    "CREATE UNIQUE INDEX inbox_device_seq ON inbox(device_id, seq)",
    "CREATE INDEX inbox_entity ON inbox(entity)",
    "CREATE INDEX inbox_related ON inbox(related)",
    # `fold` is the store's search key in clear; `words` (households only) is the address's and the
    # people's folded keys joined: the one clear column a LIKE search needs.
    """CREATE TABLE entities (id TEXT PRIMARY KEY, type TEXT NOT NULL, hamlet_id TEXT, parent_id TEXT,
        fold TEXT NOT NULL, words TEXT, body TEXT NOT NULL)""",
    "CREATE INDEX entities_list ON entities(type, hamlet_id, fold)",
    "CREATE INDEX entities_parent ON entities(parent_id)",
)


def _connect(path: Path) -> sqlite3.Connection:
    """The store's pragmas, so that the ratio measures our code, not a cheaper durability."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    return conn


class Clear:
    """Reads the store's file and opens its sealed columns with the key (crypto's own functions)."""

    def __init__(self, store_file: Path, key: bytes) -> None:
        self.cipher = Cipher(key)
        self.conn = sqlite3.connect(f"file:{store_file}?mode=ro", uri=True)

    def _open(self, table: str, column: str, row: str | int, sealed: Any) -> str | None:
        return None if sealed is None else self.cipher.open(sealed, place(table, column, row)).decode("utf-8")

    def outbox(self, where: str = "", params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [(seq, id, kind, entity, related, base, at, self._open("outbox", "body", seq, body), status,
                 self._open("outbox", "reason", seq, reason), pulled, self._open("outbox", "problem", seq, problem))
                for seq, id, kind, entity, related, base, at, body, status, reason, pulled, problem
                in self.conn.execute("SELECT seq, id, kind, entity, related, base, at, body, status, reason, "
                                     f"pulled, problem FROM outbox {where}", params)]

    def inbox(self, where: str = "", params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [(cursor, id, device, seq, kind, entity, related, self._open("inbox", "body", cursor, body),
                 self._open("inbox", "problem", cursor, problem))
                for cursor, id, device, seq, kind, entity, related, body, problem
                in self.conn.execute("SELECT cursor, id, device_id, seq, kind, entity, related, body, problem "
                                     f"FROM inbox {where}", params)]

    def entities(self, where: str = "", params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """(id, type, hamlet_id, parent_id, fold, words, body); words is filled in by words_of()."""
        return [(id, type, hamlet, parent, self._open("entities", "search", id, search), None,
                 self._open("entities", "body", id, body))
                for id, type, hamlet, parent, search, body
                in self.conn.execute(f"SELECT id, type, hamlet_id, parent_id, search, body FROM entities {where}",
                                     params)]

    def meta(self) -> list[tuple[str, str]]:
        # sealed values (token, last_error) stay as they are: the raw side never reads them
        return [(k, v if isinstance(v, str) else v.hex()) for k, v in self.conn.execute("SELECT key, value FROM meta")]

    def close(self) -> None:
        self.conn.close()


def words_of(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Fill `words` of each household row: its folded address, then its people's folded labels."""
    labels: dict[str, list[str]] = {}
    for id, type, _hamlet, parent, key, _words, _body in rows:
        if type == "person" and parent:
            labels.setdefault(parent, []).append(key)
    return [(id, type, hamlet, parent, key, "\n".join([key, *labels.get(id, [])]) if type == "household" else None,
             body) for id, type, hamlet, parent, key, _words, body in rows]


def raw_copy(clear: Clear, path: Path) -> sqlite3.Connection:
    """The store's rows, decrypted, in a plain database with the store's indexes (ANALYZEd, so the
    raw side gets SQLite's best plan: it is the limit, not a strawman)."""
    conn = _connect(path)
    for sql in RAW_SCHEMA:
        conn.execute(sql)
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO meta VALUES (?, ?)", clear.meta())
    conn.executemany(f"INSERT INTO outbox VALUES ({','.join('?' * 12)})", clear.outbox())
    conn.executemany(f"INSERT INTO inbox VALUES ({','.join('?' * 9)})", clear.inbox())
    conn.executemany(f"INSERT INTO entities VALUES ({','.join('?' * 7)})", words_of(clear.entities()))
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    return conn


# ---- what the households screen does ---------------------------------------------------------

def screen_fill(store: Store, hamlet: str | None, search: str = "", counts: bool = True) -> list[dict[str, Any]]:
    """What households_screen's fill() asks of the store: the first page of the matching rows
    (households_page, in the screen's natural_key order), and on opening (not on a keystroke)
    counts() for the chips."""
    rows, _ = store.households_page(hamlet, search=search, limit=PAGE)
    if counts:
        store.counts(hamlet)
    return rows


RAW_PAGE = ("SELECT h.id, h.body, (SELECT count(*) FROM entities p WHERE p.parent_id = h.id AND p.type = 'person') "
            "FROM entities h WHERE h.type = 'household' {hamlet} ORDER BY h.fold LIMIT ?")
RAW_COUNTS = ("SELECT count(*), coalesce(sum(json_extract(body, '$.data.visits') > 0), 0) FROM entities "
              "WHERE type = 'household' {hamlet}")


def raw_page(conn: sqlite3.Connection, hamlet: str | None) -> list[Any]:
    """The same page from clear tables: the first rows by folded address with their people count,
    and the hamlet's household and visited counts."""
    params = [hamlet] if hamlet else []
    rows = conn.execute(RAW_PAGE.format(hamlet="AND h.hamlet_id = ?" if hamlet else ""), [*params, PAGE]).fetchall()
    conn.execute(RAW_COUNTS.format(hamlet="AND hamlet_id = ?" if hamlet else ""), params).fetchone()
    return rows


def _one_address(conn: sqlite3.Connection, hamlet: str, homes: list[Household]) -> str:
    """A typed address that finds exactly one household ("so 12 hem 7 duong le loi" may also find
    "so 112 …": a word matches inside a longer one), looked up in the raw copy."""
    for home in homes[len(homes) // 2:] + homes[:len(homes) // 2]:
        query = " ".join(fold(home.address).replace(",", " ").split())
        if len(raw_search(conn, hamlet, query)) == 1:
            return query
    return " ".join(fold(homes[0].address).replace(",", " ").split())


def raw_search(conn: sqlite3.Connection, hamlet: str, query: str) -> list[Any]:
    """A LIKE per folded word over the clear `words` column, the matches' bodies by address."""
    words = fold(query).split()
    likes = "".join(" AND words LIKE ?" for _ in words)
    return conn.execute(f"SELECT id, body FROM entities WHERE type = 'household' AND hamlet_id = ?{likes} "
                        "ORDER BY fold", [hamlet, *(f"%{w}%" for w in words)]).fetchall()


# ---- the bench --------------------------------------------------------------------------------

def build(root: Path, households: int, rng: random.Random, log: Log) -> dict[str, Any]:
    """A volunteer's phone after a few days: the target list pulled, ~40 % visited, most of it sent."""
    data = root / "device"
    provider = FileKeyProvider(data / KEY_FILE)  # the app's key on a desktop (field_app.app_state.default_key)
    key = provider.load_or_create()
    start = datetime(2026, 3, 2, 7, 30, tzinfo=VN)
    clock = Clock(start)
    server = ServerLog()
    store = Store(data, clock=clock, key=provider)
    device = "bench-volunteer"
    events, hamlets, homes = target_list(server, rng, households, start - timedelta(days=3))
    store.enrol("http://127.0.0.1:9", device, "bench-token", "volunteer", {"hamlets": hamlets})
    t0 = time.perf_counter()
    for page in _pages(events):
        store.apply_pulled(page, page[-1]["cursor"])
    log(f"target list pulled: {len(events):,} events in {time.perf_counter() - t0:.1f} s")

    t0 = time.perf_counter()
    own = 0
    visited = rng.sample(homes, int(len(homes) * VISITED_SHARE))
    for day in range(3):  # three days' work, a transaction per 50 visits to keep the build quick
        todays = visited[day::3]
        for start_at in range(0, len(todays), 50):
            with store.db.atomic():
                for n, home in enumerate(todays[start_at:start_at + 50]):
                    clock.now = start + timedelta(days=day, minutes=3 * (start_at + n))
                    own += visit(store, rng, home)
    log(f"{len(visited):,} visits recorded: {own:,} events in {time.perf_counter() - t0:.1f} s")

    t0 = time.perf_counter()
    sent = max(0, own - PENDING_LEFT) if own > PENDING_LEFT + SYNC_PAGE else own // 2
    while store.acked_seq < sent:  # a sync: push (acknowledged), then the events come back in the pull
        batch = store.pending(limit=min(SYNC_PAGE, sent - store.acked_seq))
        store.acknowledge(batch[-1]["seq"])
        echoed = server.echo(batch)
        store.apply_pulled(echoed, echoed[-1]["cursor"])
    log(f"{sent:,} own events sent and pulled back in {time.perf_counter() - t0:.1f} s; "
        f"{store.pending_count():,} pending")
    clock.now = start + timedelta(days=3, hours=1)
    return {"store": store, "provider": provider, "key": key, "clock": clock, "server": server, "device": device,
            "hamlets": hamlets, "homes": homes, "visited": {h.id for h in visited}}


def teammate_page(store: Store, server: ServerLog, rng: random.Random, homes: list[Household],
                  at: datetime, size: int = SYNC_PAGE) -> list[dict[str, Any]]:
    """A page a sync pulls: a teammate's visits in the same hamlets and what they changed."""
    mate = "bench-teammate"
    page: list[dict[str, Any]] = []
    while len(page) < size:
        home = rng.choice(homes)
        people = store.people(home.id)
        helped = [p for p in people if p.get("presence") == "home"][:rng.randint(0, 2)]
        for person in helped:
            if len(page) < size - 1:
                page.append(server.event(mate, "person.updated", person["id"],
                                         {"vneid": rng.choice(("l1_active", "l2_active"))}, at, person["version"]))
        page.append(server.event(mate, "visit.recorded", uuid7(), {
            "household_id": home.id, "outcome": "met" if helped else "not_home",
            "actions": ["activation_help"] if helped else [], "people_helped": [p["id"] for p in helped],
            "note": ""}, at))
        at += timedelta(minutes=2)
    return page[:size]


def run(households: int = 2000, seed: int = 1, log: Log | None = None) -> dict[str, Any]:
    """Build the phone's store in a temporary directory, measure, delete it; the results as a dict."""
    log = log or _logger()
    started = time.perf_counter()
    rng = random.Random(seed)
    load_start = round(os.getloadavg()[0], 2)
    with tempfile.TemporaryDirectory(prefix="gocua-device-bench-") as tmp:
        root = Path(tmp)
        b = build(root, households, rng, log)
        store: Store = b["store"]
        clear = Clear(store.path, b["key"])
        raw = raw_copy(clear, root / "raw.db")
        try:
            measures, sizes = _measure_all(b, clear, raw, root, rng, log)
        finally:
            raw.close()
            clear.close()
            store.close()
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "load_average_at_start": load_start,
        "load_average_at_end": round(os.getloadavg()[0], 2),
        "sizes": sizes,
        "measures": measures,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _measure_all(b: dict[str, Any], clear: Clear, raw: sqlite3.Connection, root: Path, rng: random.Random,
                 log: Log) -> tuple[dict[str, Any], dict[str, Any]]:
    store: Store = b["store"]
    hamlets: list[str] = b["hamlets"]
    homes: list[Household] = b["homes"]
    # the largest hamlet (they are equal by construction; the first when tied)
    per_hamlet = {h: sum(1 for home in homes if home.hamlet_id == h) for h in hamlets}
    hamlet = max(hamlets, key=lambda h: per_hamlet[h])
    mine = [home for home in homes if home.hamlet_id == hamlet]
    sizes = {"households": len(homes), "hamlets": len(hamlets), "households_in_hamlet": per_hamlet[hamlet],
             "people": sum(len(h.people) for h in homes), "visited": len(b["visited"]),
             "outbox_events": store.last_seq, "pending_events": store.pending_count(),
             "inbox_events": raw.execute("SELECT count(*) FROM inbox").fetchone()[0],
             "entities": raw.execute("SELECT count(*) FROM entities").fetchone()[0],
             "store_bytes": _file_bytes(store.path)}
    log("sizes: " + ", ".join(f"{k} {v:,}" for k, v in sizes.items()))
    out: dict[str, Any] = {}

    # -- opening the store: the key file read, the key check decrypted, the schema checked
    t = Timings("open the store", "Store(dir, key=FileKeyProvider) + device_id (key file read, key check "
                "decrypted, pragmas, schema version)", "sqlite3.connect + the same pragmas + user_version + "
                "a meta row")
    raw_file = root / "raw.db"
    for _ in range(RUNS["open"] + 1):
        ours, opened = timed(lambda: _open(store.path.parent, b["provider"]))
        opened.close()
        theirs, conn = timed(lambda: _raw_open(raw_file))
        conn.close()
        t.add(ours, theirs)
    out["open"] = t.summary()
    log(_line("open", out["open"]))

    # -- the households screen's first page, one hamlet and all of them
    for name, scope, runs in (("list_page", hamlet, RUNS["list"]), ("list_page_all", None, RUNS["list_all"])):
        label = ("households screen, first page of a hamlet" if scope else
                 "households screen, first page of all hamlets")
        t = Timings(label, "households_page(hamlet, limit=100) + counts(hamlet) (the screen's fill())",
                    "first 100 households by folded address with people counts + household/visited counts")
        for _ in range(runs + 1):
            ours, rows = timed(lambda: screen_fill(store, scope))
            theirs, raw_rows = timed(lambda: raw_page(raw, scope))
            t.add(ours, theirs)
        t.extra.update(rows=len(rows), raw_rows=len(raw_rows))
        out[name] = t.summary()
        log(_line(name, out[name]))

    # -- search as you type on the folded key
    queries = {"search_many": "nguyen", "search_name": "tran thi hoa", "search_one": _one_address(raw, hamlet, mine),
               "search_none": "khong co ai"}
    for name, query in queries.items():
        t = Timings(f"search {query!r}", "households_page(hamlet, search=q, limit=100): sealed keys of the "
                    "hamlet decrypted (cached), matched, ordered, the first 100 matches opened",
                    "LIKE per folded word over a clear column, matches' bodies")
        for _ in range(RUNS["search"] + 1):
            ours, (rows, found) = timed(lambda: store.households_page(hamlet, search=query, limit=PAGE))
            theirs, raw_rows = timed(lambda: raw_search(raw, hamlet, query))
            t.add(ours, theirs)
        if found != len(raw_rows):  # the raw query must answer the same question
            raise AssertionError(f"search {query!r}: the store found {found}, the raw query {len(raw_rows)}")
        t.extra.update(query=query, matches=found)
        out[name] = t.summary()
        log(_line(name, out[name]))
    t = Timings("a keystroke as the screen makes it", "screen fill(): households_page(hamlet, search='nguyen v', "
                "limit=100) (the chips' counts are kept until the data changes)", "the same search's LIKE")
    for _ in range(RUNS["keystroke"] + 1):
        ours, rows = timed(lambda: screen_fill(store, hamlet, "nguyen v", counts=False))
        theirs, _ = timed(lambda: raw_search(raw, hamlet, "nguyen v"))
        t.add(ours, theirs)
    out["keystroke"] = t.summary()
    log(_line("keystroke", out["keystroke"]))

    # -- pending events for a push batch
    t = Timings("pending events for a push batch of 500", "pending(limit=500): rows read, decrypted, parsed",
                "SELECT seq, body of the same rows")
    acked = store.acked_seq
    for _ in range(RUNS["pending"] + 1):
        ours, batch = timed(lambda: store.pending(limit=SYNC_PAGE))
        theirs, _ = timed(lambda: raw.execute("SELECT seq, body FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
                                              [acked, SYNC_PAGE]).fetchall())
        t.add(ours, theirs)
    t.extra.update(events=len(batch))
    out["pending_500"] = t.summary()
    log(_line("pending_500", out["pending_500"]))

    # -- recording a visit: two people's VNeID status and the visit
    clock: Clock = b["clock"]
    # Households not visited yet first; a small store runs out of them and visits some again.
    unvisited = [h for h in homes if h.id not in b["visited"]]
    rng.shuffle(unvisited)
    targets = itertools.cycle(unvisited + [h for h in homes if h.id in b["visited"]])
    adult = clock.now.year - 18

    def next_visit() -> tuple[Household, list[dict[str, Any]]]:
        for _ in range(len(homes)):
            home = next(targets)
            helped = [p for p in store.people(home.id) if p.get("presence") == "home"
                      and isinstance(p.get("birth_year"), int) and p["birth_year"] <= adult][:2]
            if len(helped) == 2:
                return home, helped
        raise RuntimeError("no household with two adults at home: use more households")

    def write(home: Household, helped: list[dict[str, Any]]) -> None:
        for person in helped:  # a status that differs from the stored one, so an event is written
            store.update_person(person["id"], vneid="l1_active" if person.get("vneid") == "l1_pending"
                                else "l1_pending")
        store.record_visit(home.id, "met", actions=["l1_help"], people_helped=[p["id"] for p in helped])

    def one_transaction(home: Household, helped: list[str]) -> None:
        with store.transaction():  # as app_state.record_outcome writes a visit
            write(home, helped)

    for name, label, how, runs in (
            ("record_visit", "record a visit (3 events, one transaction)", one_transaction, RUNS["record"]),):
        t = Timings(label, "update_person ×2 + record_visit: events validated, projected, sealed, fsynced",
                    "the same 3 event rows and 4 entity rows (clear) inserted in one transaction")
        for _ in range(runs + 1):
            home, helped = next_visit()
            clock.now += timedelta(minutes=4)
            before = store.last_seq
            ours, _ = timed(lambda: how(home, helped))
            events = clear.outbox("WHERE seq > ?", [before])
            ids = [home.id, *(p["id"] for p in helped), *(e[3] for e in events if e[2] == "visit.recorded")]
            rows = words_of(clear.entities(f"WHERE id IN ({','.join('?' * len(ids))})", ids))
            theirs, _ = timed(lambda: _raw_write(raw, events, rows, "outbox"))
            t.add(ours, theirs)
        t.extra.update(events=len(events), entity_rows=len(rows))
        out[name] = t.summary()
        log(_line(name, out[name]))

    # -- applying a pulled page of 500 events
    server: ServerLog = b["server"]
    t = Timings("apply a pulled page of 500 events", "apply_pulled(page): inbox rows sealed, touched households "
                "recomputed from their events, one transaction", "the same 500 inbox rows and the entity rows "
                "they change (clear) in one transaction")
    for _ in range(RUNS["apply"] + 1):
        clock.now += timedelta(minutes=30)
        page = teammate_page(store, server, rng, homes, clock.now)
        first = page[0]["cursor"]
        ours, _ = timed(lambda: store.apply_pulled(page, page[-1]["cursor"]))
        inbox = clear.inbox("WHERE cursor >= ?", [first])
        changed = sorted({e["entity"] for e in page} | {e["data"]["household_id"] for e in page
                                                           if e["kind"] == "visit.recorded"})
        rows = []
        for start in range(0, len(changed), 200):
            chunk = changed[start:start + 200]
            rows += clear.entities(f"WHERE id IN ({','.join('?' * len(chunk))})", chunk)
        theirs, _ = timed(lambda: _raw_write(raw, inbox, words_of(rows), "inbox"))
        t.add(ours, theirs)
    t.extra.update(events=len(page), entity_rows=len(rows))
    out["apply_pulled_500"] = t.summary()
    log(_line("apply_pulled_500", out["apply_pulled_500"]))
    return out, sizes


def _open(data: Path, provider: FileKeyProvider) -> Store:
    store = Store(data, key=provider)
    store.device_id  # the first read the app makes (signed in?)
    return store


def _raw_open(path: Path) -> sqlite3.Connection:
    conn = _connect(path)
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


# ---- output -------------------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    cpu, mem_kb = "", 0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal"))
    except (OSError, StopIteration):
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu or platform.processor(), "memory_gib": round(mem_kb / 2**20, 1),
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version, "system": platform.system(),
            "kernel": platform.release()}


def _line(name: str, m: dict[str, Any]) -> str:
    return (f"  {name}: median {m['median_ms']:.2f} ms, p95 {m['p95_ms']:.2f} ms, raw {m['raw_median_ms']:.3f} ms, "
            f"raw/ours {m['ratio']:.3f}")


def table(results: dict[str, Any]) -> str:
    header = ["measure", "runs", "median", "p95", "first", "raw median", "raw / ours"]
    lines = [header]
    for m in results["measures"].values():
        label = m["label"] + (f" ({m['matches']} found)" if "matches" in m else "")
        lines.append([label, str(m["runs"]), f"{m['median_ms']:,.2f} ms", f"{m['p95_ms']:,.2f} ms",
                      f"{m['first_ms']:,.2f} ms", f"{m['raw_median_ms']:,.3f} ms", f"{m['ratio']:.3f}"])
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    out = []
    for n, row in enumerate(lines):
        out.append("| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                     for i, (c, w) in enumerate(zip(row, widths))) + " |")
        if n == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def _logger() -> Log:
    t0 = time.perf_counter()

    def log(text: str) -> None:
        print(f"[{time.perf_counter() - t0:5.1f}s] {text}", flush=True)
    return log


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m field_app.bench",
                                     description="the device store's figures against plain SQLite, same run")
    parser.add_argument("--households", type=int, default=2000, help="households on the phone (default 2,000)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"the JSON results (default {DEFAULT_OUT})")
    parser.add_argument("--seed", type=int, default=1, help="the data set's random seed")
    args = parser.parse_args(argv)
    if args.households < 10:
        parser.error("--households must be at least 10")
    results = run(args.households, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    m = results["machine"]
    print()
    print(f"{results['date']}, {m['nproc']} cores ({m['cpu']}), Python {m['python']}, SQLite {m['sqlite']}; "
          f"load average {results['load_average_at_start']} → {results['load_average_at_end']}")
    print(f"{results['sizes']['households']:,} households in {results['sizes']['hamlets']} hamlets, "
          f"{results['sizes']['people']:,} people, {results['sizes']['outbox_events']:,} own events "
          f"({results['sizes']['pending_events']:,} pending at the start)")
    print(table(results))
    print(f"\nwritten {args.out} in {results['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
