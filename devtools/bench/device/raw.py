"""The raw limit: the store's rows, decrypted, in plain sqlite3, and the cheapest SQL for each question.

The raw copy is read from the store's file and decrypted with the key, so it
holds the very bytes the store keeps: this ties the bench to the store's schema
(field_app/store/schema.py), on purpose: a schema change must revisit the bench.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from campaign.search import Query
from campaign.text import fold
from field_app.crypto import Cipher, place

PAGE = 100  # field_app/views/households.py PAGE: rows the list shows before "Xem thêm"

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


def connect(path: Path) -> sqlite3.Connection:
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
    for _id, type, _hamlet, parent, key, _words, _body in rows:
        if type == "person" and parent:
            labels.setdefault(parent, []).append(key)
    return [(id, type, hamlet, parent, key, "\n".join([key, *labels.get(id, [])]) if type == "household" else None,
             body) for id, type, hamlet, parent, key, _words, body in rows]


def raw_copy(clear: Clear, path: Path) -> sqlite3.Connection:
    """The store's rows, decrypted, in a plain database with the store's indexes (ANALYZEd, so the
    raw side gets SQLite's best plan: it is the limit, not a strawman)."""
    conn = connect(path)
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


# ---- what the households screen asks, from clear tables ------------------------------

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


def one_address(conn: sqlite3.Connection, hamlet: str, addresses: list[str]) -> str:
    """One of a hamlet's addresses, typed, that finds exactly one household ("so 12 ngo 7 pho le loi"
    may also find "so 112 …": a word matches inside a longer one), looked up in the raw copy."""
    typed = [" ".join(fold(address).replace(",", " ").split()) for address in addresses]
    for query in typed[len(typed) // 2:] + typed[:len(typed) // 2]:
        if len(raw_search(conn, hamlet, query)) == 1:
            return query
    return typed[0]


def raw_search(conn: sqlite3.Connection, hamlet: str, query: str) -> list[Any]:
    """A LIKE per folded word over the clear `words` column (address, then people's labels, one a
    line), then campaign.search's rules on the candidates (one person's name, or the address as a
    phrase), the matches' bodies by address. The hamlet's name is left out: no query here is one."""
    q = Query.of(query)
    likes = "".join(" AND words LIKE ?" for _ in q.words)
    rows = conn.execute(f"SELECT id, body, words FROM entities WHERE type = 'household' AND hamlet_id = ?{likes} "
                        "ORDER BY fold", [hamlet, *(f"%{w}%" for w in q.words)]).fetchall()
    if not q:
        return [(id, body) for id, body, _ in rows]
    out = []
    for id, body, words in rows:
        address, *labels = words.split("\n")
        if q.phrase(address) or any(q.name(label) is not None for label in labels):
            out.append((id, body))
    return out
