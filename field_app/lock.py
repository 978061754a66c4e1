"""The app lock's rules: the PIN, wrong attempts and their waits, the idle timeout.

No Flet here: the lock screen and its hook into the shell are in
field_app/views/lock.py; this module decides, that one draws. See SECURITY.md
"App lock" for what the lock stops and what it does not.

- The PIN is 4-8 digits, never stored: `hash_pin` keeps a salted scrypt hash
  (stdlib `hashlib.scrypt`; PBKDF2-HMAC-SHA256 where a Python lacks scrypt),
  `verify_pin` compares in constant time.
- The record lives in the device store's settings (`Store.set_setting`), with
  the count of wrong PINs in a row and the wall-clock time before which the
  next try is refused. Both are written *before* a PIN is checked, so killing
  the app after a wrong guess neither resets the count nor the wait.
- The record names the device id it was set under. A purge forgets the device
  id and a new enrolment brings another one, so a PIN never outlives its
  enrolment, although settings (language …) survive a purge on purpose.
- Wrong PINs: 5 free tries, then a wait that doubles from 30 s (30 s, 1 min,
  2 min, 4 min, 8 min); the 10th wrong PIN in a row signs the device out (the
  caller sends what it can, then purges). A right PIN resets the count.
- Idle timeout: `IdleTimer` on a monotonic clock; default 5 minutes, 1-30.

Time comes from a `Clock` (monotonic for idleness, wall time for the persisted
wait, which must survive a restart); tests pass a `ManualClock`.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import threading
import time
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Protocol

from campaign.roles import Capability, can, roles_with

__all__ = [
    "FREE_ATTEMPTS",
    "MAX_ATTEMPTS",
    "PIN_MAX",
    "PIN_MIN",
    "REQUIRED_ROLES",
    "TIMEOUT_CHOICES",
    "TIMEOUT_DEFAULT",
    "AppLock",
    "Attempt",
    "Clock",
    "IdleTimer",
    "ManualClock",
    "PinError",
    "SystemClock",
    "attempts_left",
    "hash_pin",
    "pin_problem",
    "remaining_wait",
    "verify_pin",
    "wait_after",
]

PIN_MIN = 4
PIN_MAX = 8
FREE_ATTEMPTS = 5  # wrong PINs in a row before the first wait
MAX_ATTEMPTS = 10  # the wrong PIN that signs the device out
FIRST_WAIT = 30  # seconds after the 5th wrong PIN; doubles with each one after it

TIMEOUT_DEFAULT = 5  # minutes without a tap before the app locks
TIMEOUT_MIN = 1
TIMEOUT_MAX = 30  # longer is no lock at all for a phone left on a table
TIMEOUT_CHOICES = (1, 2, 5, 10, 15, 30)

#: Roles that may not go without a PIN (campaign.roles PIN_REQUIRED): they see a team's or a
#: commune's data, follow-up lists of names included. A volunteer is asked, and may say later.
REQUIRED_ROLES = roles_with(Capability.PIN_REQUIRED)

PIN_SETTING = "lock.pin"  # the record (hash, salt, wrong tries, wait) of this enrolment
TIMEOUT_SETTING = "lock.timeout_minutes"  # a preference: kept across enrolments
REQUIRED_SETTING = "lock.required"  # the device id whose enrolment in the app demands a PIN

# scrypt at N=2^14, r=8: 16 MiB and ~70 ms on a laptop, well under a second on
# a cheap phone. Stronger settings (OWASP's N=2^17, 128 MiB) do not fit those
# phones, and no setting makes 10^4..10^8 PINs safe from an offline search:
# the attempt limit and the keystore-held data key are the real defences.
SCRYPT = {"n": 2**14, "r": 8, "p": 1}
PBKDF2_ITERATIONS = 600_000
HASH_BYTES = 32
SALT_BYTES = 16

# One read-modify-write of a record at a time, across the sessions of a
# process (web mode: several browser tabs share one device store). It also
# serialises PIN checks, so parallel tabs cannot guess in parallel.
_RECORD_LOCK = threading.Lock()


# ---------------------------------------------------------------------------
# Time
# ---------------------------------------------------------------------------


class Clock(Protocol):
    """Where the lock gets its time."""

    def monotonic(self) -> float:
        """Seconds, never going back: idleness."""
        ...

    def time(self) -> float:
        """Wall-clock seconds since the epoch: the wait, kept across restarts."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""
        ...


def _suspend_aware_clock() -> int | None:
    """A clock id that keeps counting while the phone sleeps. Python's
    `time.monotonic()` is CLOCK_MONOTONIC on Linux and Android, which stops
    during suspend: a phone left asleep in a pocket for an hour would come back
    "idle" for a few seconds and not lock. CLOCK_BOOTTIME (Linux, Android)
    counts suspend; on Apple systems `clock_gettime(CLOCK_MONOTONIC)` does
    (unlike `time.monotonic()`, which is mach_absolute_time there)."""
    import sys

    if sys.platform.startswith("linux") or hasattr(sys, "getandroidapilevel"):
        return getattr(time, "CLOCK_BOOTTIME", None)
    if sys.platform in ("darwin", "ios"):
        return getattr(time, "CLOCK_MONOTONIC", None)
    return None


class SystemClock:
    """The real clocks."""

    def __init__(self) -> None:
        self._clock_id = _suspend_aware_clock()

    def monotonic(self) -> float:
        if self._clock_id is not None:
            try:
                return time.clock_gettime(self._clock_id)
            except OSError:  # the kernel refuses it: fall back, once
                self._clock_id = None
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ManualClock:
    """A clock that moves only when told (`advance`): tests and previews.

    `sleep` returns once the clock has been advanced far enough; until then it
    yields to the event loop in small real naps, so a session driven by the UI
    harness stays responsive and a test never waits for real minutes."""

    def __init__(self, start: float = 1_750_000_000.0) -> None:
        self._wall = float(start)
        self._mono = 1000.0

    def monotonic(self) -> float:
        return self._mono

    def time(self) -> float:
        return self._wall

    def advance(self, seconds: float) -> None:
        self._wall += seconds
        self._mono += seconds

    def set_wall(self, wall: float) -> None:
        """Move only the wall clock (a phone whose time was changed)."""
        self._wall = float(wall)

    async def sleep(self, seconds: float) -> None:
        target = self._mono + max(0.0, seconds)
        while self._mono < target:
            await asyncio.sleep(0.01)


# ---------------------------------------------------------------------------
# Pure rules
# ---------------------------------------------------------------------------


def pin_problem(pin: str) -> str | None:
    """Why `pin` cannot be a PIN, or None: "not_digits", "too_short",
    "too_long", "too_simple" (one digit repeated, or a run up or down such as
    1234 or 9876: the first guesses anyone tries, and with 10 tries they
    matter)."""
    if not pin or not (pin.isascii() and pin.isdigit()):
        return "not_digits"
    if len(pin) < PIN_MIN:
        return "too_short"
    if len(pin) > PIN_MAX:
        return "too_long"
    steps = {(int(b) - int(a)) % 10 for a, b in pairwise(pin)}
    if steps in ({0}, {1}, {9}):
        return "too_simple"
    return None


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _derive(pin: str, record: dict[str, Any]) -> bytes:
    salt = base64.b64decode(record["salt"])
    if record["alg"] == "scrypt":
        n, r, p = int(record["n"]), int(record["r"]), int(record["p"])
        return hashlib.scrypt(pin.encode("ascii"), salt=salt, n=n, r=r, p=p, dklen=HASH_BYTES,
                              maxmem=256 * r * n + 1024 * 1024)
    if record["alg"] == "pbkdf2_sha256":
        return hashlib.pbkdf2_hmac("sha256", pin.encode("ascii"), salt, int(record["iterations"]), HASH_BYTES)
    raise ValueError(f"unknown PIN hash {record['alg']!r}")


def hash_pin(pin: str, *, salt: bytes | None = None) -> dict[str, Any]:
    """A record to keep instead of the PIN: the algorithm, its cost, a random
    salt and the hash (base64). Raises PinError for a PIN `pin_problem` refuses."""
    problem = pin_problem(pin)
    if problem is not None:
        raise PinError(problem)
    salt = salt if salt is not None else os.urandom(SALT_BYTES)
    if hasattr(hashlib, "scrypt"):  # OpenSSL 1.1+; every CPython we ship has it, but do not crash without
        record: dict[str, Any] = {"alg": "scrypt", **SCRYPT}
    else:
        record = {"alg": "pbkdf2_sha256", "iterations": PBKDF2_ITERATIONS}
    record["salt"] = _b64(salt)
    record["hash"] = _b64(_derive(pin, record))
    return record


def verify_pin(pin: str, record: dict[str, Any]) -> bool:
    """Whether `pin` is the one `record` was made from (constant-time compare)."""
    if not isinstance(pin, str) or not (pin.isascii() and pin.isdigit()) or len(pin) > PIN_MAX:
        return False  # never hashed: no need to spend the time, and nothing to learn from it
    try:
        expected = base64.b64decode(record["hash"])
        actual = _derive(pin, record)
    except (KeyError, ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def wait_after(failures: int) -> int:
    """Seconds to wait after `failures` wrong PINs in a row: none for the first
    four, then 30 s, 1 min, 2 min, 4 min, 8 min."""
    if failures < FREE_ATTEMPTS:
        return 0
    return FIRST_WAIT << (failures - FREE_ATTEMPTS)  # doubled with each wrong PIN after the 5th


def attempts_left(failures: int) -> int:
    """Wrong PINs still allowed before the device signs out."""
    return max(0, MAX_ATTEMPTS - failures)


def remaining_wait(blocked_until: float, now: float, failures: int) -> float:
    """Seconds still to wait. Never more than the wait itself: a phone whose
    clock was set back must not be blocked for days. (Setting it forward skips
    the wait; the limit of 10 tries still holds, and that is the defence.)"""
    return max(0.0, min(blocked_until - now, float(wait_after(failures))))


def clamp_timeout(minutes: Any) -> int:
    """A stored timeout within bounds (a damaged or hand-edited value falls back to the default)."""
    try:
        value = int(minutes)
    except (TypeError, ValueError):
        return TIMEOUT_DEFAULT
    return min(TIMEOUT_MAX, max(TIMEOUT_MIN, value))


class PinError(ValueError):
    """A PIN operation refused before any PIN was checked. `code`: not_digits,
    too_short, too_long, too_simple (a new PIN), mismatch (typed twice
    differently), exists (set when one is set: change it instead), required
    (this role cannot remove it), no_pin."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Attempt:
    """What one PIN try did."""

    ok: bool
    failures: int  # wrong PINs in a row, this one included
    left: int  # wrong PINs still allowed before the sign-out
    wait: float  # seconds before the next try is accepted
    wipe: bool = False  # this was the last allowed try: sign out and purge now
    refused: bool = False  # not checked at all: a wait was still running


class IdleTimer:
    """Time since the last interaction, on a monotonic clock."""

    def __init__(self, clock: Clock, timeout: float) -> None:
        self.clock = clock
        self.timeout = float(timeout)  # seconds
        self.last = clock.monotonic()

    def touch(self) -> None:
        self.last = self.clock.monotonic()

    def idle(self) -> float:
        return max(0.0, self.clock.monotonic() - self.last)

    def remaining(self) -> float:
        return max(0.0, self.timeout - self.idle())

    def expired(self) -> bool:
        return self.idle() >= self.timeout


# ---------------------------------------------------------------------------
# The lock's state in the store
# ---------------------------------------------------------------------------


class AppLock:
    """The device's PIN and its wrong-attempt count, kept in `store`'s settings.

    `store` is a field_app.store.Store (anything with `setting`,
    `set_setting`, `device_id`, `role`, `signed_in`). One per session is fine:
    nothing is cached, every call reads the store.
    """

    def __init__(self, store: Any, clock: Clock | None = None) -> None:
        self.store = store
        self.clock: Clock = clock or SystemClock()

    # -- reading ---------------------------------------------------------------

    def _record(self) -> dict[str, Any] | None:
        record = self.store.setting(PIN_SETTING)
        if not isinstance(record, dict) or not self.store.signed_in:
            return None
        if record.get("device") != self.store.device_id:
            return None  # set under an enrolment that is gone
        return record

    @property
    def has_pin(self) -> bool:
        return self._record() is not None

    @property
    def failures(self) -> int:
        record = self._record()
        return int(record.get("failures", 0)) if record else 0

    @property
    def wipe_due(self) -> bool:
        """The limit was reached (maybe just before the app was killed): sign out now."""
        return self.failures >= MAX_ATTEMPTS

    def wait_remaining(self) -> float:
        record = self._record()
        if not record:
            return 0.0
        return remaining_wait(float(record.get("blocked_until", 0)), self.clock.time(),
                              int(record.get("failures", 0)))

    @property
    def role_requires_pin(self) -> bool:
        return can(self.store.role, Capability.PIN_REQUIRED)

    @property
    def required(self) -> bool:
        """This enrolment must set a PIN before anything else: it was made in
        the app by a role that needs one (see `require`)."""
        return (self.role_requires_pin and self.store.signed_in
                and self.store.setting(REQUIRED_SETTING) == self.store.device_id)

    @property
    def timeout_minutes(self) -> int:
        return clamp_timeout(self.store.setting(TIMEOUT_SETTING, TIMEOUT_DEFAULT))

    @property
    def timeout_seconds(self) -> float:
        return self.timeout_minutes * 60.0

    # -- writing ---------------------------------------------------------------

    def require(self) -> None:
        """Mark this enrolment as one that cannot go on without a PIN."""
        self.store.set_setting(REQUIRED_SETTING, self.store.device_id)

    def set_timeout(self, minutes: int) -> None:
        if not TIMEOUT_MIN <= int(minutes) <= TIMEOUT_MAX:
            raise ValueError(f"the lock timeout is {TIMEOUT_MIN}-{TIMEOUT_MAX} minutes, not {minutes}")
        self.store.set_setting(TIMEOUT_SETTING, int(minutes))

    def _write(self, record: dict[str, Any]) -> None:
        self.store.set_setting(PIN_SETTING, record)

    def _new_record(self, pin: str) -> dict[str, Any]:
        return {"device": self.store.device_id, **hash_pin(pin), "failures": 0, "blocked_until": 0}

    def set_pin(self, new: str, again: str) -> None:
        """The first PIN of this enrolment (typed twice)."""
        if not self.store.signed_in:
            raise PinError("no_pin")
        problem = pin_problem(new)
        if problem:
            raise PinError(problem)
        if new != again:
            raise PinError("mismatch")
        with _RECORD_LOCK:
            if self._record() is not None:
                raise PinError("exists")
            self._write(self._new_record(new))

    def check(self, pin: str) -> Attempt:
        """One try. The try is counted before the PIN is checked and uncounted
        only if it is right, so no crash or kill loses a wrong one."""
        with _RECORD_LOCK:
            record = self._record()
            if record is None:
                raise PinError("no_pin")
            failures = int(record.get("failures", 0))
            wait = remaining_wait(float(record.get("blocked_until", 0)), self.clock.time(), failures)
            if failures >= MAX_ATTEMPTS:
                return Attempt(False, failures, 0, 0.0, wipe=True, refused=True)
            if wait > 0:
                return Attempt(False, failures, attempts_left(failures), wait, refused=True)
            failures += 1
            record = {**record, "failures": failures,
                      "blocked_until": self.clock.time() + wait_after(failures)}
            self._write(record)
            if verify_pin(pin, record):
                self._write({**record, "failures": 0, "blocked_until": 0})
                return Attempt(True, 0, MAX_ATTEMPTS, 0.0)
            return Attempt(False, failures, attempts_left(failures), float(wait_after(failures)),
                           wipe=failures >= MAX_ATTEMPTS)

    def change_pin(self, old: str, new: str, again: str) -> Attempt:
        """A new PIN, given the current one. The new one is checked first, so
        a typo in it costs no try."""
        problem = pin_problem(new)
        if problem:
            raise PinError(problem)
        if new != again:
            raise PinError("mismatch")
        attempt = self.check(old)
        if attempt.ok:
            with _RECORD_LOCK:
                self._write(self._new_record(new))
        return attempt

    def remove_pin(self, pin: str) -> Attempt:
        """No PIN any more (volunteers only), given the current one."""
        if self.role_requires_pin:
            raise PinError("required")
        attempt = self.check(pin)
        if attempt.ok:
            with _RECORD_LOCK:
                self.store.set_setting(PIN_SETTING, None)
        return attempt

    def forget(self) -> None:
        """The enrolment is gone (signed out, purged): its PIN and count go too."""
        with _RECORD_LOCK:
            self.store.set_setting(PIN_SETTING, None)
            self.store.set_setting(REQUIRED_SETTING, None)
