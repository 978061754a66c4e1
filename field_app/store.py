"""The device's local store: an outbox of its own events, an inbox of the
server's, and the state both project to.

One SQLite file (WAL, synchronous=FULL) in app-private storage. Every change is
an event written in the same transaction as the state it produces; the state is
always a projection of events (campaign.projection), recomputed per household
when the server's order arrives. See docs/device.md for the tables and rules.

Personal data is encrypted at rest (schema 2): every column that can hold a
label, an address, a note, a comment or a credential holds AES-256-GCM
ciphertext bound to its table, column and row (field_app/crypto.py), under a
32-byte data key kept outside the file (field_app/keys.py). Ids, kinds, seqs,
cursors, statuses and hamlet ids stay clear: queries need them and they name
nobody. There is no clear-text search key: searching decrypts the folded keys
of the hamlet being listed (see households()).

The store is used from the UI and from the background sync thread: one
connection, and every public method holds one re-entrant lock.
"""
from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import re
import sqlite3
import threading
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, NamedTuple, Sequence

import sqlite_utils

from campaign.followup import FOLLOW_UP, follow_up  # noqa: F401  (re-exported for the screens)
from campaign import vocabulary as v
from campaign.events import (ENVELOPE, KINDS, SCHEMA, InvalidEvent, canonical, check_event, digest,
                             generic_label, normalize, parse_at)
from campaign.ids import uuid7
from campaign.projection import Entity, apply
from campaign.text import fold
from campaign.totals import VIETNAM, local_day

from .crypto import Cipher, DecryptionFailed, place
from .keys import KeyProvider, KeyUnavailable

log = logging.getLogger(__name__)

DB_NAME = "gocua.db"
IDENTITY = ("device_id", "token", "role", "scope")
SETTING = "setting:"  # meta keys that survive a purge: language, theme …
KEPT_ON_PURGE = ("server_url",)
CHUNK = 200  # ids per IN (...) query
SEARCH_CACHE = 50_000  # decrypted search keys kept in memory (about 100 bytes each)
SUMMARY_CACHE = 50_000  # households' list summaries and visits' days kept in memory (see _summaries)
# meta values that are encrypted: a credential, and free text that may quote the server.
# The rest of meta (device id, role, scope = hamlet ids, seqs, cursors, times, settings)
# names nobody; settings and server_url must also outlive the key, which a purge destroys.
SEALED_META = frozenset({"token", "last_error"})
KEY_CHECK = "key_check"  # meta: a known value sealed with the data key, to tell a wrong key at open
KEY_CHECK_VALUE = b"gocua data key check"


class StoreError(RuntimeError):
    """The store cannot do what was asked (not an invalid event: see InvalidEvent)."""


class NotSignedIn(StoreError):
    """Recording needs a device identity: enrol first."""


class StoreLocked(StoreError):
    """The data key is not available (keystore error, missing or insecure key file): nothing can be read."""


class WrongKey(StoreLocked):
    """The data key does not open this file: the key was lost or replaced, or the file is another install's."""


class Tampered(StoreError):
    """A stored value failed authentication (AES-GCM tag): the file was changed outside the app or is damaged."""


# ---- schema and migrations --------------------------------------------------------

def _v1(db: sqlite_utils.Database, cipher: Cipher) -> None:
    for sql in (
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            entity TEXT NOT NULL,
            related TEXT,
            base INTEGER,
            at TEXT NOT NULL,
            body TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'acked', 'quarantined')),
            reason TEXT,
            pulled INTEGER NOT NULL DEFAULT 0,
            problem TEXT)""",
        "CREATE INDEX outbox_entity ON outbox(entity)",
        "CREATE INDEX outbox_related ON outbox(related)",
        """CREATE TABLE inbox (
            cursor INTEGER PRIMARY KEY,
            id TEXT NOT NULL,
            device_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            kind TEXT NOT NULL,
            entity TEXT NOT NULL,
            related TEXT,
            body TEXT NOT NULL,
            problem TEXT)""",
        "CREATE UNIQUE INDEX inbox_device_seq ON inbox(device_id, seq)",
        "CREATE INDEX inbox_entity ON inbox(entity)",
        "CREATE INDEX inbox_related ON inbox(related)",
        """CREATE TABLE entities (
            id TEXT PRIMARY KEY,
            type TEXT NOT NULL,
            hamlet_id TEXT,
            parent_id TEXT,
            fold TEXT NOT NULL DEFAULT '',
            body TEXT NOT NULL)""",
        "CREATE INDEX entities_type_hamlet ON entities(type, hamlet_id)",
        "CREATE INDEX entities_parent ON entities(parent_id)",
    ):
        db.execute(sql)


def _v2(db: sqlite_utils.Database, cipher: Cipher) -> None:
    """Personal data encrypted at rest, in place: pending events are kept.

    Every table is rebuilt with the personal columns as ciphertext (BLOB):
    outbox.body/reason/problem, inbox.body/problem, entities.body, and the
    clear folded search key entities.fold becomes the encrypted entities.search.
    meta's token and last_error are sealed, and a key check is added. The
    clear-text pages this frees are zeroed (secure_delete, set by the Store)
    and the Store vacuums and checkpoints the WAL afterwards.
    Self-contained on purpose: later versions must not change what it does.
    """
    def seal(table: str, column: str, row: str | int, value: Any) -> bytes | None:
        if value is None:
            return None
        text = value if isinstance(value, str) else str(value)
        return cipher.seal(text.encode("utf-8"), place(table, column, row))

    def copy(table: str, key: str, columns: tuple[str, ...], sealed: dict[str, str]) -> None:
        """Rows in key order, a chunk at a time (a phone's memory), sealed columns encrypted."""
        select = f"SELECT {', '.join(columns)} FROM {table}"
        insert = (f"INSERT INTO {table}_v2 ({', '.join(sealed.get(c, c) for c in columns)}) "
                  f"VALUES ({_marks(columns)})")
        last: Any = None
        while True:
            where, params = ("", []) if last is None else (f"WHERE {key} > ?", [last])
            rows = db.execute(f"{select} {where} ORDER BY {key} LIMIT 500", params).fetchall()
            if not rows:
                return
            for row in rows:
                values = dict(zip(columns, row))
                db.execute(insert, [seal(table, sealed[c], values[key], values[c]) if c in sealed else values[c]
                                    for c in columns])
            last = rows[-1][0]

    db.execute("""CREATE TABLE outbox_v2 (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        entity TEXT NOT NULL,
        related TEXT,
        base INTEGER,
        at TEXT NOT NULL,
        body BLOB NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'acked', 'quarantined')),
        reason BLOB,
        pulled INTEGER NOT NULL DEFAULT 0,
        problem BLOB)""")
    copy("outbox", "seq", ("seq", "id", "kind", "entity", "related", "base", "at", "body", "status", "reason",
                           "pulled", "problem"), {"body": "body", "reason": "reason", "problem": "problem"})
    db.execute("""CREATE TABLE inbox_v2 (
        cursor INTEGER PRIMARY KEY,
        id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        entity TEXT NOT NULL,
        related TEXT,
        body BLOB NOT NULL,
        problem BLOB)""")
    copy("inbox", "cursor", ("cursor", "id", "device_id", "seq", "kind", "entity", "related", "body", "problem"),
         {"body": "body", "problem": "problem"})
    db.execute("""CREATE TABLE entities_v2 (
        id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        hamlet_id TEXT,
        parent_id TEXT,
        search BLOB NOT NULL,
        body BLOB NOT NULL)""")
    copy("entities", "id", ("id", "type", "hamlet_id", "parent_id", "fold", "body"),
         {"fold": "search", "body": "body"})
    db.execute("CREATE TABLE meta_v2 (key TEXT PRIMARY KEY, value NOT NULL)")  # JSON text, or a BLOB when sealed
    for key, value in db.execute("SELECT key, value FROM meta").fetchall():
        if key in ("token", "last_error"):
            value = seal("meta", "value", key, value)
        db.execute("INSERT INTO meta_v2 (key, value) VALUES (?, ?)", [key, value])
    db.execute("INSERT INTO meta_v2 (key, value) VALUES (?, ?)",
               [KEY_CHECK, cipher.seal(KEY_CHECK_VALUE, place("meta", "value", KEY_CHECK))])
    for table in ("outbox", "inbox", "entities", "meta"):
        db.execute(f"DROP TABLE {table}")
        db.execute(f"ALTER TABLE {table}_v2 RENAME TO {table}")
    for sql in (
        "CREATE INDEX outbox_entity ON outbox(entity)",
        "CREATE INDEX outbox_related ON outbox(related)",
        "CREATE UNIQUE INDEX inbox_device_seq ON inbox(device_id, seq)",
        "CREATE INDEX inbox_entity ON inbox(entity)",
        "CREATE INDEX inbox_related ON inbox(related)",
        # Replaces v1's entities_type_hamlet: the same prefix, and it covers the search scan
        # (households() reads the sealed keys of a hamlet from the index alone, not the big rows).
        "CREATE INDEX entities_search ON entities(type, hamlet_id, parent_id, id, search)",
        "CREATE INDEX entities_parent ON entities(parent_id)",
    ):
        db.execute(sql)


# Applied in order on open; the file's PRAGMA user_version says how many ran.
# A new version is one more function appended here, never an edit of an old one.
# Each step gets the connection and the store's cipher (for steps that rewrite
# personal columns); it runs in one transaction with its version number.
Migration = Callable[[sqlite_utils.Database, Cipher], None]
MIGRATIONS: list[Migration] = [_v1, _v2]
ENCRYPTED_FROM = 2  # the first schema version with personal data encrypted (and a key check)


def migrate(db: sqlite_utils.Database, cipher: Cipher) -> int:
    """Bring the file up to len(MIGRATIONS); each step commits with its version."""
    steps = MIGRATIONS
    current = db.execute("PRAGMA user_version").fetchone()[0]
    if current > len(steps):
        raise StoreError(f"this data was written by a newer app (schema {current}; this app knows {len(steps)})")
    for number in range(current + 1, len(steps) + 1):
        with db.atomic():
            steps[number - 1](db, cipher)
            db.execute(f"PRAGMA user_version = {number}")
    return len(steps)


# ---- follow-up: one definition (campaign/followup.py), shared with the server's lists

FILTERS = ("not_visited", "revisit", "follow_up", "returned")


# ---- helpers ----------------------------------------------------------------------

def address_order(folded: str) -> list[Any]:
    """The households screen's order of a folded address: digit runs compare as numbers
    ("so 2" before "so 10"). re.split with a group alternates text and digit runs, so two
    keys always compare str with str and int with int."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", folded)]


class Summary(NamedTuple):
    """What the list's filters and counts need from a household, without its address or names."""
    visits: Any  # the body's `visits` as stored: 0 is "not visited" for the filter, falsy for the counts
    last_outcome: Any
    follow_up: bool  # someone living here needs follow_up() this year
    returned: bool  # the latest visit was returned by the leader


def _passes(summary: Summary, filter: str) -> bool:
    """households()' filters, on a summary: the same tests it makes on the rows."""
    if filter == "not_visited":
        return summary.visits == 0
    if filter == "revisit":
        return summary.last_outcome == "not_home"
    if filter == "follow_up":
        return summary.follow_up
    return summary.returned


class _Meta:
    """A read-only Store attribute kept in `meta` (identity, sync bookkeeping), read under the
    store's lock: `device_id = _Meta("device_id")`, `acked_seq = _Meta("acked_seq", int, 0)`."""

    def __init__(self, key: str, convert: Callable[[Any], Any] | None = None, default: Any = None) -> None:
        self.key, self.convert, self.default = key, convert, default

    def __get__(self, store: Any, owner: type | None = None) -> Any:
        if store is None:
            return self
        with store._lock:
            value = store._get(self.key, self.default)
        return self.convert(value) if self.convert is not None else value

    def __set__(self, store: Any, value: Any) -> None:  # read-only, as a property would be
        raise AttributeError(f"{self.key} is written by the Store's own methods")


def _locked(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(self: Store, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)
    return wrapper


def _chunks(items: Sequence[str], size: int = CHUNK) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


def _marks(items: Sequence[Any]) -> str:
    return ",".join("?" * len(items))


def _fold_key(entity: Entity) -> str:
    field = {"household": "address", "person": "label", "hamlet": "name", "visit": "note"}.get(entity.type)
    value = entity.data.get(field) if field else None
    return fold(value) if isinstance(value, str) else ""


# ---- the store --------------------------------------------------------------------

class Store:
    """The local store. `path` is a directory (the file is gocua.db inside) or a file.

    `key` is required: the 32-byte data key itself, or a KeyProvider (field_app.keys)
    that keeps it. The app passes `keys.provider_for(page, data_dir)`; a purge then
    destroys the key too. Tests pass raw bytes (`crypto.Cipher.new_key()`), which the
    caller owns: a purge cannot destroy them. There is no clear-text mode.
    Raises StoreLocked (the provider cannot give the key) or WrongKey (the key does
    not open this file) before anything is written.
    """

    def __init__(self, path: str | os.PathLike[str], clock: Callable[[], datetime] | None = None, *,
                 key: bytes | KeyProvider) -> None:
        if isinstance(key, (bytes, bytearray)):
            self._provider: KeyProvider | None = None
            raw = bytes(key)
        elif isinstance(key, KeyProvider):
            self._provider = key
            raw = self._load_key(key)
        else:
            raise TypeError("Store needs key=: the 32-byte data key or a field_app.keys.KeyProvider")
        self._cipher = Cipher(raw)
        self.path = self.file_for(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock or (lambda: datetime.now().astimezone())
        self._lock = threading.RLock()
        # (entity id, sealed search key) → folded key. Keyed by the ciphertext itself: every
        # rewrite seals with a new nonce, so a changed row (by this connection or another
        # process) misses and is decrypted again; a ciphertext moved to another row misses too.
        self._search_cache: dict[tuple[str, bytes], str] = {}
        # household id → ((year, its sealed key, its people's and visits' (id, sealed key)), Summary),
        # and (visit id, sealed key) → its local day: valid for as long as those ciphertexts are,
        # which is the same argument as the search cache's (see _summaries).
        self._summary_cache: dict[str, tuple[tuple[Any, ...], Summary]] = {}
        self._day_cache: dict[tuple[str, bytes], str | None] = {}
        conn = sqlite3.connect(str(self.path), check_same_thread=False, timeout=10)
        self.db = sqlite_utils.Database(conn)
        try:
            self.db.enable_wal()
            self.db.execute("PRAGMA synchronous = FULL")  # an acknowledged seq must survive a power cut
            # Freed pages and deleted cells are zeroed, not left for a file reader: clear text
            # replaced by the v2 migration, and ciphertext of purged rows.
            self.db.execute("PRAGMA secure_delete = ON")
            before = self.db.execute("PRAGMA user_version").fetchone()[0]
            if before >= ENCRYPTED_FROM:
                self._check_key()
            self.schema_version = migrate(self.db, self._cipher)
            if before < ENCRYPTED_FROM <= self.schema_version:
                self._scrub()  # the clear text the migration replaced leaves the file and the WAL
        except BaseException:
            conn.close()
            raise

    @staticmethod
    def _load_key(provider: KeyProvider) -> bytes:
        try:
            return provider.load_or_create()
        except KeyUnavailable as exc:
            raise StoreLocked(f"the data key is not available: {exc}") from exc

    def _check_key(self) -> None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [KEY_CHECK]).fetchone()
        if row is None:
            if self._holds_sealed_data():
                raise StoreError(f"{self.path} is damaged: it holds encrypted data but no key check")
            with self.db.atomic():  # a purge stopped between destroying the old key and checking the new one
                self._write_key_check()
            return
        try:
            ok = self._cipher.open(row[0], place("meta", "value", KEY_CHECK)) == KEY_CHECK_VALUE
        except DecryptionFailed:
            ok = False
        if not ok:
            raise WrongKey(f"the data key does not open {self.path}: the key was lost or replaced "
                           "(keystore reset, key file deleted) or the file comes from another install. "
                           "Its data cannot be read; the only way on is to delete it and enrol again.")

    def _holds_sealed_data(self) -> bool:
        tables = any(self.db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone()
                     for table in ("outbox", "inbox", "entities"))
        return tables or self.db.execute(f"SELECT 1 FROM meta WHERE key IN ({_marks(SEALED_META)}) LIMIT 1",
                                         sorted(SEALED_META)).fetchone() is not None

    def _scrub(self) -> None:
        """VACUUM (rewrite the file without free pages) and truncate the WAL: deleted data leaves the disk.

        Flash storage may still keep old blocks below the file system; that is what the
        encryption and, on a purge, the key's destruction are for."""
        try:
            self.db.execute("VACUUM")
        except sqlite3.OperationalError as exc:  # disk full: secure_delete has zeroed the freed pages already
            log.warning("VACUUM failed (%s); freed pages were zeroed, the file keeps its size", exc)
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # ---- encryption of single values (see field_app/crypto.py) ----------------------

    def _seal(self, table: str, column: str, row: str | int, text: str) -> bytes:
        return self._cipher.seal(text.encode("utf-8"), place(table, column, row))

    def _seal_or_null(self, table: str, column: str, row: str | int, text: str | None) -> bytes | None:
        return None if text is None else self._seal(table, column, row, text)

    def _unseal_or_null(self, table: str, column: str, row: str | int, sealed: Any) -> str | None:
        return None if sealed is None else self._unseal(table, column, row, sealed)

    def _unseal(self, table: str, column: str, row: str | int, sealed: Any) -> str:
        try:
            return self._cipher.open(sealed, place(table, column, row)).decode("utf-8")
        except DecryptionFailed as exc:
            raise Tampered(f"{table}.{column} of {row} does not decrypt ({exc}): "
                           "the file was changed outside the app or is damaged") from None

    @staticmethod
    def file_for(path: str | os.PathLike[str]) -> Path:
        """The database file for `path`: itself if it is (or is named like) a database file, else path/gocua.db."""
        path = Path(path)
        if path.suffix in (".db", ".sqlite", ".sqlite3") or path.is_file():
            return path
        return path / DB_NAME

    @staticmethod
    def default_dir(data: str | os.PathLike[str] | None = None) -> Path:
        """$FLET_APP_STORAGE_DATA (app-private storage on a phone), else `data` (--data), else ~/.local/share/gocua."""
        env = os.environ.get("FLET_APP_STORAGE_DATA")
        if env:
            return Path(env)
        if data:
            return Path(data)
        return Path.home() / ".local" / "share" / "gocua"

    def close(self) -> None:
        with self._lock:
            self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- meta -------------------------------------------------------------------

    def _get(self, key: str, default: Any = None) -> Any:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        if row is None:
            return default
        value = self._unseal("meta", "value", key, row[0]) if key in SEALED_META else row[0]
        return json.loads(value)

    def _set(self, key: str, value: Any) -> None:
        if value is None:
            self.db.execute("DELETE FROM meta WHERE key = ?", [key])
        else:
            text = json.dumps(value, ensure_ascii=False)
            self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                            [key, self._seal("meta", "value", key, text) if key in SEALED_META else text])

    @_locked
    def setting(self, name: str, default: Any = None) -> Any:
        """A preference (language …): kept across sign-out."""
        return self._get(SETTING + name, default)

    @_locked
    def set_setting(self, name: str, value: Any) -> None:
        self._set(SETTING + name, value)

    # ---- identity ---------------------------------------------------------------

    @_locked
    def enrol(self, server_url: str, device_id: str, token: str, role: str, scope: Any) -> None:
        """Keep what POST /api/v1/enroll answered. A new device id needs an empty outbox."""
        if not device_id or not token:
            raise StoreError("enrolment needs a device id and a token")
        own = {json.loads(self._unseal("outbox", "body", seq, body))["device_id"]
               for seq, body in self.db.execute("SELECT seq, body FROM outbox")}
        if any(other != device_id for other in own):
            raise StoreError("this phone still holds another device's events: sign out (send, then purge) first")
        with self.db.atomic():
            for key, value in (("server_url", server_url.rstrip("/")), ("device_id", device_id),
                               ("token", token), ("role", role), ("scope", scope)):
                self._set(key, value)

    server_url = _Meta("server_url")
    device_id = _Meta("device_id")
    token = _Meta("token")
    role = _Meta("role")
    scope = _Meta("scope")

    @property
    def signed_in(self) -> bool:
        with self._lock:
            return bool(self._get("device_id") and self._get("token") and self._get("server_url"))

    # ---- sync bookkeeping ---------------------------------------------------------

    pull_cursor = _Meta("pull_cursor", int, 0)
    acked_seq = _Meta("acked_seq", int, 0)

    @property
    def last_seq(self) -> int:
        with self._lock:
            return int(self.db.execute("SELECT coalesce(max(seq), 0) FROM outbox").fetchone()[0])

    last_sync_ok = _Meta("last_sync_ok")
    last_error = _Meta("last_error")
    last_error_at = _Meta("last_error_at")

    @_locked
    def record_sync_success(self, at: str | None = None) -> None:
        with self.db.atomic():
            self._set("last_sync_ok", at or self._now())
            self._set("last_error", None)
            self._set("last_error_at", None)

    @_locked
    def record_sync_error(self, text: str) -> None:
        with self.db.atomic():
            self._set("last_error", str(text))
            self._set("last_error_at", self._now())

    # ---- writing: one event per change, in the change's transaction ---------------

    def _now(self) -> str:
        now = self._clock()
        if now.tzinfo is None:
            now = now.astimezone()
        return now.isoformat(timespec="seconds")

    def _load(self, entity_id: Any) -> Entity | None:
        if not isinstance(entity_id, str):
            return None
        row = self.db.execute("SELECT id, type, hamlet_id, parent_id, body FROM entities WHERE id = ?",
                              [entity_id]).fetchone()
        return None if row is None else self._entity(row)

    def _entity(self, row: Sequence[Any]) -> Entity:
        """(id, type, hamlet_id, parent_id, sealed body) → Entity."""
        return Entity.from_json(row[0], row[1], row[2], row[3],
                                json.loads(self._unseal("entities", "body", row[0], row[4])))

    def _put(self, entity: Entity) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO entities (id, type, hamlet_id, parent_id, search, body) VALUES (?, ?, ?, ?, ?, ?)",
            [entity.id, entity.type, entity.hamlet_id, entity.parent_id,
             self._seal("entities", "search", entity.id, _fold_key(entity)),
             self._seal("entities", "body", entity.id,
                        json.dumps(entity.to_json(), ensure_ascii=False, sort_keys=True))])

    def _carry(self, household_id: str, hamlet_id: str) -> None:
        """A household's move between hamlets takes its people and visits along."""
        self.db.execute("UPDATE entities SET hamlet_id = ? WHERE parent_id = ?", [hamlet_id, household_id])

    @_locked
    def record(self, kind: str, entity: str, data: dict[str, Any]) -> dict[str, Any]:
        """Validate, apply and log one change; InvalidEvent leaves the store untouched."""
        with self.db.atomic():
            return self._record(kind, entity, data)

    def _record(self, kind: str, entity: str, data: dict[str, Any]) -> dict[str, Any]:
        device_id = self._get("device_id")
        if not device_id:
            raise NotSignedIn("enrol this device before recording")
        try:
            data = json.loads(json.dumps(data))  # tuples to lists; only JSON goes on the wire
        except (TypeError, ValueError):
            raise InvalidEvent("bad_type", "data must be JSON: text, numbers, lists, objects") from None
        current = self._load(entity)
        seq = self.last_seq + 1
        event = normalize({"id": uuid7(), "device_id": device_id, "seq": seq, "kind": kind,
                           "entity": entity, "base": current.version if current is not None else None,
                           "at": self._now(), "data": data, "schema": SCHEMA})
        check_event(event)
        outcome = apply(event, None, self._load)  # raises before anything is written
        body = canonical(event)
        self.db.execute(
            "INSERT INTO outbox (seq, id, kind, entity, related, base, at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [seq, event["id"], kind, entity, self._related(event, {}), event["base"], event["at"],
             self._seal("outbox", "body", seq, body)])
        for changed in outcome.changed.values():
            self._put(changed)
        if outcome.moved is not None:
            self._carry(outcome.moved[0], outcome.moved[2])
        return json.loads(body)

    def _related(self, event: dict[str, Any], page: dict[str, str]) -> str | None:
        """The household an event about a person or a visit belongs to (None for others).

        person.added and visit.recorded name it; later events about the same person
        or visit inherit it, so one household's events are found by one index.
        """
        data = event.get("data") if isinstance(event.get("data"), dict) else {}
        if event.get("kind") in ("person.added", "visit.recorded"):
            household = data.get("household_id")
            return household if isinstance(household, str) else None
        if event.get("kind") not in ("person.updated", "review.decided", "conflict.resolved"):
            return None
        entity = event.get("entity")
        if entity in page:
            return page[entity]
        row = self.db.execute("SELECT type, parent_id FROM entities WHERE id = ?", [entity]).fetchone()
        if row is not None:
            return row[1] if row[0] in ("person", "visit") else None
        for table in ("inbox", "outbox"):
            row = self.db.execute(f"SELECT related FROM {table} WHERE entity = ? AND related IS NOT NULL LIMIT 1",
                                  [entity]).fetchone()
            if row is not None:
                return row[0]
        return None

    # ---- the screens' writes ---------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Several writes as one: all of them or none (a visit and the statuses it changed)."""
        with self._lock, self.db.atomic():
            yield

    @_locked
    def add_hamlet(self, commune: str, name: str, kind: str = "thon", valid_from: str | None = None,
                   valid_to: str | None = None) -> str:
        hamlet_id = uuid7()
        valid_from = valid_from or self._clock().date().isoformat()
        self.record("hamlet.created", hamlet_id, {"commune": commune, "name": name, "kind": kind,
                                                  "valid_from": valid_from, "valid_to": valid_to})
        return hamlet_id

    @_locked
    def add_household(self, hamlet_id: str, address: str, consent: str = "unknown") -> str:
        household_id = uuid7()
        self.record("household.created", household_id,
                    {"hamlet_id": hamlet_id, "address": address, "consent": consent})
        return household_id

    @_locked
    def update_household(self, id: str, **changes: Any) -> dict[str, Any] | None:
        """Change address, consent or hamlet_id; unchanged fields are dropped.

        Consent becoming `declined` first renames the household's people "Người 1",
        "Người 2" … (person.updated events), all in one transaction.
        """
        with self.db.atomic():
            current = self._load(id)
            if current is None or current.type != "household":
                raise InvalidEvent("unknown_household", f"household {id} is not known here")
            changes = {k: val for k, val in changes.items() if current.data.get(k) != val}
            if not changes:
                return None
            if changes.get("consent") == "declined":
                self._anonymise(id)
            return self._record("household.updated", id, changes)

    def _anonymise(self, household_id: str) -> None:
        """Before a household is recorded as declined, its people become "Người 1", "Người 2" …"""
        for n, person in enumerate(self._people_of(household_id), start=1):
            if person.data.get("label") != generic_label(n):
                self._record("person.updated", person.id, {"label": generic_label(n)})

    def _people_of(self, household_id: str) -> list[Entity]:
        rows = self.db.execute("SELECT id FROM entities WHERE parent_id = ? AND type = 'person' ORDER BY id",
                               [household_id]).fetchall()
        return [e for e in (self._load(r[0]) for r in rows) if e is not None]

    @_locked
    def add_person(self, household_id: str, label: str | None = None, birth_year: int | None = None,
                   presence: str = "home", card: str = "unknown", vneid: str = "unknown") -> str:
        """A person; no label (or a declined household) gets the next "Người n"."""
        person_id = uuid7()
        if label is None or not label.strip():
            label = generic_label(len(self._people_of(household_id)) + 1)
        self.record("person.added", person_id, {"household_id": household_id, "label": label,
                                                "birth_year": birth_year, "presence": presence,
                                                "card": card, "vneid": vneid})
        return person_id

    @_locked
    def update_person(self, id: str, **changes: Any) -> dict[str, Any] | None:
        """Change label, birth_year, presence, card, vneid or blockers; unchanged fields are dropped."""
        current = self._load(id)
        if current is None or current.type != "person":
            raise InvalidEvent("unknown_person", f"person {id} is not known here")
        changes = {k: list(val) if isinstance(val, (tuple, set, frozenset)) else val
                   for k, val in changes.items()}
        changes = {k: val for k, val in changes.items() if current.data.get(k) != val}
        if not changes:
            return None
        return self.record("person.updated", id, changes)

    @_locked
    def record_visit(self, household_id: str, outcome: str, actions: Iterable[str] = (),
                     people_helped: Iterable[str] = (), note: str = "") -> str:
        visit_id = uuid7()
        self.record("visit.recorded", visit_id, {"household_id": household_id, "outcome": outcome,
                                                 "actions": list(actions), "people_helped": list(people_helped),
                                                 "note": note})
        return visit_id

    @_locked
    def decide_review(self, visit_id: str, decision: str, comment: str = "") -> dict[str, Any]:
        return self.record("review.decided", visit_id, {"decision": decision, "comment": comment})

    @_locked
    def assign(self, household_id: str, device_id: str | None) -> dict[str, Any]:
        return self.record("assignment.set", household_id, {"device_id": device_id})

    @_locked
    def resolve_conflict(self, entity: str, field: str, value: Any) -> dict[str, Any]:
        """Settle a field (a leader's choice); settling consent to declined anonymises first."""
        with self.db.atomic():
            current = self._load(entity)
            if current is not None and current.type == "household" and field == "consent" \
                    and value == "declined" and current.data.get("consent") != "declined":
                self._anonymise(entity)
            return self._record("conflict.resolved", entity, {"field": field, "value": value})

    # ---- state: server order, then this device's own on top -----------------------

    def _units(self, ids: Iterable[str]) -> set[str]:
        """The household (or hamlet) whose events decide each entity's state."""
        units = set()
        for entity_id in ids:
            row = self.db.execute("SELECT type, parent_id FROM entities WHERE id = ?", [entity_id]).fetchone()
            if row is not None:
                units.add(row[1] if row[0] in ("person", "visit") and row[1] else entity_id)
                continue
            related = None
            for table in ("inbox", "outbox"):
                found = self.db.execute(f"SELECT related FROM {table} WHERE entity = ? AND related IS NOT NULL "
                                        "LIMIT 1", [entity_id]).fetchone()
                if found is not None:
                    related = found[0]
                    break
            units.add(related or entity_id)
        return units

    def _with_dependants(self, units: set[str]) -> set[str]:
        """A hamlet's change may invalidate this device's pending events in its households."""
        hamlets = [u for u in units if self.db.execute(
            "SELECT 1 FROM entities WHERE id = ? AND type = 'hamlet'", [u]).fetchone()]
        extra: set[str] = set()
        for chunk in _chunks(hamlets):
            rows = self.db.execute(
                "SELECT DISTINCT coalesce(o.related, o.entity) FROM outbox o "
                "WHERE o.pulled = 0 AND o.status != 'quarantined' AND coalesce(o.related, o.entity) IN "
                f"(SELECT id FROM entities WHERE type = 'household' AND hamlet_id IN ({_marks(chunk)}))",
                chunk).fetchall()
            extra.update(r[0] for r in rows)
        return units | extra

    def _events_of(self, ids: list[str], with_related: bool,
                   problems: dict[tuple[str, int], Any] | None = None) -> list[tuple[tuple[int, int], str, int, dict]]:
        """Events concerning ids: the server's by cursor, then the device's own (unseen, not quarantined) by seq.
        `problems` (if given) receives each event's stored problem, still sealed."""
        out = []
        for chunk in _chunks(ids):
            marks = _marks(chunk)
            where = f"(entity IN ({marks})" + (f" OR related IN ({marks}))" if with_related else ")")
            params = chunk * (2 if with_related else 1)
            for cursor, body, problem in self.db.execute(f"SELECT cursor, body, problem FROM inbox WHERE {where}",
                                                         params):
                out.append(((0, cursor), "inbox", cursor, json.loads(self._unseal("inbox", "body", cursor, body))))
                if problems is not None:
                    problems[("inbox", cursor)] = problem
            for seq, body, problem in self.db.execute(
                    f"SELECT seq, body, problem FROM outbox WHERE {where} AND pulled = 0 "
                    "AND status != 'quarantined'", params):
                out.append(((1, seq), "outbox", seq, json.loads(self._unseal("outbox", "body", seq, body))))
                if problems is not None:
                    problems[("outbox", seq)] = problem
        return out

    def _recompute(self, ids: Iterable[str]) -> None:
        """Rebuild the touched entities from scratch, a household at a time (with its
        people and visits, whose checks read the household as it was at each event)."""
        units = self._with_dependants(self._units(ids))
        ordered = sorted(units)
        for chunk in _chunks(ordered):
            self._replay(set(chunk))

    def _replay(self, units: set[str]) -> None:
        stored: dict[tuple[str, int], Any] = {}
        rows = self._events_of(sorted(units), with_related=True, problems=stored)
        family = set(units) | {event["entity"] for _, _, _, event in rows if isinstance(event.get("entity"), str)}
        for chunk in _chunks(sorted(units)):
            family.update(r[0] for r in self.db.execute(
                f"SELECT id FROM entities WHERE parent_id IN ({_marks(chunk)})", chunk))
        # Hamlets a household named are replayed alongside (their closing date matters), not written.
        context = {event["data"]["hamlet_id"] for _, _, _, event in rows
                   if event.get("kind") in ("household.created", "household.updated")
                   and isinstance(event.get("data"), dict) and isinstance(event["data"].get("hamlet_id"), str)}
        context -= family
        context_rows = self._events_of(sorted(context), with_related=False) if context else []
        timeline = sorted([(order, source, key, event, True) for order, source, key, event in rows]
                          + [(order, source, key, event, False) for order, source, key, event in context_rows],
                          key=lambda item: item[0])
        working: dict[str, Entity | None] = {entity_id: None for entity_id in family | context}
        outside: dict[str, Entity | None] = {}
        # A household that moved here from a hamlet outside this device's comes with its history
        # (docs/sync.md, "Households that move"), which names hamlets this device never held.
        # The server applied those events already: for them, such a hamlet is taken as open.
        named = {event.get("entity") for _, _, _, event in context_rows}
        unheld = {h for h in context if h not in named and self._load(h) is None}
        from_server = [False]

        def lookup(entity_id: str) -> Entity | None:
            if entity_id in working:
                if working[entity_id] is None and entity_id in unheld and from_server[0]:
                    return Entity(entity_id, "hamlet", entity_id, None, {"valid_to": None})
                return working[entity_id]
            if entity_id not in outside:
                outside[entity_id] = self._load(entity_id)
            return outside[entity_id]

        problems: dict[tuple[str, int], str | None] = {}
        for _, source, key, event, own in timeline:
            version = key if source == "inbox" else None
            from_server[0] = source == "inbox"
            try:
                if event.get("kind") not in KINDS or event.get("schema") != SCHEMA:
                    raise InvalidEvent("unknown_kind", f"{event.get('kind')!r} (schema {event.get('schema')!r}) "
                                       "is not known to this app version")
                outcome = apply(event, version, lookup)
            except (InvalidEvent, KeyError, TypeError, ValueError, AttributeError) as exc:
                if own:
                    problems[(source, key)] = getattr(exc, "detail", None) or str(exc) or type(exc).__name__
                continue
            if own:
                problems[(source, key)] = None
            for entity_id, entity in outcome.changed.items():
                if entity_id in working:
                    working[entity_id] = entity
        for entity in working.values():
            if entity is not None and entity.type in ("person", "visit"):
                parent = working.get(entity.parent_id or "")
                if parent is not None:
                    entity.hamlet_id = parent.hamlet_id
        for entity_id in family:
            entity = working[entity_id]
            if entity is None:
                self.db.execute("DELETE FROM entities WHERE id = ?", [entity_id])
            else:
                self._put(entity)
        for (source, key), problem in problems.items():
            before = stored.get((source, key))
            if before is None and problem is None:
                continue
            if before is not None and problem is not None and self._unseal(source, "problem", key, before) == problem:
                continue  # unchanged: no rewrite (a new nonce would change the row for nothing)
            column = "cursor" if source == "inbox" else "seq"
            self.db.execute(f"UPDATE {source} SET problem = ? WHERE {column} = ?",
                            [self._seal_or_null(source, "problem", key, problem), key])

    @_locked
    def recompute_all(self) -> None:
        """Rebuild every entity from the logs (repair, or after an app update)."""
        with self.db.atomic():
            ids = {r[0] for r in self.db.execute("SELECT entity FROM inbox UNION SELECT entity FROM outbox "
                                                 "UNION SELECT id FROM entities")}
            self._recompute(ids)

    # ---- the sync side -------------------------------------------------------------

    @_locked
    def pending(self, limit: int = 500) -> list[dict[str, Any]]:
        """Events the server has not acknowledged, in seq order, exactly as their canonical JSON."""
        rows = self.db.execute("SELECT seq, body FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
                               [self.acked_seq, limit]).fetchall()
        return [json.loads(self._unseal("outbox", "body", seq, body)) for seq, body in rows]

    @_locked
    def pending_count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM outbox WHERE seq > ?", [self.acked_seq]).fetchone()[0])

    @_locked
    def acknowledge(self, acked_seq: int, quarantined: Iterable[dict[str, Any]] = ()) -> None:
        """The server holds every seq up to acked_seq; the quarantined ones leave the state."""
        with self.db.atomic():
            previous = self.acked_seq
            acked = min(int(acked_seq), self.last_seq)
            reasons = {int(q["seq"]): str(q.get("reason") or "") for q in quarantined}
            touched: set[str] = set()
            settled: set[str] = set()  # what the acknowledged events were about
            for seq, status, entity, related in self.db.execute(
                    "SELECT seq, status, entity, related FROM outbox WHERE seq > ? AND seq <= ?",
                    [previous, acked]).fetchall():
                settled.add(related or entity)
                if seq in reasons:
                    if status != "quarantined":
                        touched.add(related or entity)
                    self.db.execute("UPDATE outbox SET status = 'quarantined', reason = ? WHERE seq = ?",
                                    [self._seal("outbox", "reason", seq, reasons[seq]), seq])
                else:
                    if status == "quarantined":  # resent after a gap and accepted this time
                        touched.add(related or entity)
                    self.db.execute("UPDATE outbox SET status = 'acked', reason = NULL WHERE seq = ?", [seq])
            for seq in reasons:  # reported again for an already acknowledged seq
                if seq <= previous:
                    row = self.db.execute("SELECT status, entity, related FROM outbox WHERE seq = ?", [seq]).fetchone()
                    if row is not None and row[0] != "quarantined":
                        touched.add(row[2] or row[1])
                        self.db.execute("UPDATE outbox SET status = 'quarantined', reason = ? WHERE seq = ?",
                                        [self._seal("outbox", "reason", seq, reasons[seq]), seq])
            if acked > previous:
                self._set("acked_seq", acked)
            if touched:
                self._recompute(touched)
            if settled:  # a household kept after it moved away only for these events can go now
                self._drop_moved_away(settled | touched)

    @_locked
    def resend_from(self, expected_seq: int) -> None:
        """The server is missing events from expected_seq on (it lost them): send them again."""
        with self.db.atomic():
            acked = max(0, int(expected_seq) - 1)
            if acked < self.acked_seq:
                self._set("acked_seq", acked)
                self.db.execute("UPDATE outbox SET status = 'pending' WHERE seq > ? AND status = 'acked'", [acked])

    @_locked
    def apply_pulled(self, events: list[dict[str, Any]], next_cursor: int) -> None:
        """Store one page of the server's events, advance the cursor, recompute: one transaction."""
        with self.db.atomic():
            me = self._get("device_id")
            page: dict[str, str] = {}
            touched: set[str] = set()
            moves: set[str] = set()  # households a household.updated of this page may have moved
            for raw in events:
                if not isinstance(raw, dict) or isinstance(raw.get("cursor"), bool) \
                        or not isinstance(raw.get("cursor"), int) or not isinstance(raw.get("entity"), str) \
                        or not isinstance(raw.get("device_id"), str) or not isinstance(raw.get("seq"), int) \
                        or not isinstance(raw.get("kind"), str) or not isinstance(raw.get("id"), str):
                    raise StoreError(f"malformed event from the server: {str(raw)[:200]}")
                event = normalize({key: raw[key] for key in ENVELOPE if key in raw})
                related = self._related(event, page)
                if related is not None:
                    page[event["entity"]] = related
                self.db.execute(
                    "INSERT OR IGNORE INTO inbox (cursor, id, device_id, seq, kind, entity, related, body) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [raw["cursor"], event["id"], event["device_id"], event["seq"], event["kind"],
                     event["entity"], related, self._seal("inbox", "body", raw["cursor"], canonical(event))])
                if me is not None and event["device_id"] == me:
                    self.db.execute("UPDATE outbox SET pulled = 1 WHERE seq = ? AND id = ?",
                                    [event["seq"], event["id"]])
                touched.add(related or event["entity"])
                if event["kind"] == "household.updated" and isinstance(event.get("data"), dict) \
                        and "hamlet_id" in event["data"]:
                    moves.add(event["entity"])
            if int(next_cursor) > self.pull_cursor:
                self._set("pull_cursor", int(next_cursor))
            if touched:
                self._recompute(touched)
            if moves:
                self._drop_moved_away(moves)

    def _drop_moved_away(self, candidates: Iterable[str]) -> None:
        """Forget the households among `candidates` that now stand in a hamlet this device does not
        hold, with their people, visits and the server's events about them (docs/device.md,
        "Households that move away"): they are another team's work now, and data minimisation says
        this phone should not keep them. A household with events of this device not yet
        acknowledged is kept until they are (acknowledge() calls this again): they must reach the
        server first, and the state shows them until then. The outbox keeps this device's own
        events (the receipt is their digest); they stop being replayed on top of the state."""
        acked = self.acked_seq
        for household_id in sorted(set(candidates)):
            row = self.db.execute("SELECT hamlet_id FROM entities WHERE id = ? AND type = 'household'",
                                  [household_id]).fetchone()
            if row is None or self.db.execute("SELECT 1 FROM entities WHERE id = ? AND type = 'hamlet'",
                                              [row[0]]).fetchone() is not None:
                continue  # unknown here, or in one of this device's hamlets
            ids = [household_id] + [r[0] for r in self.db.execute(
                "SELECT id FROM entities WHERE parent_id = ?", [household_id])]
            marks = _marks(ids)
            if self.db.execute(f"SELECT 1 FROM outbox WHERE seq > ? AND (entity IN ({marks}) OR related = ?) LIMIT 1",
                               [acked, *ids, household_id]).fetchone() is not None:
                continue  # pending: kept until acknowledged
            self.db.execute(f"UPDATE outbox SET pulled = 1 WHERE pulled = 0 AND (entity IN ({marks}) OR related = ?)",
                            [*ids, household_id])
            self.db.execute(f"DELETE FROM inbox WHERE entity IN ({marks}) OR related = ?", [*ids, household_id])
            self.db.execute(f"DELETE FROM entities WHERE id IN ({marks})", ids)
            gone = set(ids)
            for key in [k for k in self._search_cache if k[0] in gone]:
                del self._search_cache[key]

    @_locked
    def local_receipt(self) -> dict[str, Any]:
        """What the server's receipt must say: acknowledged events (quarantined too), in seq order."""
        acked = self.acked_seq
        counts: Counter[str] = Counter()
        lines = []
        for seq, kind, body in self.db.execute("SELECT seq, kind, body FROM outbox WHERE seq <= ? ORDER BY seq",
                                               [acked]):
            counts[kind] += 1
            lines.append(self._unseal("outbox", "body", seq, body))
        return {"acked_seq": acked, "counts": dict(sorted(counts.items())), "digest": digest(lines)}

    @_locked
    def quarantined(self) -> list[dict[str, Any]]:
        return [{"seq": seq, "kind": kind, "reason": self._unseal_or_null("outbox", "reason", seq, reason), "at": at,
                 "entity": entity}
                for seq, kind, reason, at, entity in self.db.execute(
                    "SELECT seq, kind, reason, at, entity FROM outbox WHERE status = 'quarantined' ORDER BY seq")]

    @_locked
    def problems(self) -> list[dict[str, Any]]:
        """Events the projection skipped at the last recompute (e.g. a pending change a server event made invalid)."""
        out = [{"source": "outbox", "seq": seq, "kind": kind, "entity": entity,
                "problem": self._unseal("outbox", "problem", seq, problem)}
               for seq, kind, entity, problem in self.db.execute(
                   "SELECT seq, kind, entity, problem FROM outbox WHERE problem IS NOT NULL "
                   "AND status != 'quarantined' AND pulled = 0 ORDER BY seq")]
        out += [{"source": "inbox", "cursor": cursor, "kind": kind, "entity": entity,
                 "problem": self._unseal("inbox", "problem", cursor, problem)}
                for cursor, kind, entity, problem in self.db.execute(
                    "SELECT cursor, kind, entity, problem FROM inbox WHERE problem IS NOT NULL ORDER BY cursor")]
        return out

    @_locked
    def outbox_rows(self) -> list[dict[str, Any]]:
        """This device's events in seq order, decrypted: seq, id, kind, entity, status, reason,
        pulled, problem, and body (the canonical JSON text). Diagnostics and tests."""
        return [{"seq": seq, "id": id, "kind": kind, "entity": entity, "status": status,
                 "reason": self._unseal_or_null("outbox", "reason", seq, reason), "pulled": bool(pulled),
                 "problem": self._unseal_or_null("outbox", "problem", seq, problem),
                 "body": self._unseal("outbox", "body", seq, body)}
                for seq, id, kind, entity, status, reason, pulled, problem, body in self.db.execute(
                    "SELECT seq, id, kind, entity, status, reason, pulled, problem, body FROM outbox ORDER BY seq")]

    @_locked
    def event_times(self, event_ids: Iterable[str]) -> dict[str, str]:
        """When each event was made (its `at`, device time), for the events held here (inbox or outbox)."""
        ids = sorted({i for i in event_ids if isinstance(i, str)})
        out: dict[str, str] = {}
        for chunk in _chunks(ids):
            for cursor, event_id, body in self.db.execute(
                    f"SELECT cursor, id, body FROM inbox WHERE id IN ({_marks(chunk)})", chunk):
                out[event_id] = json.loads(self._unseal("inbox", "body", cursor, body))["at"]
            for event_id, at in self.db.execute(f"SELECT id, at FROM outbox WHERE id IN ({_marks(chunk)})", chunk):
                out.setdefault(event_id, at)
        return out

    @_locked
    def purge_personal(self) -> None:
        """Sign-out or revocation: delete every event, state and identity; keep settings and the server address.
        Then VACUUM and truncate the WAL (no deleted page keeps an old value) and destroy the data key
        (a copy of the file taken earlier cannot be read either); a new key is made for what comes next.
        The caller sends pending events first."""
        with self.db.atomic():
            for table in ("outbox", "inbox", "entities"):
                self.db.execute(f"DELETE FROM {table}")
            keep = [SETTING + "%"]
            self.db.execute(f"DELETE FROM meta WHERE key NOT LIKE ? AND key NOT IN ({_marks(KEPT_ON_PURGE)})",
                            keep + list(KEPT_ON_PURGE))  # the key check goes too: the key is about to
        self._scrub()
        if self._provider is not None:  # raw key bytes belong to the caller: nothing to destroy here
            try:
                self._provider.destroy()
            except KeyUnavailable as exc:
                raise StoreLocked(f"the personal data is deleted, but the data key could not be: {exc}") from exc
            self._cipher = Cipher(self._load_key(self._provider))
        self._forget_decrypted()
        with self.db.atomic():
            self._write_key_check()

    def _forget_decrypted(self) -> None:
        """Drop what the caches hold decrypted (after a purge nothing of it may stay, even in memory)."""
        self._search_cache.clear()
        self._summary_cache.clear()
        self._day_cache.clear()

    def _write_key_check(self) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                        [KEY_CHECK, self._cipher.seal(KEY_CHECK_VALUE, place("meta", "value", KEY_CHECK))])

    # ---- reads for the screens (plain dicts) ---------------------------------------------
    #
    # Bodies and search keys are ciphertext, so filters on them run here in Python after
    # decryption, never in SQL. The clear columns (type, hamlet_id, parent_id, id) still
    # narrow every query to the hamlet or household being shown first.

    def _year(self) -> int:
        return self._clock().astimezone(VIETNAM).year

    def _entities(self, sql: str, params: Sequence[Any] = ()) -> list[Entity]:
        return [self._entity(r)
                for r in self.db.execute(f"SELECT id, type, hamlet_id, parent_id, body FROM entities {sql}", params)]

    def _by_ids(self, ids: Sequence[str]) -> dict[str, Entity]:
        out: dict[str, Entity] = {}
        for chunk in _chunks(ids):
            for e in self._entities(f"WHERE id IN ({_marks(chunk)})", chunk):
                out[e.id] = e
        return out

    def _search_rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[str, str | None, bytes, str]]:
        """(id, parent_id, sealed search key, folded search key) of the entities selected: only the
        small sealed keys are read (the entities_search index covers them) and opened, from the cache."""
        cache = self._search_cache
        out = []
        for id, parent, search in self.db.execute(f"SELECT id, parent_id, search FROM entities {sql}",
                                                  params).fetchall():
            key = cache.get((id, search))
            if key is None:
                key = self._unseal("entities", "search", id, search)
                if len(cache) >= SEARCH_CACHE:
                    cache.clear()
                cache[(id, search)] = key
            out.append((id, parent, search, key))
        return out

    def _search_keys(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[str, str | None, str]]:
        """(id, parent_id, folded search key) of the entities selected: only the small sealed keys are opened."""
        return [(id, parent, key) for id, parent, _, key in self._search_rows(sql, params)]

    @staticmethod
    def _plain(entity: Entity) -> dict[str, Any]:
        return {"id": entity.id, **entity.data, "hamlet_id": entity.hamlet_id, "version": entity.version}

    @_locked
    def hamlets(self) -> list[dict[str, Any]]:
        """Hamlets known here, by name, with their household and visited counts."""
        counts: dict[str | None, list[int]] = {}
        for h in self._entities("WHERE type = 'household'"):
            count = counts.setdefault(h.hamlet_id, [0, 0])
            count[0] += 1
            count[1] += bool(h.data.get("visits"))
        out = []
        hamlets = self._entities("WHERE type = 'hamlet'")
        for h in sorted(hamlets, key=lambda h: (_fold_key(h), h.id)):
            households, visited = counts.get(h.id, (0, 0))
            out.append({**self._plain(h), "households": households, "visited": visited})
        return out

    def _household_rows(self, households: list[Entity]) -> list[dict[str, Any]]:
        year = self._year()
        ids = [h.id for h in households]
        people: dict[str, list[Entity]] = {}
        for chunk in _chunks(ids):
            for p in self._entities(f"WHERE type = 'person' AND parent_id IN ({_marks(chunk)}) ORDER BY id", chunk):
                people.setdefault(p.parent_id or "", []).append(p)
        # Only a household's latest visit decides `returned`: open those, not every visit.
        latest = self._by_ids([v_id for h in households if isinstance(v_id := h.data.get("last_visit_id"), str)])
        returned = {v_id for v_id, visit in latest.items()
                    if visit.type == "visit" and visit.data.get("review") == "returned"}
        rows = []
        for h in households:
            members = people.get(h.id, [])
            needs = sorted({reason for p in members for reason in follow_up(p.data, year)},
                           key=FOLLOW_UP.index)
            rows.append({**self._plain(h), "people": len(members),
                         "people_here": sum(p.data.get("presence") in v.LIVING_HERE for p in members),
                         "follow_up": needs, "returned": h.data.get("last_visit_id") in returned})
        return rows

    @staticmethod
    def _check_filter(filter: str | None) -> None:
        if filter is not None and filter not in FILTERS:
            raise ValueError(f"filter must be one of {', '.join(FILTERS)}")

    @staticmethod
    def _in_hamlet(type: str, hamlet_id: str | None) -> tuple[str, list[Any]]:
        """WHERE for one type in a hamlet, or in every hamlet this device holds (hamlet_id None)."""
        if hamlet_id is not None:
            return f"WHERE type = '{type}' AND hamlet_id = ?", [hamlet_id]
        # not a household kept after it moved away (_drop_moved_away)
        return f"WHERE type = '{type}' AND hamlet_id IN (SELECT id FROM entities WHERE type = 'hamlet')", []

    def _matching(self, hamlet_id: str | None, search: str) -> dict[str, tuple[bytes, str]]:
        """The households whose address or a person's label holds every folded word of `search`:
        id → (sealed search key, folded address). Only the cached search keys are opened."""
        found = {id: (sealed, key) for id, _, sealed, key in self._search_rows(*self._in_hamlet("household", hamlet_id))}
        words = fold(search).split()
        if not words:
            return found
        texts: dict[str, list[str]] = {id: [key] for id, (_, key) in found.items()}
        people_sql, people_params = "WHERE type = 'person'", []
        if hamlet_id is not None:  # people carry their household's hamlet (projection, _carry, _replay)
            people_sql += " AND hamlet_id = ?"
            people_params.append(hamlet_id)
        for _, parent, key in self._search_keys(people_sql, people_params):
            if parent in texts:
                texts[parent].append(key)
        # A word has no whitespace, so it is in one of the texts iff it is in them joined by "\n".
        joined = {id: "\n".join(parts) for id, parts in texts.items()}
        return {id: value for id, value in found.items() if all(word in joined[id] for word in words)}

    @_locked
    def households(self, hamlet_id: str | None = None, search: str = "",
                   filter: str | None = None) -> list[dict[str, Any]]:
        """Households by folded address. search: every folded word appears in the address or a
        person's label. filter: not_visited, revisit (last outcome not_home), follow_up
        (see follow_up()), returned (the last visit was returned by the leader).
        hamlet_id None: every hamlet this device holds.

        The folded keys are encrypted: the hamlet's households' and people's keys are
        decrypted (cached by ciphertext) and matched here. The whole call also decrypts and
        parses each household it returns: a screen wants households_page() instead."""
        self._check_filter(filter)
        keys = {id: key for id, (_, key) in self._matching(hamlet_id, search).items()}
        order = sorted(keys, key=lambda id: (keys[id], id))
        loaded = self._by_ids(order)
        households = [loaded[id] for id in order if id in loaded]
        if filter == "not_visited":
            households = [h for h in households if h.data.get("visits") == 0]
        elif filter == "revisit":
            households = [h for h in households if h.data.get("last_outcome") == "not_home"]
        rows = self._household_rows(households)
        if filter == "follow_up":
            rows = [r for r in rows if r["follow_up"]]
        elif filter == "returned":
            rows = [r for r in rows if r["returned"]]
        return rows

    @_locked
    def households_page(self, hamlet_id: str | None = None, search: str = "", filter: str | None = None,
                        offset: int = 0, limit: int = 100) -> tuple[list[dict[str, Any]], int]:
        """One page of the households screen: (rows offset … offset+limit, how many match in all).

        The same rows as households(hamlet_id, search, filter) sorted by address_order of the
        folded address (the screen's "Số 2" before "Số 10"; ties as households() orders them),
        but only the page's households, people and latest visits are decrypted and parsed:
        the order and the total come from the cached search keys, a filter from the cached
        summaries (_summaries)."""
        self._check_filter(filter)
        if offset < 0 or limit < 0:
            raise ValueError("offset and limit must be 0 or more")
        found = self._matching(hamlet_id, search)
        order = sorted(found, key=lambda id: (address_order(found[id][1]), found[id][1], id))
        if filter is not None:
            summaries = self._summaries({id: sealed for id, (sealed, _) in found.items()}, hamlet_id)
            order = [id for id in order if _passes(summaries[id], filter)]
        page = order[offset:offset + limit]
        loaded = self._by_ids(page)
        return self._household_rows([loaded[id] for id in page if id in loaded]), len(order)

    def _children(self, hamlet_id: str | None) -> dict[str, list[tuple[str, bytes]]]:
        """household id → its people's and visits' (id, sealed search key), from the covering index."""
        out: dict[str, list[tuple[str, bytes]]] = {}
        sql, params = "WHERE type IN ('person', 'visit')", []
        if hamlet_id is not None:  # people and visits carry their household's hamlet (_carry, _replay)
            sql += " AND hamlet_id = ?"
            params.append(hamlet_id)
        for parent, id, sealed in self.db.execute(f"SELECT parent_id, id, search FROM entities {sql}", params):
            out.setdefault(parent, []).append((id, sealed))
        return out

    def _summaries(self, households: dict[str, bytes], hamlet_id: str | None) -> dict[str, Summary]:
        """id → Summary for the households given (id → sealed search key), from memory when nothing
        they depend on changed.

        Every write of an entity (_put: record, recompute on pull, anonymise …) seals its
        search key again with a fresh nonce, and a deletion removes it, so the household's
        sealed key plus its people's and visits' (id, sealed key) tell whether its body,
        people or visits changed, with no body read; follow_up() depends on the year too.
        A household whose latest visit is not among its visits is never kept (nothing
        would tell when that visit changes)."""
        year = self._year()
        children = self._children(hamlet_id)
        out: dict[str, Summary] = {}
        stale: dict[str, tuple[Any, ...]] = {}
        for id, sealed in households.items():
            mark = (year, sealed, tuple(sorted(children.get(id, ()))))
            cached = self._summary_cache.get(id)
            if cached is not None and cached[0] == mark:
                out[id] = cached[1]
            else:
                stale[id] = mark
        if stale:
            loaded = self._by_ids(list(stale))
            for row in self._household_rows([loaded[id] for id in stale if id in loaded]):
                out[row["id"]] = summary = Summary(row.get("visits"), row.get("last_outcome"),
                                                   bool(row["follow_up"]), row["returned"])
                last = row.get("last_visit_id")
                if last is None or any(child == last for child, _ in stale[row["id"]][2]):
                    if len(self._summary_cache) >= SUMMARY_CACHE:
                        self._summary_cache.clear()
                    self._summary_cache[row["id"]] = (stale[row["id"]], summary)
        return out

    def _visit_days(self, hamlet_id: str | None) -> list[str | None]:
        """The local day of each visit (of a hamlet, or all), opened only when its sealed key changed."""
        sql, params = "WHERE type = 'visit'", []
        if hamlet_id is not None:
            sql += " AND hamlet_id = ?"
            params.append(hamlet_id)
        rows = self.db.execute(f"SELECT id, search FROM entities {sql}", params).fetchall()
        cache = self._day_cache
        missing = [id for id, sealed in rows if (id, sealed) not in cache]
        if missing:
            if len(cache) + len(missing) >= SUMMARY_CACHE:
                cache.clear()
                missing = [id for id, _ in rows]
            loaded = self._by_ids(missing)
            for id, sealed in rows:
                if id in loaded:
                    at = loaded[id].data.get("at")
                    cache[(id, sealed)] = local_day(at) if at else None
        return [cache.get((id, sealed)) for id, sealed in rows]

    @_locked
    def household(self, id: str) -> dict[str, Any] | None:
        entity = self._load(id)
        if entity is None or entity.type != "household":
            return None
        return self._household_rows([entity])[0]

    @_locked
    def people(self, household_id: str) -> list[dict[str, Any]]:
        """A household's people in the order they were added, with their follow-up needs."""
        year = self._year()
        return [{**self._plain(p), "follow_up": follow_up(p.data, year)}
                for p in self._entities("WHERE type = 'person' AND parent_id = ? ORDER BY id", [household_id])]

    @_locked
    def person(self, id: str) -> dict[str, Any] | None:
        entity = self._load(id)
        if entity is None or entity.type != "person":
            return None
        return {**self._plain(entity), "follow_up": follow_up(entity.data, self._year())}

    @_locked
    def visits(self, household_id: str) -> list[dict[str, Any]]:
        """A household's visits, newest first."""
        rows = [self._plain(e) for e in self._entities("WHERE type = 'visit' AND parent_id = ?", [household_id])]
        return sorted(rows, key=lambda r: (parse_at(r["at"]), r["id"]), reverse=True)

    @_locked
    def visit(self, id: str) -> dict[str, Any] | None:
        entity = self._load(id)
        if entity is None or entity.type != "visit":
            return None
        return self._plain(entity)

    @_locked
    def review_queue(self, hamlet_id: str | None = None) -> list[dict[str, Any]]:
        """Visits with no decision yet, oldest first, with their household's address."""
        sql = "WHERE type = 'visit'"
        params: list[Any] = []
        if hamlet_id is not None:
            sql += " AND hamlet_id = ?"
            params.append(hamlet_id)
        out = []
        for visit in self._entities(sql, params):
            if visit.data.get("review") is not None:
                continue
            household = self._load(visit.parent_id)
            out.append({**self._plain(visit),
                        "address": household.data.get("address") if household is not None else None})
        return sorted(out, key=lambda r: (parse_at(r["at"]), r["id"]))

    @_locked
    def counts(self, hamlet_id: str | None = None) -> dict[str, int]:
        """The home screen: households, visited, left, revisits due, follow-up, today's visits, pending events.

        From the cached summaries and visit days: only what changed since the last call is opened."""
        where, params = self._in_hamlet("household", hamlet_id)
        sealed = dict(self.db.execute(f"SELECT id, search FROM entities {where}", params).fetchall())
        summaries = list(self._summaries(sealed, hamlet_id).values())
        today = self._clock().astimezone(VIETNAM).date().isoformat()
        visited = sum(1 for s in summaries if s.visits)
        return {
            "households": len(summaries),
            "visited": visited,
            "left": len(summaries) - visited,
            "revisit": sum(1 for s in summaries if s.last_outcome == "not_home"),
            "follow_up": sum(1 for s in summaries if s.follow_up),
            "returned": sum(1 for s in summaries if s.returned),
            "today": sum(1 for day in self._visit_days(hamlet_id) if day == today),
            "pending": self.pending_count(),
            "quarantined": int(self.db.execute(
                "SELECT count(*) FROM outbox WHERE status = 'quarantined'").fetchone()[0]),
        }

    @_locked
    def state(self) -> dict[str, dict[str, Any]]:
        """Every entity as {id: {type, hamlet_id, parent_id, data}}: what devices and the server must agree on."""
        return {e.id: {"type": e.type, "hamlet_id": e.hamlet_id, "parent_id": e.parent_id, "data": e.data}
                for e in self._entities("ORDER BY id")}

    @_locked
    def state_digest(self) -> str:
        """A deterministic dump of state(): sorted keys, no spaces, UTF-8 (compare with ==)."""
        return json.dumps(self.state(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)

