"""Rate limits: token buckets in this process.

| bucket | key | rate | burst | counts | over it |
| --- | --- | --- | --- | --- | --- |
| pushes | device | 120 a minute | 60 | every push | 429 |
| requests | device | 1,200 a minute | 600 | every authenticated request | 429 |
| enrolment failures | address | 10 a minute | 10 | a bad code | 429 on every enrolment from there |
| refused tokens | address | 60 a minute | 60 | no token, an unknown, revoked or retired one | 429 instead of 401, 403 or 410 |

(429: `rate_limited`; a bad code: unknown, used or expired; address: the client's.)

A phone pushes a handful of batches a sync and pulls a few pages; a device that
does far more is a loop or an attack, and gets 429 with the seconds to wait
(`retry_after` in the JSON body). Enrolment failures by address are checked
*before* the attempt and spent only when it fails: a correct code costs
nothing, guessing costs a token, and an address out of tokens is refused before
its guess is even looked at, so a guess that happens to be right gets 429 too
(SECURITY.md has the arithmetic). A request behind a token that is refused (no
token, an unknown one, a revoked or retired device's) spends its address's
token: once the bucket is spent, such requests answer 429 instead of 401, 403
or 410, so nobody hammers the server without a working token. A working token
is never refused because of its address (phones on a mobile network share the
carrier's addresses), and a 256-bit token cannot be guessed anyway.

Several processes each keep their own buckets: a limit is per process, which is
enough to stop one device or one address from starving the others. The client
address is the socket's peer, unless that peer is a reverse proxy listed in
GOCUA_TRUSTED_PROXIES: then it is the last address of X-Forwarded-For that is
not a trusted proxy (security.install; `gocua-server serve` turns uvicorn's own
proxy headers off, which would believe any X-Forwarded-For from 127.0.0.1).

The device and address rates can be changed per process with
GOCUA_DEVICE_REQUESTS_PER_MINUTE, GOCUA_ENROL_FAILURES_PER_MINUTE and
GOCUA_TOKEN_FAILURES_PER_MINUTE (burst = the rate, halved for requests), read
with the other settings (config.Rates).
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from ..config import PUSHES_PER_MINUTE, Rates
from ..errors import ApiError

BURST = 60  # pushes
MAX_KEYS = 100_000  # buckets kept per limiter; full buckets are dropped first


class Bucket:
    """A token bucket per key: `burst` tokens, refilled at `per_minute` a minute."""

    def __init__(self, per_minute: float, burst: float, what: str) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.what = what  # "pushes from this device", for the answer's detail
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill)

    def _tokens(self, key: str, now: float) -> float:
        tokens, last = self._buckets.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - last) * self.rate)

    def _refuse(self, tokens: float) -> ApiError:
        wait = max(1, math.ceil((1.0 - tokens) / self.rate)) if self.rate > 0 else 3600
        return ApiError(429, "rate_limited", f"too many {self.what}: wait {wait} s", retry_after=wait)

    def take(self, key: str) -> None:
        """Spend one token, or raise 429 when there is none."""
        now = time.monotonic()
        with self._lock:
            tokens = self._tokens(key, now)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                raise self._refuse(tokens)
            self._buckets[key] = (tokens - 1.0, now)
            self._trim()

    def check(self, key: str) -> None:
        """Raise 429 when `key` has no token left, spending nothing."""
        now = time.monotonic()
        with self._lock:
            tokens = self._tokens(key, now)
            if tokens < 1.0:
                raise self._refuse(tokens)

    def spend(self, key: str) -> None:
        """Spend one token (a failure), never below zero and never raising."""
        now = time.monotonic()
        with self._lock:
            self._buckets[key] = (max(0.0, self._tokens(key, now) - 1.0), now)
            self._trim()

    def _trim(self) -> None:
        if len(self._buckets) <= MAX_KEYS:
            return
        now = time.monotonic()
        for key in [k for k in self._buckets if self._tokens(k, now) >= self.burst]:
            del self._buckets[key]
        while len(self._buckets) > MAX_KEYS:  # still full: forget the oldest (a new key starts full)
            del self._buckets[next(iter(self._buckets))]


@dataclass
class Limits:
    """One app's buckets (app.state.limits); made by security.install."""
    requests: Bucket
    enrol_failures: Bucket
    token_failures: Bucket

    @classmethod
    def of(cls, rates: Rates) -> Limits:
        requests = rates.device_requests_per_minute
        enrol = rates.enrol_failures_per_minute
        token = rates.token_failures_per_minute
        return cls(requests=Bucket(requests, max(1, requests // 2), "requests from this device"),
                   enrol_failures=Bucket(enrol, enrol, "failed enrolments from this address"),
                   token_failures=Bucket(token, token, "refused requests (no token, an unknown or revoked "
                                                       "one) from this address"))


_pushes = Bucket(PUSHES_PER_MINUTE, BURST, "pushes from this device")


def check_push_rate(device_id: str) -> None:
    """The push bucket (shared by every app in this process, keyed by device)."""
    _pushes.take(device_id)
