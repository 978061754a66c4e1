"""The app's controller: one device (store + sync) per data dir, enrolment,
and the small rules the screens share.

No Flet here: screens (field_app/views) call these and draw the results.

- `Device` is one data dir: its `Store`, its `SyncClient` and the
  `BackgroundSync` thread. Every Flet session of the process that uses the same
  data dir shares one `Device` (`acquire_device` / `release_device`), so two
  browser tabs never race each other on the same outbox.
- `enrol(store, server_url, code)` spends a code at `POST /api/v1/enroll` and
  keeps the answer in the store. `parse_enrolment(text)` reads a typed code or
  a `gocua://enrol?server=URL&code=CODE` link.
- The visit being recorded (`VisitDraft`, `record_outcome`, `undo_visit`) is
  `field_app/visit_record.py`.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx

from campaign.events import InvalidEvent, parse_at
from campaign.wire import VALIDATION_ERROR

from .keys import KEY_FILE, FileKeyProvider, KeyProvider
from .net.errors import Purged, PurgeNotice, SyncError
from .net.http import same_server
from .net.server_api import ServerApi
from .net.sync import SERVER_KEY, BackgroundSync, ReceiptCheck, SyncClient, SyncStatus, learn_server_keys
from .relay import new_box_key, new_sign_key
from .signout import clear_purge_notice, forget_purged, purge_notice, sign_out
from .store import HouseholdRow, Store, StoreError

log = logging.getLogger(__name__)

ENROLL = "/api/v1/enroll"
ENROL_TIMEOUT = 15.0  # s: a volunteer waits on this screen

# ---------------------------------------------------------------------------
# Enrolment
# ---------------------------------------------------------------------------


class EnrolFailed(Exception):
    """Enrolment did not work. `kind` picks the sentence the screen shows:
    no_code, bad_name, bad_server, unknown_code, used_code, expired_code, offline,
    rejected (any other refusal: the sentence of its `code`), not_gocua (an answer that is not
    the Gõ Cửa server's), other_device
    (this data dir still holds another enrolment's unsent events)."""

    def __init__(self, kind: str, detail: str = "", *, code: str | None = None,
                 answer: dict[str, Any] | None = None, status: int | None = None) -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail  # for the log: never shown (the screen says the sentence of `code`)
        self.code = code  # a refusal's code (campaign/wire.py), its answer and status
        self.answer = answer or {}
        self.status = status


@dataclass(frozen=True)
class EnrolInput:
    code: str
    server: str | None  # from a link; None when only a code was typed


def parse_enrolment(text: str) -> EnrolInput:
    """A typed code ("ABCD-EFGH-JKMN", any case, spaces ignored) or the QR's
    link `gocua://enrol?server=URL&code=CODE` (also with http(s)://…/enrol)."""
    text = (text or "").strip()
    if "://" in text or text.lower().startswith("gocua:"):
        parsed = urlparse(text)
        query = parse_qs(parsed.query)
        code = (query.get("code") or [""])[0].strip()
        servers = query.get("server")
        server = servers[0] if servers else None
        return EnrolInput(_clean_code(code), server.strip().rstrip("/") if server else None)
    return EnrolInput(_clean_code(text), None)


def _clean_code(code: str) -> str:
    return "".join(code.split()).upper()


def clean_server_url(url: str) -> str:
    """`http(s)://host[:port][/path]` without a trailing slash; raises
    EnrolFailed("bad_server") for anything else."""
    url = (url or "").strip().rstrip("/")
    if url and "://" not in url:
        url = "http://" + url
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname or any(ch.isspace() for ch in url):
        raise EnrolFailed("bad_server", url)
    try:
        parsed.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        raise EnrolFailed("bad_server", url) from None
    return url


def enrol(store: Store, server_url: str, code: str, http: httpx.Client | None = None,
          timeout: float = ENROL_TIMEOUT, name: str | None = None) -> dict[str, Any]:
    """Spend `code` at the server and keep the identity in `store`. Blocking
    (call it off the UI loop). Returns the server's answer. `name`: the holder's, as typed."""
    if not code:
        raise EnrolFailed("no_code")
    key = new_sign_key()  # the sealed relay's: the server registers its public half with the enrolment
    box = new_box_key()  # the down road's: leaders' bundles for this phone are sealed to it
    request = {"code": code, "sign_key": key.public, "box_key": box.public,
               **({"name": name} if name and name.strip() else {})}  # the server checks it
    server_url = clean_server_url(server_url)
    headers: dict[str, str] = {}
    previous = store.token if store.signed_in else store.previous_token
    if previous and same_server(store.server_url, server_url):  # never to another server: a fake QR
        headers["Authorization"] = f"Bearer {previous}"  # the server revokes the old identity
    own = http is None
    client = http or httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)))
    try:
        try:
            response = client.post(server_url + ENROLL, json=request, headers=headers)
        except httpx.HTTPError as exc:
            raise EnrolFailed("offline", f"{type(exc).__name__}: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400:
            error = body.get("error") if isinstance(body, dict) else None
            detail = body.get("detail") if isinstance(body, dict) else response.text[:200]
            if error in ("unknown_code", "used_code", "expired_code", "bad_name"):
                raise EnrolFailed(error, str(detail or ""))
            if response.status_code == 422 or (error == VALIDATION_ERROR and body.get("field") == "code"):
                raise EnrolFailed("unknown_code", str(detail or ""))  # the code's shape (too long …)
            raise EnrolFailed("rejected", f"{response.status_code} {error or ''} {detail or ''}".strip(),
                              code=error if isinstance(error, str) else None,
                              answer=body if isinstance(body, dict) else None, status=response.status_code)
        if not isinstance(body, dict) or not all(isinstance(body.get(k), str)
                                                 for k in ("device_id", "token", "role")):
            raise EnrolFailed("not_gocua", "the answer is not the Gõ Cửa server's")
        try:  # the relay's keys: learnt again on a later sync if this fails
            keys_answer: httpx.Response | None = client.get(server_url + SERVER_KEY)
        except httpx.HTTPError:
            keys_answer = None
    finally:
        if own:
            client.close()
    try:
        store.enrol(server_url, body["device_id"], body["token"], body["role"], body.get("scope"),
                    body["name"] if isinstance(body.get("name"), str) else None)
    except StoreError as exc:
        raise EnrolFailed("other_device", str(exc)) from exc
    store.keep_sign_key(key.private, registered=True)
    store.keep_box_key(box.private, registered=True)
    if keys_answer is not None:
        learn_server_keys(store, keys_answer)
    clear_purge_notice(store)  # new work: the last campaign's notice has been read
    return body


# ---------------------------------------------------------------------------
# The device: one per data dir, shared by the sessions of this process
# ---------------------------------------------------------------------------

Listener = Callable[[SyncStatus], None]


class Device:
    """A data dir's store and its background sync. Thread-safe: the store has
    its own lock; listeners are called from the sync thread."""

    def __init__(self, data_dir: Path, *, key: KeyProvider | bytes | None = None,
                 http: httpx.Client | None = None, sync_interval: float = 60.0,
                 autosync: bool = True) -> None:
        self.data_dir = Path(data_dir)
        # the data key: the phone's keystore (main() passes keys.provider_for), else a key file here
        self.store = Store(self.data_dir, key=key if key is not None else default_key(self.data_dir))
        self.http = http
        self.sync_interval = sync_interval
        self.autosync = autosync
        self.client: SyncClient | None = None
        self.background: BackgroundSync | None = None
        self.status: SyncStatus = SyncStatus("idle", 0.0, None, None, None, 0, None)
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()
        self._purge_lock = threading.Lock()  # the sync thread and a screen's call may be told at once
        self.users = 0  # sessions holding it (see acquire_device)
        if self.store.signed_in:
            self.start_sync()

    # -- sync ---------------------------------------------------------------

    def start_sync(self) -> None:
        """Create the client and (with autosync) start the background thread."""
        with self._lock:
            if self.client is None:
                self.client = self._client()
            if self.background is None:
                self.background = BackgroundSync(self.client, interval=self.sync_interval,
                                                 on_change=self._on_status)
            if self.autosync:
                self.background.start()

    def stop_sync(self) -> None:
        with self._lock:
            background, self.background = self.background, None
            client, self.client = self.client, None
        if background is not None:
            background.stop()
        if client is not None:
            client.close()

    def sync_now(self) -> None:
        """Sync at once in the background (never blocks)."""
        if not self.store.signed_in:
            return
        if self.background is None:
            self.start_sync()
        assert self.background is not None
        self.background.trigger()

    def changed(self) -> None:
        """Something was recorded: send it when the network allows."""
        if self.store.signed_in and self.autosync:
            self.sync_now()

    @property
    def syncing(self) -> bool:
        return self.status.state == "syncing"

    def subscribe(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    # -- the retention purge (SECURITY.md, "Retention") -------------------------

    @property
    def purge_notice(self) -> PurgeNotice | None:
        """Set after a `410 purged` until the next enrolment: what the screens tell the person."""
        return purge_notice(self.store)

    def purged(self, purged: Purged) -> PurgeNotice:
        """A request (the background sync, a receipt, a leader's or admin's call) was told the campaign
        is purged: stop syncing for good, delete the personal data at once without asking (the
        retention period is the law's, not the volunteer's choice), and tell every session, so every
        open tab leaves its screen for the notice. Runs on the thread of the request: the `on_purged`
        of every client this Device makes (`_client`, `server_api`)."""
        with self._purge_lock:
            if not self.store.signed_in:  # another path got there first
                notice = purge_notice(self.store)
                if notice is not None:
                    return notice
            background = self.background
            if background is not None:
                background.stop()  # from the sync thread itself this only marks it stopping
            notice = forget_purged(self.store, purged)
            self.stop_sync()
        self._on_status(SyncStatus("idle", 0.0, None, None, None, 0, None))
        return notice

    def _on_status(self, status: SyncStatus) -> None:
        self.status = status
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(status)
            except Exception:  # one broken session must not stop the others
                log.exception("sync listener failed")

    # -- enrolment and sign-out (blocking: call off the UI loop) --------------

    def enrol(self, server_url: str, code: str, name: str | None = None) -> dict[str, Any]:
        answer = enrol(self.store, server_url, code, self.http, name=name)
        self.status = SyncStatus("idle", 0.0, None, None, None, 0, None)  # not the last identity's
        self.start_sync()
        return answer

    def _client(self) -> SyncClient:
        return SyncClient(self.store, client=self.http, on_purged=self.purged)

    def server_api(self, client: httpx.Client | None = None) -> ServerApi:
        """The online calls of the leader's and officer's screens, on this device's identity: a
        `410 purged` answer to one of them stops the sync and tells every session too."""
        return ServerApi(self.store, client=client, on_purged=self.purged)

    def check_receipt(self) -> ReceiptCheck:
        client = self.client or self._client()
        return client.check_receipt()

    def sign_out(self, force: bool = False) -> None:
        """Send what is pending, then purge (field_app/signout.py). Raises the
        push's SyncError (or NotAllSent) unless `force`. The background sync is
        stopped first so that it cannot race the purge; it restarts if the
        sign-out is refused."""
        background = self.background
        if background is not None:
            background.stop()
        client = self.client or self._client()
        try:
            sign_out(self.store, client.push, force=force, tell=client.tell_sign_out)
        except SyncError as exc:
            if self.autosync and background is not None and not isinstance(exc, Purged):
                background.start()  # (purged: `purged` has deleted everything and stopped the sync)
            raise
        self.stop_sync()
        self.status = SyncStatus("idle", 0.0, None, None, None, 0, None)
        for listener in list(self._listeners):
            try:
                listener(self.status)
            except Exception:
                log.exception("sync listener failed")

    def close(self) -> None:
        self.stop_sync()
        self.store.close()


def server_api(device: Device | None, store: Store, client: httpx.Client | None = None) -> ServerApi:
    """The online calls on `store`'s identity: through its Device when it has one (a `410 purged`
    then also stops the sync and tells every session), else on the store alone."""
    if device is not None and device.store is store:
        return device.server_api(client)
    return ServerApi(store, client=client)


def default_key(data_dir: Path) -> FileKeyProvider:
    """Desktop, web mode and tests: the key file next to the database (field_app/keys.py)."""
    return FileKeyProvider(Path(data_dir) / KEY_FILE)


_devices: dict[Path, Device] = {}
_devices_lock = threading.Lock()


def acquire_device(data_dir: Path, **options: Any) -> Device:
    """The process's Device for `data_dir` (made on first use); pair with
    `release_device`. Options apply when it is made."""
    key = Path(data_dir).resolve()
    with _devices_lock:
        device = _devices.get(key)
        if device is None:
            device = _devices[key] = Device(key, **options)
        device.users += 1
        return device


def release_device(device: Device) -> None:
    """A session is done with it; the last one stops the sync and closes the store."""
    with _devices_lock:
        device.users -= 1
        if device.users > 0:
            return
        if _devices.get(device.data_dir) is device:
            del _devices[device.data_dir]
    device.close()


# ---------------------------------------------------------------------------
# Small shared rules
# ---------------------------------------------------------------------------


def household_status(row: HouseholdRow) -> str:
    """One status per household for lists: returned, revisit, follow_up,
    not_visited or visited (most urgent first)."""
    if row.returned:
        return "returned"
    if row.revisit:
        return "revisit"
    if row.follow_up:
        return "follow_up"
    if not row.visits:
        return "not_visited"
    return "visited"


def age_of(birth_year: Any, now: datetime | None = None) -> int | None:
    if not isinstance(birth_year, int) or isinstance(birth_year, bool):
        return None
    now = now or datetime.now().astimezone()
    return max(0, now.year - birth_year)


def seconds_since(iso: str | None, now: datetime | None = None) -> float | None:
    if not iso:
        return None
    try:
        then = parse_at(iso)
    except (ValueError, TypeError, InvalidEvent):
        return None
    now = now or datetime.now().astimezone()
    return max(0.0, (now - then).total_seconds())
