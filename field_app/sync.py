"""The sync client: push the outbox, pull the server's events, prove agreement.

Every step is safe to repeat, so any failure is handled the same way: stop, keep
what was acknowledged or applied, and try again later from there.
- push: batches of <= 500 events, gzip; each answer is stored (Store.acknowledge)
  before the next batch goes, so a killed sync resumes from the acknowledged seq
  and a resent batch is answered as already held.
- pull: page by page; each page and the cursor after it are one transaction
  (Store.apply_pulled), so a broken pull resumes at the last page applied.
See docs/device.md for the error table and the retry policy.
"""
from __future__ import annotations

import gzip
import json
import logging
import math
import random
import threading
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
        if status == 429 or status >= 500:
            raise ServerBusy(f"the server is unavailable ({status}): {detail}", code=error, status=status,
                             retry_after=retry_after)
        raise Rejected(f"the server refused the request ({status} {error}): {detail}", code=error, status=status)

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
        (a revoked device cannot send: the app asks the volunteer before forcing)."""
        try:
            self.push()
        except SyncError:
            if not force:
                raise
        left = self.store.pending_count()
        if left and not force:
            raise NotAllSent(f"{left} events are not sent yet")
        self.store.purge_personal()


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
    at max_delay, times 0.5..1). trigger() syncs at once; nothing here blocks the caller."""

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

    def backoff(self, failures: int) -> float:
        if failures <= 0:
            return self.interval
        base = min(self.max_delay, self.min_delay * 2 ** min(failures - 1, 30))
        return base * (0.5 + 0.5 * self._rng())

    def start(self) -> BackgroundSync:
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
