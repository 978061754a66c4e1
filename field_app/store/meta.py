"""The `meta` table: settings, the device's identity and its sync bookkeeping, as JSON values.

`token`, `previous_token` and `last_error` are sealed (SEALED_META); the rest names nobody. Settings
(`setting:*`) and the server address outlive a purge (see purge.py).
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar, overload

from .errors import StoreError
from .sealed import SEALED_META, SealedDatabase, locked
from .sql import marks

SETTING = "setting:"  # meta keys that survive a purge: language, theme …
KEPT_ON_PURGE = ("server_url",)


class Meta:
    def __init__(self, sealed: SealedDatabase) -> None:
        self.sealed = sealed

    def get(self, key: str, default: Any = None) -> Any:
        """A value as stored (the caller holds the lock, or takes one read)."""
        row = self.sealed.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        if row is None:
            return default
        value = self.sealed.unseal("meta", "value", key, row[0]) if key in SEALED_META else row[0]
        return json.loads(value)

    def set(self, key: str, value: Any) -> None:
        """None deletes the key."""
        db = self.sealed.db
        if value is None:
            db.execute("DELETE FROM meta WHERE key = ?", [key])
        else:
            text = json.dumps(value, ensure_ascii=False)
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                       [key, self.sealed.seal("meta", "value", key, text) if key in SEALED_META else text])

    @locked
    def setting(self, name: str, default: Any = None) -> Any:
        """A preference (language …): kept across sign-out."""
        return self.get(SETTING + name, default)

    @locked
    def set_setting(self, name: str, value: Any) -> None:
        self.set(SETTING + name, value)

    @locked
    def enrol(self, server_url: str, device_id: str, token: str, role: str, scope: Any,
              name: str | None = None) -> None:
        """Keep what POST /api/v1/enroll answered. A new device id needs an empty outbox."""
        if not device_id or not token:
            raise StoreError("enrolment needs a device id and a token")
        db = self.sealed.db
        own = {json.loads(self.sealed.unseal("outbox", "body", seq, body))["device_id"]
               for seq, body in db.execute("SELECT seq, body FROM outbox")}
        if any(other != device_id for other in own):
            raise StoreError("this phone still holds another device's events: sign out (send, then purge) first")
        with db.atomic():
            for key, value in (("server_url", server_url.rstrip("/")), ("device_id", device_id),
                               ("token", token), ("role", role), ("scope", scope), ("previous_token", None),
                               ("holder_name", name)):
                self.set(key, value)

    @locked
    def keep_sign_key(self, private: str, registered: bool) -> None:
        with self.sealed.db.atomic():
            self.set("sign_key", private)
            self.set("sign_key_registered", registered)

    @locked
    def keep_box_key(self, private: str, registered: bool) -> None:
        with self.sealed.db.atomic():
            self.set("box_key", private)
            self.set("box_key_registered", registered)

    @locked
    def keep_server_keys(self, keys: dict[str, str]) -> None:
        self.set("server_keys", keys)

    @locked
    def keep_previous_token(self, token: str | None) -> None:
        """After a purge whose sign-out the server did not hear: the token it still honours,
        sealed under the new key, for the next enrolment to send (and so revoke)."""
        self.set("previous_token", token)

    @locked
    def keep_team_settings(self, settings: dict[str, int]) -> None:
        """What the server's last pull page said of the team's settings (campaign/team_settings.py)."""
        self.set("team_settings", settings)

    @locked
    def device_names(self) -> dict[str, str]:
        """Device id -> the name of who holds it, as the last team lists told (sealed: people's names)."""
        return dict(self.get("device_names") or {})

    @locked
    def remember_device_names(self, names: dict[str, str]) -> None:
        """Add what a team list told: the review queue names volunteers offline after it."""
        known = dict(self.get("device_names") or {})
        known.update(names)
        self.set("device_names", known or None)

    @property
    def signed_in(self) -> bool:
        with self.sealed.lock:
            return bool(self.get("device_id") and self.get("token") and self.get("server_url"))

    def forget_all_but_settings(self) -> None:
        """The purge's part of meta: identity, cursors and sync status go (the key check too: the key
        is about to); settings and the server address stay."""
        self.sealed.db.execute(f"DELETE FROM meta WHERE key NOT LIKE ? AND key NOT IN ({marks(KEPT_ON_PURGE)})",
                               [SETTING + "%", *KEPT_ON_PURGE])


class HasMeta(Protocol):
    @property
    def meta(self) -> Meta: ...


T = TypeVar("T")


class MetaValue(Generic[T]):
    """A read-only attribute kept in `meta`, read under the store's lock, on any part that has
    a `meta`: `device_id = MetaValue[str | None]("device_id")`,
    `acked_seq = MetaValue[int]("acked_seq", int, 0)`."""

    def __init__(self, key: str, convert: Callable[[Any], T] | None = None, default: Any = None) -> None:
        self.key, self.convert, self.default = key, convert, default

    @overload
    def __get__(self, owner: None, cls: type | None = None) -> MetaValue[T]: ...

    @overload
    def __get__(self, owner: HasMeta, cls: type | None = None) -> T: ...

    def __get__(self, owner: HasMeta | None, cls: type | None = None) -> T | MetaValue[T]:
        if owner is None:
            return self
        meta = owner.meta
        with meta.sealed.lock:
            value = meta.get(self.key, self.default)
        return self.convert(value) if self.convert is not None else value

    def __set__(self, owner: HasMeta, value: T) -> None:  # read-only, as a property would be
        raise AttributeError(f"{self.key} is written by the store's own methods")
