"""The sync client: push the outbox, pull the server's events, prove agreement.

Every step is safe to repeat, so any failure is handled the same way: stop, keep
what was acknowledged or applied, and try again later from there.
- push: batches of <= 500 events, gzip; each answer is stored (Store.acknowledge)
  before the next batch goes, so a killed sync resumes from the acknowledged seq
  and a resent batch is answered as already held.
- pull: page by page; each page and the cursor after it are one transaction
  (Store.apply_pulled), so a broken pull resumes at the last page applied.
The one exception is `410 purged` (the campaign's retention period is over): every
request path deletes the device's personal data at once (`handle_purged`) and stops.
See docs/device.md for the error table and the retry policy.
"""
from __future__ import annotations

import gzip
import json
import logging
import math
import random
import threading
import weakref
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Callable

import httpx

from campaign.events import MAX_BATCH, PROTOCOL

from .store import Store, StoreError

log = logging.getLogger(__name__)

PUSH = "/api/v1/sync/push"
PULL = "/api/v1/sync/pull"
RECEIPT = "/api/v1/sync/receipt"
PAGE = 500
DEFAULT_TIMEOUT = 30.0
MAX_GAP_RETRIES = 3  # 409 gaps in a row (no accepted batch between) before giving up on this run


# ---- errors: what the screen says, and whether waiting helps -------------------------

class SyncError(Exception):
    """A sync did not finish. `retryable`: trying again later may succeed on its own."""
    retryable = False

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class Retryable(SyncError):
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class Offline(Retryable):
    """No answer: no network, connection dropped, timed out."""


class ServerBusy(Retryable):
    """The server answered 5xx or 429: it is there but cannot take the request now."""


class BadAnswer(Retryable):
    """An answer that is not the sync API's (a captive portal, a proxy, a broken server)."""


class NotEnrolled(SyncError):
    """No identity, or the server does not know the token (401): enrol again."""


class Revoked(SyncError):
    """The device was revoked (403, "revoked"): the app says so and purges."""


class Rejected(SyncError):
    """Any other 4xx: the server's code and detail are shown as they are."""


class SeqConflict(Rejected):
    """The server holds one of our seqs with different content (409): a bug to report, not to retry."""


class NotAllSent(SyncError):
    """Sign-out refused: events are still waiting to be sent."""


class Purged(SyncError):
    """410 "purged": the campaign's retention period is over; the server removed its personal data and
    retired this device. Never retried and never followed by a push (the server refuses this identity for
    good): the device deletes its own personal data at once (`handle_purged`, SECURITY.md "Retention").
    `notice` is set once that is done."""

    def __init__(self, message: str, *, commune: str | None = None, purged_at: str | None = None,
                 **kw: Any) -> None:
        super().__init__(message, **kw)
        self.commune = commune
        self.purged_at = purged_at
        self.notice: PurgeNotice | None = None

    def __str__(self) -> str:
        text = super().__str__()
        if self.notice is not None:
            text += (f"; this device deleted its personal data at {self.notice.deleted_at}"
                     f" ({self.notice.dropped} unsent events dropped)")
        return text


@dataclass
class SyncReport:
    pushed: int = 0  # events the server acknowledged in this run
    acked_seq: int = 0
    quarantined: list[dict[str, Any]] = field(default_factory=list)  # [{"seq", "reason"}] this run
    pulled: int = 0  # events received in this run
    cursor: int = 0  # pull cursor after the run
    batches: int = 0  # push requests answered
    pages: int = 0  # pull pages applied


@dataclass
class ReceiptCheck:
    agree: bool
    local: dict[str, Any]
    server: dict[str, Any]
    differences: list[str]


def _int(answer: dict[str, Any], key: str) -> int:
    value = answer.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadAnswer(f"the server's answer has no valid {key!r}")
    return value


class SyncClient:
    """Talks to store.server_url with the device's Bearer token."""

    def __init__(self, store: Store, client: httpx.Client | None = None, timeout: float | None = None,
                 batch_size: int = MAX_BATCH, page_size: int = PAGE) -> None:
        """timeout: seconds per request (connect at most 10). Default 30 with the client made here;
        a client passed in keeps its own timeouts unless one is given."""
        self.store = store
        self._own_client = client is None
        if client is None:
            timeout = DEFAULT_TIMEOUT if timeout is None else timeout
        self.timeout = None if timeout is None else httpx.Timeout(timeout, connect=min(timeout, 10.0))
        self.http = client if client is not None else httpx.Client(timeout=self.timeout)
        self.batch_size = min(batch_size, MAX_BATCH)
        self.page_size = page_size
        self._lock = threading.Lock()  # one sync at a time, whoever asks

    def close(self) -> None:
        if self._own_client:
            self.http.close()

    # ---- HTTP -------------------------------------------------------------------------

    def _request(self, method: str, path: str, allow: tuple[int, ...] = (), **kw: Any) -> httpx.Response:
        base, token = self.store.server_url, self.store.token
        if not base or not token:
            raise NotEnrolled("this device is not enrolled")
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json", **kw.pop("headers", {})}
        if self.timeout is not None and not self._own_client:
            kw["timeout"] = self.timeout
        try:
            response = self.http.request(method, base + path, headers=headers, **kw)
        except httpx.TimeoutException as exc:
            raise Offline(f"the server did not answer in time ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise Offline(f"no connection to the server ({type(exc).__name__}: {exc})") from exc
        except httpx.HTTPError as exc:
            raise BadAnswer(f"the server's answer could not be read ({type(exc).__name__}: {exc})") from exc
        status = response.status_code
        if status < 400 or status in allow:
            return response
        error, detail = self._error_of(response)
        retry_after = self._retry_after(response)
        if status == 401:
            raise NotEnrolled(f"the server does not know this device: {detail}", code=error, status=status)
        if status == 403 and error == "revoked":
            raise Revoked(f"this device was revoked: {detail}", code=error, status=status)
        if status == 410 and error == "purged":
            purged = self._purged_answer(response, detail)
            # Here, not in the callers: whichever call is told (a sync, a receipt, a leader's or an
            # admin's screen), the data goes at once and nothing more is sent (SECURITY.md, "Retention").
            try:
                purged.notice = handle_purged(self.store, purged)
            except Exception:  # the identity stays if the purge failed: the next request is told again
                log.exception("deleting the personal data of a purged campaign failed")
            raise purged
        if status == 429 or status >= 500:
            raise ServerBusy(f"the server is unavailable ({status}): {detail}", code=error, status=status,
                             retry_after=retry_after)
        raise Rejected(f"the server refused the request ({status} {error}): {detail}", code=error, status=status)

    @staticmethod
    def _purged_answer(response: httpx.Response, detail: str) -> Purged:
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        commune, purged_at = body.get("commune"), body.get("purged_at")
        commune = commune if isinstance(commune, str) and commune else None
        purged_at = purged_at if isinstance(purged_at, str) and purged_at else None
        return Purged(f"the campaign{' in commune ' + commune if commune else ''} is over and its retention "
                      f"period has passed: the server purged its personal data"
                      f"{' at ' + purged_at if purged_at else ''} ({detail})",
                      code="purged", status=410, commune=commune, purged_at=purged_at)

    @staticmethod
    def _error_of(response: httpx.Response) -> tuple[str, str]:
        try:
            body = response.json()
        except ValueError:
            return "http_" + str(response.status_code), response.text[:200] or response.reason_phrase
        if isinstance(body, dict):
            detail = body.get("detail")
            return str(body.get("error") or "http_" + str(response.status_code)), \
                detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False)[:300]
        return "http_" + str(response.status_code), str(body)[:200]

    @staticmethod
    def _retry_after(response: httpx.Response) -> float | None:
        """Seconds to wait: the JSON's retry_after (what sync_server sends with 429) or a Retry-After header."""
        try:
            body = response.json()
        except ValueError:
            body = None
        candidates = [body.get("retry_after") if isinstance(body, dict) else None,
                      response.headers.get("Retry-After")]
        for value in candidates:
            try:
                if value is not None and not isinstance(value, bool):
                    return max(0.0, float(value))
            except (TypeError, ValueError):
                continue
        return None

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            raise BadAnswer(f"the server's answer is not JSON ({response.status_code})") from None
        if not isinstance(body, dict):
            raise BadAnswer("the server's answer is not a JSON object")
        return body

    # ---- sync -------------------------------------------------------------------------

    def sync_once(self, progress: Callable[[float], None] | None = None) -> SyncReport:
        """Push everything pending, then pull everything new. Records success or the error in the store."""
        with self._lock:
            report = SyncReport(acked_seq=self.store.acked_seq, cursor=self.store.pull_cursor)
            try:
                if not self.store.signed_in:
                    raise NotEnrolled("this device is not enrolled")
                self._push(report, progress)
                self._pull(report)
            except Purged:
                raise  # the store was just emptied: nothing of this run is worth keeping in it
            except SyncError as exc:
                self.store.record_sync_error(str(exc))
                raise
            except StoreError as exc:  # e.g. a malformed page: not ours to fix, try again later
                self.store.record_sync_error(str(exc))
                raise BadAnswer(str(exc)) from exc
            self.store.record_sync_success(datetime.now().astimezone().isoformat(timespec="seconds"))
            if progress:
                progress(1.0)
            return report

    def push(self) -> SyncReport:
        """Only send (sign-out sends before it purges)."""
        with self._lock:
            report = SyncReport(acked_seq=self.store.acked_seq, cursor=self.store.pull_cursor)
            self._push(report, None)
            return report

    def _push(self, report: SyncReport, progress: Callable[[float], None] | None) -> None:
        size = self.batch_size
        gaps = 0
        total = max(1, math.ceil(self.store.pending_count() / size))
        while True:
            batch = self.store.pending(limit=size)
            if not batch:
                return
            body = json.dumps({"schema": PROTOCOL, "events": batch}, ensure_ascii=False,
                              separators=(",", ":")).encode("utf-8")
            response = self._request("POST", PUSH, allow=(409, 413), content=gzip.compress(body, 6),
                                     headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})
            if response.status_code == 413:
                if size == 1:
                    raise Rejected(f"the server refuses event seq {batch[0]['seq']} as too large", status=413)
                size = max(1, len(batch) // 2)
                total = max(total, math.ceil(self.store.pending_count() / size))
                continue
            answer = self._json(response)
            before = self.store.acked_seq
            if response.status_code == 409:
                if "expected_seq" not in answer:
                    # Not even the answer's acked_seq is taken: it may count the clashing seq itself,
                    # which this device's event never became. The stored prefix is resent and skipped.
                    error, detail = self._error_of(response)
                    raise SeqConflict(f"the server holds one of this device's events with different content "
                                      f"({error}): {detail}", code=error, status=409)
                acked, expected = _int(answer, "acked_seq"), _int(answer, "expected_seq")
                if expected - 1 > self.store.last_seq:
                    raise SeqConflict(f"the server holds events up to seq {expected - 1}, this device only "
                                      f"made {self.store.last_seq}", code="ahead", status=409)
                self._acknowledge(report, acked, answer, before)
                self.store.resend_from(expected)
                gaps += 1
                if gaps > MAX_GAP_RETRIES:
                    raise BadAnswer(f"the server keeps asking for seq {expected} and does not take it")
                continue
            acked = _int(answer, "acked_seq")
            self._acknowledge(report, acked, answer, before)
            gaps = 0
            report.batches += 1
            if progress:
                progress(min(0.95, report.batches / (total + 1)))
            if self.store.acked_seq <= before:
                raise BadAnswer(f"the server acknowledged none of seq {batch[0]['seq']}..{batch[-1]['seq']}")

    def _acknowledge(self, report: SyncReport, acked: int, answer: dict[str, Any], before: int) -> None:
        quarantined = answer.get("quarantined") or []
        if not isinstance(quarantined, list) or not all(
                isinstance(q, dict) and isinstance(q.get("seq"), int) for q in quarantined):
            raise BadAnswer("the server's 'quarantined' is not a list of {seq, reason}")
        self.store.acknowledge(acked, quarantined)
        report.pushed += max(0, self.store.acked_seq - before)
        report.acked_seq = self.store.acked_seq
        report.quarantined.extend({"seq": q["seq"], "reason": q.get("reason")} for q in quarantined)

    def _pull(self, report: SyncReport) -> None:
        while True:
            cursor = self.store.pull_cursor
            response = self._request("GET", PULL, params={"after": cursor, "limit": self.page_size})
            page = self._json(response)
            events, more = page.get("events"), page.get("more")
            if not isinstance(events, list) or not isinstance(more, bool):
                raise BadAnswer("the server's pull answer has no events/more")
            next_cursor = _int(page, "next")
            self.store.apply_pulled(events, next_cursor)
            report.pulled += len(events)
            report.pages += 1
            report.cursor = self.store.pull_cursor
            if not more:
                return
            if not events and next_cursor <= cursor:
                raise BadAnswer("the server says there is more to pull but sends nothing")

    # ---- proof and sign-out --------------------------------------------------------------

    def check_receipt(self) -> ReceiptCheck:
        """Compare the server's receipt with the device's own count and digest."""
        server = self._json(self._request("GET", RECEIPT))
        local = self.store.local_receipt()
        differences = []
        if server.get("acked_seq") != local["acked_seq"]:
            differences.append(f"acked_seq: device {local['acked_seq']}, server {server.get('acked_seq')}")
        server_counts = server.get("counts") if isinstance(server.get("counts"), dict) else {}
        for kind in sorted(set(server_counts) | set(local["counts"])):
            mine, theirs = local["counts"].get(kind, 0), server_counts.get(kind, 0)
            if mine != theirs:
                differences.append(f"counts[{kind}]: device {mine}, server {theirs}")
        if server.get("digest") != local["digest"]:
            differences.append(f"digest: device {local['digest'][:12]}…, server {str(server.get('digest'))[:12]}…")
        return ReceiptCheck(agree=not differences, local=local, server=server, differences=differences)

    def sign_out(self, force: bool = False) -> None:
        """Send what is pending, then purge personal data. Refuses while events remain unsent, unless forced
        (a revoked device cannot send: the app asks the volunteer before forcing). A purged campaign's device
        raises Purged, its data already deleted by the request that was told."""
        try:
            self.push()
        except Purged:
            raise
        except SyncError:
            if not force:
                raise
        left = self.store.pending_count()
        if left and not force:
            raise NotAllSent(f"{left} events are not sent yet")
        self.store.purge_personal()


# ---- the retention purge, on the device ----------------------------------------------------

NOTICE_SETTING = "purge_notice"  # a setting: it survives the purge it reports


@dataclass(frozen=True)
class PurgeNotice:
    """What the app tells the person after a `410 purged`, even after a restart. Nothing personal: a
    commune code, two times and a count, so it is kept in clear beside the settings."""
    commune: str | None  # the campaign's commune (5-digit code), as the server said
    purged_at: str | None  # when the server purged it (ISO 8601)
    deleted_at: str  # when this device deleted its own copy (its clock, ISO 8601)
    dropped: int  # events made here that can never be delivered: deleted with the rest

    def to_json(self) -> dict[str, Any]:
        return {"commune": self.commune, "purged_at": self.purged_at, "deleted_at": self.deleted_at,
                "dropped": self.dropped}

    @classmethod
    def from_json(cls, value: Any) -> PurgeNotice | None:
        """None for anything that is not a notice (a setting written by a newer or broken app)."""
        if not isinstance(value, dict) or not isinstance(value.get("deleted_at"), str):
            return None
        dropped = value.get("dropped")
        texts = {k: value.get(k) if isinstance(value.get(k), str) else None for k in ("commune", "purged_at")}
        return cls(texts["commune"], texts["purged_at"], value["deleted_at"],
                   dropped if isinstance(dropped, int) and not isinstance(dropped, bool) and dropped > 0 else 0)


def purge_notice(store: Store) -> PurgeNotice | None:
    """The notice of the last purge, until the next enrolment clears it."""
    return PurgeNotice.from_json(store.setting(NOTICE_SETTING))


def clear_purge_notice(store: Store) -> None:
    store.set_setting(NOTICE_SETTING, None)


def forget_purged(store: Store, purged: Purged) -> PurgeNotice:
    """The device's side of the retention purge (SECURITY.md, "Retention"): count what can never be
    sent, keep the notice, then `Store.purge_personal()` (events, state, identity, VACUUM, the key).
    No push first: the server refuses this identity, and the campaign is closed anyway.

    The notice is written before the purge so that a purge interrupted half-way still has one; the
    identity then survives too and the next request, told again, finishes the job."""
    notice = PurgeNotice(purged.commune, purged.purged_at,
                         datetime.now().astimezone().isoformat(timespec="seconds"), store.pending_count())
    store.set_setting(NOTICE_SETTING, notice.to_json())
    store.purge_personal()
    return notice


PurgeHandler = Callable[[Purged], PurgeNotice]

# A store's owner (app_state.Device) takes the purge over to stop its sync and tell its screens.
# Keyed weakly by the store; an owner's bound method keeps its store alive, so the owner removes
# its handler when it closes (Device.close).
_purge_handlers: weakref.WeakKeyDictionary[Store, PurgeHandler] = weakref.WeakKeyDictionary()
_purge_handlers_lock = threading.Lock()


def set_purge_handler(store: Store, handler: PurgeHandler | None) -> None:
    """`handler(purged)` deletes the store's data when a request is told `410 purged` (instead of
    `forget_purged`); None removes it."""
    with _purge_handlers_lock:
        if handler is None:
            _purge_handlers.pop(store, None)
        else:
            _purge_handlers[store] = handler


def handle_purged(store: Store, purged: Purged) -> PurgeNotice:
    """Called by SyncClient on `410 purged`: the store's owner if it has one, else `forget_purged`."""
    with _purge_handlers_lock:
        handler = _purge_handlers.get(store)
    return handler(purged) if handler is not None else forget_purged(store, purged)


# ---- background -------------------------------------------------------------------------

@dataclass(frozen=True)
class SyncStatus:
    state: str  # idle | syncing | error
    progress: float  # 0..1 within the current sync
    report: SyncReport | None  # the last successful run
    error: str | None  # the last failure, as the screen shows it
    error_kind: str | None  # the exception's class name: Offline, Revoked, NotEnrolled …
    failures: int  # failures in a row
    next_in: float | None  # seconds until the next attempt (None while syncing)


class BackgroundSync:
    """A daemon thread that syncs now, every `interval` seconds after a success, and
    after any failure with exponential backoff and jitter (min_delay * 2^(n-1), capped
    at max_delay, times 0.5..1). trigger() syncs at once; nothing here blocks the caller.
    `Purged` ends it for good: nothing is left to sync under that identity."""

    def __init__(self, client: SyncClient, min_delay: float = 1.0, max_delay: float = 300.0,
                 interval: float = 60.0, on_change: Callable[[SyncStatus], None] | None = None, *,
                 rng: Callable[[], float] = random.random, wait: Callable[[float], Any] | None = None) -> None:
        self.client = client
        self.min_delay = min_delay
        self.max_delay = max_delay
        self.interval = interval
        self.on_change = on_change
        self._rng = rng
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._wait = wait or self._wake.wait
        self._thread: threading.Thread | None = None
        self.status = SyncStatus("idle", 0.0, None, None, None, 0, None)
        self.purged = False  # told `410 purged`: stopped for good, start() does nothing

    def backoff(self, failures: int) -> float:
        if failures <= 0:
            return self.interval
        base = min(self.max_delay, self.min_delay * 2 ** min(failures - 1, 30))
        return base * (0.5 + 0.5 * self._rng())

    def start(self) -> BackgroundSync:
        if self.purged:  # that identity is gone: a new enrolment makes a new BackgroundSync
            return self
        if self._thread is None or not self._thread.is_alive():
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="gocua-sync", daemon=True)
            self._thread.start()
        return self

    def trigger(self) -> None:
        """Sync as soon as possible (skips any backoff wait); starts the thread if it was never started.
        Returns at once."""
        self._wake.set()
        if self._thread is None:
            self.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _publish(self, **changes: Any) -> None:
        self.status = replace(self.status, **changes)
        if self.on_change is not None:
            try:
                self.on_change(self.status)
            except Exception:  # a broken screen must not stop sync
                log.exception("sync on_change callback failed")

    def run_once(self) -> float:
        """One attempt; returns the delay before the next one."""
        self._publish(state="syncing", progress=0.0, next_in=None)
        try:
            report = self.client.sync_once(progress=lambda p: self._publish(progress=p))
        except Purged as exc:  # the campaign is over: nothing left to sync, ever (SECURITY.md "Retention")
            self.purged = True
            self._stopping.set()
            self._publish(state="error", progress=0.0, error=str(exc), error_kind="Purged",
                          failures=self.status.failures + 1, next_in=None)
            return 0.0
        except Exception as exc:  # every failure is retried: waiting may be all it takes
            failures = self.status.failures + 1
            delay = self.backoff(failures)
            retry_after = getattr(exc, "retry_after", None)
            if retry_after:
                delay = max(delay, min(float(retry_after), self.max_delay))
            if not getattr(exc, "retryable", True):
                delay = self.max_delay  # needs a person (revoked, re-enrol, a bug): check rarely
            if not isinstance(exc, SyncError):
                log.exception("sync failed unexpectedly")
            self._publish(state="error", error=str(exc) or type(exc).__name__, error_kind=type(exc).__name__,
                          failures=failures, next_in=delay)
            return delay
        self._publish(state="idle", progress=1.0, report=report, error=None, error_kind=None, failures=0,
                      next_in=self.interval)
        return self.interval

    def _run(self) -> None:
        delay = 0.0
        while not self._stopping.is_set():
            if delay > 0:
                self._wait(delay)
                if self._stopping.is_set():
                    break
            self._wake.clear()
            delay = self.run_once()
