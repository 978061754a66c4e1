"""The `entities` table: the current state, one sealed body and one sealed search key a row.

The search key is the folded address / label / hamlet name / note (campaign.text.fold).
There is no clear-text search key in the file: the keys of what is listed are decrypted
here and remembered under their ciphertext (see `search_rows`).
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from campaign.projection import Entity
from campaign.text import fold

from .sealed import SealedDatabase
from .sql import chunks, marks

SEARCH_CACHE = 50_000  # decrypted search keys kept in memory (about 100 bytes each)
SNAPSHOTS = 64  # the lists of search_rows kept until the next write (they share the cache's rows)
SEARCHED_FIELD = {"household": "address", "person": "label", "hamlet": "name", "visit": "note"}


def fold_key(entity: Entity) -> str:
    """An entity's folded search key (its address, label, name or note)."""
    field = SEARCHED_FIELD.get(entity.type)
    value = entity.data.get(field) if field else None
    return fold(value) if isinstance(value, str) else ""


class SearchRow(NamedTuple):
    id: str
    parent_id: str | None
    sealed: bytes  # the search key as stored: a new ciphertext on every write of the row
    key: str  # the folded search key


class Entities:
    """Reads and writes of the state table. Callers hold the database's lock."""

    def __init__(self, sealed: SealedDatabase) -> None:
        self.sealed = sealed
        # (entity id, sealed search key) → folded key. Keyed by the ciphertext itself: every
        # rewrite seals with a new nonce, so a changed row (by this connection or another
        # process) misses and is decrypted again; a ciphertext moved to another row misses too.
        self.search_cache: dict[tuple[str, bytes], SearchRow] = {}
        # (sql, params) → the rows search_rows gave, while the file is as it was then (`_version`):
        # a keystroke reads and opens nothing when nothing was written since the last one
        # (devtools/bench/device: fetching the 46,534 keys of 10,000 households was 70 % of the store's
        # share of a keystroke).
        self.snapshots: dict[tuple[str, tuple[Any, ...]], list[SearchRow]] = {}
        self.snapshot_version: tuple[int, int] | None = None

    def load(self, entity_id: Any) -> Entity | None:
        if not isinstance(entity_id, str):
            return None
        row = self.sealed.db.execute("SELECT id, type, hamlet_id, parent_id, body FROM entities WHERE id = ?",
                                     [entity_id]).fetchone()
        return None if row is None else self._entity(row)

    def select(self, sql: str, params: Sequence[Any] = ()) -> list[Entity]:
        """The entities of `SELECT … FROM entities {sql}` (a WHERE and an ORDER BY)."""
        return [self._entity(r) for r in
                self.sealed.db.execute(f"SELECT id, type, hamlet_id, parent_id, body FROM entities {sql}", params)]

    def by_ids(self, ids: Sequence[str]) -> dict[str, Entity]:
        out: dict[str, Entity] = {}
        for chunk in chunks(ids):
            for e in self.select(f"WHERE id IN ({marks(chunk)})", chunk):
                out[e.id] = e
        return out

    def _entity(self, row: Sequence[Any]) -> Entity:
        """(id, type, hamlet_id, parent_id, sealed body) → Entity."""
        return Entity.from_json(row[0], row[1], row[2], row[3],
                                json.loads(self.sealed.unseal("entities", "body", row[0], row[4])))

    def put(self, entity: Entity) -> None:
        """Write an entity: its body and search key sealed with fresh nonces (the read models'
        caches tell a change by that)."""
        self.sealed.db.execute(
            "INSERT OR REPLACE INTO entities (id, type, hamlet_id, parent_id, search, body) VALUES (?, ?, ?, ?, ?, ?)",
            [entity.id, entity.type, entity.hamlet_id, entity.parent_id,
             self.sealed.seal("entities", "search", entity.id, fold_key(entity)),
             self.sealed.seal("entities", "body", entity.id,
                              json.dumps(entity.to_json(), ensure_ascii=False, sort_keys=True))])

    def delete(self, ids: Iterable[str]) -> None:
        """Delete entities and forget their decrypted search keys."""
        gone = sorted(set(ids))
        for chunk in chunks(gone):
            self.sealed.db.execute(f"DELETE FROM entities WHERE id IN ({marks(chunk)})", chunk)
        dropped = set(gone)
        for key in [k for k in self.search_cache if k[0] in dropped]:
            del self.search_cache[key]

    def search_rows(self, sql: str, params: Sequence[Any] = ()) -> list[SearchRow]:
        """The search keys of `SELECT … FROM entities {sql}`: only the small sealed keys are read
        (the entities_search index covers them) and opened, from the cache when seen before; the
        same rows again, unread, while nothing was written to the file. The caller must not change
        the list."""
        version = self._version()
        if version != self.snapshot_version:
            self.snapshots.clear()
            self.snapshot_version = version
        asked = (sql, tuple(params))
        if version is not None and (rows := self.snapshots.get(asked)) is not None:
            return rows
        cache = self.search_cache
        out = []
        for id, parent, search in self.sealed.db.execute(f"SELECT id, parent_id, search FROM entities {sql}",
                                                         params).fetchall():
            row = cache.get((id, search))
            if row is None or row.parent_id != parent:
                row = SearchRow(id, parent, search, self.sealed.unseal("entities", "search", id, search))
                if len(cache) >= SEARCH_CACHE:
                    cache.clear()
                cache[(id, search)] = row
            out.append(row)
        if version is not None:
            if len(self.snapshots) >= SNAPSHOTS:
                self.snapshots.clear()
            self.snapshots[asked] = out
        return out

    def _version(self) -> tuple[int, int] | None:
        """What tells a change of the file since the last read: the rows this connection changed
        (total_changes: every write, a rolled-back one too) and PRAGMA data_version (another
        connection's commits). None inside a transaction: what it wrote may yet be rolled back."""
        conn = self.sealed.db.conn
        if conn.in_transaction:
            return None
        return conn.total_changes, conn.execute("PRAGMA data_version").fetchone()[0]

    def forget_decrypted(self) -> None:
        self.search_cache.clear()
        self.snapshots.clear()
        self.snapshot_version = None
