"""The sync client: push the outbox, pull the server's events, prove agreement; and the
background thread that keeps doing it.

Every step is safe to repeat, so any failure is handled the same way: stop, keep
what was acknowledged or applied, and try again later from there.
- push: batches of <= 500 events, gzip; each answer is stored (Store.acknowledge)
  before the next batch goes, so a killed sync resumes from the acknowledged seq
  and a resent batch is answered as already held.
- pull: page by page; each page and the cursor after it are one transaction
  (Store.apply_pulled), so a broken pull resumes at the last page applied.
The one exception is `410 purged` (the campaign's retention period is over): the HTTP
client hands it to `on_purged`, which deletes the device's personal data at once, and stops.
Signing out (send, then purge) is field_app/signout.py.
See docs/device.md for the error table and the retry policy.
"""
from __future__ import annotations

import functools
import gzip
import json
import logging
import math
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import httpx

from campaign.events import MAX_BATCH, PROTOCOL

from ..relay import box_public_of, new_box_key, new_sign_key, public_of
from ..signout import forget_purged
from ..store import Receipt, Store, StoreError
from .errors import BadAnswer, NotEnrolled, Purged, Rejected, Revoked, SeqConflict, SyncError
from .http import HttpClient, OnPurged, error_of, json_object

log = logging.getLogger(__name__)

PUSH = "/api/v1/sync/push"
PULL = "/api/v1/sync/pull"
RECEIPT = "/api/v1/sync/receipt"
SIGN_OUT = "/api/v1/device/sign-out"
SIGN_KEY = "/api/v1/sync/sign-key"
BOX_KEY = "/api/v1/sync/box-key"
SERVER_KEY = "/api/v1/server-key"
PAGE = 500
MAX_GAP_RETRIES = 3  # 409 gaps in a row (no accepted batch between) before giving up on this run


@dataclass
class SyncReport:
    pushed: int = 0  # events the server acknowledged in this run
    acked_seq: int = 0
    quarantined: list[dict[str, Any]] = field(default_factory=list)  # [{"seq", "reason"}] this run
    pulled: int = 0  # events received in this run
    cursor: int = 0  # pull cursor after the run
    batches: int = 0  # push requests answered
    pages: int = 0  # pull pages applied
    caught_up: bool = False  # the last push's answer said nothing else was new: no pull needed


@dataclass
class ReceiptCheck:
    agree: bool
    local: Receipt
    server: dict[str, Any]  # the server's answer as it came
    differences: list[str]


def _int(answer: dict[str, Any], key: str) -> int:
    value = answer.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadAnswer(f"the server's answer has no valid {key!r}")
    return value


class SyncClient:
    """Talks to store.server_url with the device's Bearer token (one HttpClient).

    on_purged: what a `410 purged` answer does (app_state.Device stops its sync and tells its
    sessions); by default `signout.forget_purged` on this store (a script, `--enrol` at start)."""

    def __init__(self, store: Store, client: httpx.Client | None = None, timeout: float | None = None,
                 batch_size: int = MAX_BATCH, page_size: int = PAGE, *, on_purged: OnPurged | None = None) -> None:
        self.store = store
        self.http = HttpClient(store, on_purged or functools.partial(forget_purged, store), client, timeout)
        self.batch_size = min(batch_size, MAX_BATCH)
        self.page_size = page_size
        self._lock = threading.Lock()  # one sync at a time, whoever asks

    def close(self) -> None:
        self.http.close()

# ---- sync -------------------------------------------------------------------------

    def sync_once(self, progress: Callable[[float], None] | None = None,
                  on_page: Callable[[int, int], None] | None = None) -> SyncReport:
        """Push everything pending, then pull everything new. Records success or the error in the store.
        `on_page(pages, events)` after each pulled page is applied: a first sync's progress line."""
        with self._lock:
            report = SyncReport(acked_seq=self.store.acked_seq, cursor=self.store.pull_cursor)
            try:
                if not self.store.signed_in:
                    raise NotEnrolled("this device is not enrolled")
                self._register_sign_key()
                self._register_box_key()
                self._push(report, progress)
                if not report.caught_up:
                    self._pull(report, on_page)
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

    def _register_sign_key(self) -> None:
        """A phone enrolled before the sealed relay registers its signing key once, on its next
        sync (docs/sync.md, "Sealed relay"). A server without the route, or one holding another
        key, leaves it unregistered: the sync goes on, only the relay is unavailable."""
        if self.store.sign_key_registered:
            return
        private = self.store.sign_key or new_sign_key().private
        response = self.http.request("POST", SIGN_KEY, allow=(400, 404, 405, 409, 422),
                                     json={"sign_key": public_of(private)})
        self.store.keep_sign_key(private, registered=response.status_code < 300)
        if response.status_code < 300:
            learn_server_keys(self.store, self.http.request("GET", SERVER_KEY, allow=(404, 405)))

    def _register_box_key(self) -> None:
        """The down road's box key, registered once like the signing key (docs/sync.md, "Sealed
        relay"): a server without the route leaves it unregistered, the sync goes on."""
        if self.store.box_key_registered:
            return
        private = self.store.box_key or new_box_key().private
        response = self.http.request("POST", BOX_KEY, allow=(400, 404, 405, 409, 422),
                                     json={"box_key": box_public_of(private)})
        self.store.keep_box_key(private, registered=response.status_code < 300)
        if response.status_code < 300 and not self.store.server_keys:
            learn_server_keys(self.store, self.http.request("GET", SERVER_KEY, allow=(404, 405)))

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
        report.caught_up = False
        while True:
            batch = self.store.pending(limit=size)
            if not batch:
                return
            body = json.dumps({"schema": PROTOCOL, "events": batch}, ensure_ascii=False,
                              separators=(",", ":")).encode("utf-8")
            params: dict[str, int] = {}
            last = self.store.pending_count() <= len(batch)
            if last:  # may this answer say that nothing else is new, so no pull is needed?
                filed = self.store.own_filed_upto()
                params = {"after": self.store.pull_cursor,
                          "mine": batch[-1]["seq"] if filed >= batch[0]["seq"] - 1 else filed}
            response = self.http.request("POST", PUSH, allow=(409, 413), content=gzip.compress(body, 6),
                                         params=params,
                                         headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})
            if response.status_code == 413:
                if size == 1:
                    raise Rejected(f"the server refuses event seq {batch[0]['seq']} as too large", status=413)
                size = max(1, len(batch) // 2)
                total = max(total, math.ceil(self.store.pending_count() / size))
                continue
            answer = json_object(response)
            before = self.store.acked_seq
            if response.status_code == 409:
                if "expected_seq" not in answer:
                    # Not even the answer's acked_seq is taken: it may count the clashing seq itself,
                    # which this device's event never became. The stored prefix is resent and skipped.
                    error, detail = error_of(response)
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
            caught_up = answer.get("caught_up")
            if last and type(caught_up) is int and self.store.pending_count() == 0 \
                    and self.store.own_filed_upto() >= params["mine"]:
                self.store.apply_pulled([], caught_up)  # nothing new but its own, now filed: no pull
                if answer.get("team_settings") is not None:  # what that pull's last page would have said
                    self.store.keep_team_settings(answer["team_settings"])
                report.cursor, report.caught_up = self.store.pull_cursor, True
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
        cursors = answer.get("cursors") or []  # absent from an older server: the pull brings them back
        if not isinstance(cursors, list) or not all(
                isinstance(c, list) and len(c) == 2 and all(type(x) is int for x in c) for c in cursors):
            raise BadAnswer("the server's 'cursors' is not a list of [seq, cursor]")
        self.store.acknowledge(acked, quarantined, [(seq, cursor) for seq, cursor in cursors])
        report.pushed += max(0, self.store.acked_seq - before)
        report.acked_seq = self.store.acked_seq
        report.quarantined.extend({"seq": q["seq"], "reason": q.get("reason")} for q in quarantined)

    def _pull(self, report: SyncReport, on_page: Callable[[int, int], None] | None = None) -> None:
        while True:
            cursor = self.store.pull_cursor
            params = {"after": cursor, "limit": self.page_size}
            mine = self.store.own_filed_upto()
            if mine:  # its own events up to there are filed already: not sent back (docs/sync.md)
                params["mine"] = mine
            response = self.http.request("GET", PULL, params=params)
            page = json_object(response)
            events, more = page.get("events"), page.get("more")
            if not isinstance(events, list) or not isinstance(more, bool):
                raise BadAnswer("the server's pull answer has no events/more")
            next_cursor = _int(page, "next")
            self.store.apply_pulled(events, next_cursor)
            if "team_settings" in page:  # the last page's (an older server sends none: the defaults stay)
                self.store.keep_team_settings(page["team_settings"])
            report.pulled += len(events)
            report.pages += 1
            report.cursor = self.store.pull_cursor
            if on_page:
                on_page(report.pages, report.pulled)
            if not more:
                return
            if not events and next_cursor <= cursor:
                raise BadAnswer("the server says there is more to pull but sends nothing")

    # ---- sign-out ------------------------------------------------------------

    def tell_sign_out(self) -> bool:
        """Tell the server this device signs out, so that its token dies there too (best
        effort: signout.sign_out calls it just before the purge, which happens whatever this
        says). True when the token is dead on the server now: the server confirmed, or it
        refuses the token already (unknown, revoked, retired). False when it could not be
        told (offline, busy, a server too old to know the call): the next enrolment sends
        the token so that the server revokes it then."""
        try:
            self.http.request("POST", SIGN_OUT)
        except (NotEnrolled, Revoked, Purged):
            return True
        except SyncError as exc:
            log.info("the server could not be told of the sign-out: %s", exc)
            return False
        return True

    # ---- proof --------------------------------------------------------------

    def check_receipt(self) -> ReceiptCheck:
        """Compare the server's receipt with the device's own count and digest."""
        server = self.http.get_json(RECEIPT)
        local = self.store.local_receipt()
        differences = []
        if server.get("acked_seq") != local.acked_seq:
            differences.append(f"acked_seq: device {local.acked_seq}, server {server.get('acked_seq')}")
        counts = server.get("counts")
        server_counts = counts if isinstance(counts, dict) else {}
        for kind in sorted(set(server_counts) | set(local.counts)):
            mine, theirs = local.counts.get(kind, 0), server_counts.get(kind, 0)
            if mine != theirs:
                differences.append(f"counts[{kind}]: device {mine}, server {theirs}")
        if server.get("digest") != local.digest:
            differences.append(f"digest: device {local.digest[:12]}…, server {str(server.get('digest'))[:12]}…")
        return ReceiptCheck(agree=not differences, local=local, server=server, differences=differences)


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
    pages: int = 0  # pulled pages applied in the current sync (a first sync's progress line)
    pulled: int = 0  # ... and the changes they held
    error_code: str | None = None  # the server's code of a refusal (campaign/wire.py): the screen's sentence
    error_answer: dict[str, Any] | None = None  # the refusal's answer (a field's name, rule, limit)


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
        base = min(self.max_delay, self.min_delay * 2.0 ** min(failures - 1, 30))
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
        self._publish(state="syncing", progress=0.0, next_in=None, pages=0, pulled=0)
        try:
            report = self.client.sync_once(progress=lambda p: self._publish(progress=p),
                                           on_page=lambda pages, n: self._publish(pages=pages, pulled=n))
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
                          error_code=getattr(exc, "code", None), error_answer=getattr(exc, "answer", None),
                          failures=failures, next_in=delay)
            return delay
        self._publish(state="idle", progress=1.0, report=report, error=None, error_kind=None, error_code=None,
                      error_answer=None, failures=0, next_in=self.interval)
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


def learn_server_keys(store: Store, response: httpx.Response) -> None:
    """Keep the server's public keys (GET /api/v1/server-key): bundles are sealed to one, receipts
    checked with the other. An answer without them changes nothing."""
    try:
        keys = response.json() if response.status_code == 200 else None
    except ValueError:
        keys = None
    if isinstance(keys, dict) and isinstance(keys.get("seal"), str) and isinstance(keys.get("sign"), str):
        store.meta.keep_server_keys({"seal": keys["seal"], "sign": keys["sign"]})
