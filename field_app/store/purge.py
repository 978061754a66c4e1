"""The purge: every event, the state and the identity leave the file, then the key is destroyed.

Only the settings and the server address stay. The caller sends pending events first:
field_app/signout.py is the one way the app signs out.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from .meta import Meta
from .sealed import SealedDatabase


def purge_personal(sealed: SealedDatabase, meta: Meta, forget: Iterable[Callable[[], None]]) -> None:
    """Delete the rows, drop what memory holds decrypted (`forget`), VACUUM and truncate the WAL
    (no freed page keeps an old value), then destroy the data key and make a new one (a copy of
    the file taken earlier cannot be read either)."""
    with sealed.lock:
        with sealed.db.atomic():
            for table in ("outbox", "inbox", "entities"):
                sealed.db.execute(f"DELETE FROM {table}")
            meta.forget_all_but_settings()
        for drop in forget:
            drop()
        sealed.scrub()
        sealed.new_key()
