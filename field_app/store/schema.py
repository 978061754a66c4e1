"""The device file's schema: one migration function per version, applied in order on open.

The file's PRAGMA user_version says how many ran. A new version is one more function
appended to MIGRATIONS, never an edit of an old one. Each step gets the connection and
the store's cipher (for steps that rewrite personal columns) and runs in one transaction
with its version number, so a failed step leaves the file at the previous version.
See docs/device.md ("The file", "Tables").
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlite_utils

from ..crypto import Cipher, place
from .errors import StoreError
from .sql import marks

KEY_CHECK = "key_check"  # meta: a known value sealed with the data key, to tell a wrong key at open
KEY_CHECK_VALUE = b"gocua data key check"


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
                  f"VALUES ({marks(columns)})")
        last: Any = None
        while True:
            where, params = ("", []) if last is None else (f"WHERE {key} > ?", [last])
            rows = db.execute(f"{select} {where} ORDER BY {key} LIMIT 500", params).fetchall()
            if not rows:
                return
            for row in rows:
                values = dict(zip(columns, row, strict=True))
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

