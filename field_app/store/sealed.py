"""The sealed database: one SQLite file, its connection and lock, and the cipher of its personal columns.

Personal data is encrypted at rest (schema 2): every column that can hold a label, an
address, a note, a comment or a credential holds AES-256-GCM ciphertext bound to its
table, column and row (field_app/crypto.py), under a 32-byte data key kept outside the
file (field_app/keys.py). Ids, kinds, seqs, cursors, statuses and hamlet ids stay clear:
queries need them and they name nobody.

The store is used from the UI and from the background sync thread: one connection, and
every public method of the store's parts holds this one re-entrant lock (`locked`).
"""
from __future__ import annotations

import functools
import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Concatenate, ParamSpec, Protocol, TypeVar

import sqlite_utils

from ..crypto import Cipher, DecryptionFailed, place
from ..keys import KeyProvider, KeyUnavailable
from .errors import StoreError, StoreLocked, Tampered, WrongKey
from .schema import ENCRYPTED_FROM, KEY_CHECK, KEY_CHECK_VALUE, migrate
from .sql import marks

log = logging.getLogger(__name__)

DB_NAME = "gocua.db"
# meta values that are encrypted: a credential, and free text that may quote the server.
# The rest of meta (device id, role, scope = hamlet ids, seqs, cursors, times, settings)
# names nobody; settings and server_url must also outlive the key, which a purge destroys.
SEALED_META = frozenset({"token", "sign_key", "box_key", "last_error", "previous_token", "holder_name",
                         "device_names"})  # holder_name, device_names: people's names


def file_for(path: str | os.PathLike[str]) -> Path:
    """The database file for `path`: itself if it is (or is named like) a database file, else path/gocua.db."""
    path = Path(path)
    if path.suffix in (".db", ".sqlite", ".sqlite3") or path.is_file():
        return path
    return path / DB_NAME


class SealedDatabase:
    """Opens (and migrates) the file under a data key.

    `key` is the 32-byte data key itself, or a KeyProvider (field_app.keys) that keeps it;
    a purge can destroy only the latter (`new_key`). Raises StoreLocked (the provider
    cannot give the key) or WrongKey (the key does not open this file) before anything is
    written.
    """

    def __init__(self, path: str | os.PathLike[str], key: bytes | KeyProvider) -> None:
        if isinstance(key, (bytes, bytearray)):
            self.provider: KeyProvider | None = None
            raw = bytes(key)
        elif isinstance(key, KeyProvider):
            self.provider = key
            raw = _load_key(key)
        else:
            raise TypeError("Store needs key=: the 32-byte data key or a field_app.keys.KeyProvider")
        self._cipher = Cipher(raw)
        self.path = file_for(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
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
                self.scrub()  # the clear text the migration replaced leaves the file and the WAL
        except BaseException:
            conn.close()
            raise

    def close(self) -> None:
        with self.lock:
            self.db.close()

    # ---- single values (see field_app/crypto.py) ------------------------------------------

    def seal(self, table: str, column: str, row: str | int, text: str) -> bytes:
        return self._cipher.seal(text.encode("utf-8"), place(table, column, row))

    def seal_or_null(self, table: str, column: str, row: str | int, text: str | None) -> bytes | None:
        return None if text is None else self.seal(table, column, row, text)

    def unseal(self, table: str, column: str, row: str | int, sealed: bytes) -> str:
        try:
            return self._cipher.open(sealed, place(table, column, row)).decode("utf-8")
        except DecryptionFailed as exc:
            raise Tampered(f"{table}.{column} of {row} does not decrypt ({exc}): "
                           "the file was changed outside the app or is damaged") from None

    def unseal_or_null(self, table: str, column: str, row: str | int, sealed: bytes | None) -> str | None:
        return None if sealed is None else self.unseal(table, column, row, sealed)

    # ---- the key ---------------------------------------------------------------------------

    def _check_key(self) -> None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [KEY_CHECK]).fetchone()
        if row is None:
            if self._holds_sealed_data():
                raise StoreError(f"{self.path} is damaged: it holds encrypted data but no key check")
            with self.db.atomic():  # a purge stopped between destroying the old key and checking the new one
                self.write_key_check()
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
        return tables or self.db.execute(f"SELECT 1 FROM meta WHERE key IN ({marks(sorted(SEALED_META))}) LIMIT 1",
                                         sorted(SEALED_META)).fetchone() is not None

    def write_key_check(self) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                        [KEY_CHECK, self._cipher.seal(KEY_CHECK_VALUE, place("meta", "value", KEY_CHECK))])

    def new_key(self) -> None:
        """After a purge: destroy the data key and make a new one, so a copy of the file taken
        earlier cannot be read either. Raw key bytes belong to the caller: nothing to destroy."""
        if self.provider is not None:
            try:
                self.provider.destroy()
            except KeyUnavailable as exc:
                raise StoreLocked(f"the personal data is deleted, but the data key could not be: {exc}") from exc
            self._cipher = Cipher(_load_key(self.provider))
        with self.db.atomic():
            self.write_key_check()

    def scrub(self) -> None:
        """VACUUM (rewrite the file without free pages) and truncate the WAL: deleted data leaves the disk.

        Flash storage may still keep old blocks below the file system; that is what the
        encryption and, on a purge, the key's destruction are for."""
        try:
            self.db.execute("VACUUM")
        except sqlite3.OperationalError as exc:  # disk full: secure_delete has zeroed the freed pages already
            log.warning("VACUUM failed (%s); freed pages were zeroed, the file keeps its size", exc)
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _load_key(provider: KeyProvider) -> bytes:
    try:
        return provider.load_or_create()
    except KeyUnavailable as exc:
        raise StoreLocked(f"the data key is not available: {exc}") from exc


# ---- one lock for every public method of the store's parts ------------------------------------

class Part(Protocol):
    sealed: SealedDatabase


P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S", bound=Part)


def locked(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """Run the method under the database's lock (the UI and the sync thread share one connection)."""
    def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self.sealed.lock:
            return method(self, *args, **kwargs)
    functools.update_wrapper(wrapper, method)
    return wrapper
