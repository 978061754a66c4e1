"""The app lock's rules (field_app/lock.py): the PIN hash, wrong tries and their
waits (kept in the store, so a restart changes nothing), the idle timeout. No
Flet: the screens are tested in tests/ui/test_lock.py."""
from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from pathlib import Path

import pytest

from field_app import lock as lock_module
from field_app.crypto import Cipher
from field_app.lock import (
    FREE_ATTEMPTS,
    MAX_ATTEMPTS,
    PIN_SETTING,
    AppLock,
    IdleTimer,
    ManualClock,
    PinError,
    SystemClock,
    attempts_left,
    clamp_timeout,
    hash_pin,
    pin_problem,
    remaining_wait,
    verify_pin,
    wait_after,
)
from field_app.store import Store

KEY = Cipher.new_key()
PIN = "25807413"


def open_store(path: Path, *, role: str = "volunteer", device: str = "dev-a", enrol: bool = True) -> Store:
    store = Store(path, key=KEY)
    if enrol and not store.signed_in:
        store.enrol("http://127.0.0.1:8000", device, "token-" + device, role, {"hamlets": []})
    return store


@pytest.fixture
def store(tmp_path: Path):
    s = open_store(tmp_path / "phone")
    yield s
    s.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


# ---------------------------------------------------------------------------
# The PIN itself
# ---------------------------------------------------------------------------


def test_a_pin_is_4_to_8_digits_and_not_an_easy_guess() -> None:
    assert pin_problem("2580") is None and pin_problem("25807413") is None
    assert pin_problem("1357") is None and pin_problem("1212") is None
    assert pin_problem("") == "not_digits"
    assert pin_problem("12a4") == "not_digits"
    assert pin_problem("١٢٣٤٥") == "not_digits", "Arabic-Indic digits are digits to str.isdigit, not to a keypad"
    assert pin_problem("258") == "too_short"
    assert pin_problem("258074139") == "too_long"
    for easy in ("0000", "1111", "1234", "4321", "3456789", "9876", "8901"):
        assert pin_problem(easy) == "too_simple", easy


def test_the_pin_is_kept_as_a_salted_slow_hash_never_itself() -> None:
    a, b = hash_pin(PIN), hash_pin(PIN)
    assert a["alg"] == "scrypt" and a["n"] >= 2**14 and a["r"] == 8
    assert a["salt"] != b["salt"] and a["hash"] != b["hash"], "a random salt per PIN"
    assert len(base64.b64decode(a["salt"])) == 16 and len(base64.b64decode(a["hash"])) == 32
    assert PIN not in json.dumps(a)
    assert verify_pin(PIN, a) and verify_pin(PIN, b)
    assert not verify_pin("25807414", a)
    assert not verify_pin("", a) and not verify_pin("abcd", a) and not verify_pin(PIN + "0", a)
    with pytest.raises(PinError) as bad:
        hash_pin("1234")
    assert bad.value.code == "too_simple"


def test_the_hash_is_scrypt_of_the_salt_and_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    salt = bytes(range(16))
    record = hash_pin(PIN, salt=salt)
    expected = hashlib.scrypt(PIN.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    assert base64.b64decode(record["hash"]) == expected
    compared = []
    real = lock_module.hmac.compare_digest
    monkeypatch.setattr(lock_module.hmac, "compare_digest", lambda x, y: compared.append(1) or real(x, y))
    assert verify_pin(PIN, record) and compared == [1]


def test_a_damaged_record_never_verifies() -> None:
    record = hash_pin(PIN)
    assert not verify_pin(PIN, {**record, "hash": base64.b64encode(b"x" * 32).decode()})
    assert not verify_pin(PIN, {**record, "salt": "not base64!"})
    assert not verify_pin(PIN, {k: v for k, v in record.items() if k != "hash"})
    assert not verify_pin(PIN, {**record, "alg": "md5"})


def test_without_scrypt_pbkdf2_is_used_and_still_verifies(monkeypatch: pytest.MonkeyPatch) -> None:
    record = hash_pin(PIN)
    monkeypatch.delattr(lock_module.hashlib, "scrypt")
    fallback = hash_pin(PIN)
    assert fallback["alg"] == "pbkdf2_sha256" and fallback["iterations"] >= 600_000
    assert verify_pin(PIN, fallback) and not verify_pin("25807414", fallback)
    monkeypatch.undo()
    assert verify_pin(PIN, record)


# ---------------------------------------------------------------------------
# Wrong tries
# ---------------------------------------------------------------------------


def test_the_wait_schedule() -> None:
    assert [wait_after(n) for n in range(1, MAX_ATTEMPTS)] == [0, 0, 0, 0, 30, 60, 120, 240, 480]
    assert [attempts_left(n) for n in (0, 4, 9, 10, 12)] == [10, 6, 1, 0, 0]
    assert FREE_ATTEMPTS == 5 and MAX_ATTEMPTS == 10
    assert remaining_wait(1000 + 30, 1000, 5) == 30
    assert remaining_wait(1000 + 30, 1040, 5) == 0
    assert remaining_wait(1000 + 86_400, 1000, 5) == 30, "a clock set back does not block for a day"


def test_set_and_check_a_pin(store: Store, clock: ManualClock) -> None:
    pin = AppLock(store, clock)
    assert not pin.has_pin
    with pytest.raises(PinError) as e:
        pin.set_pin(PIN, "25807414")
    assert e.value.code == "mismatch"
    with pytest.raises(PinError) as e:
        pin.set_pin("0000", "0000")
    assert e.value.code == "too_simple"
    pin.set_pin(PIN, PIN)
    assert pin.has_pin
    record = store.setting(PIN_SETTING)
    assert record["device"] == "dev-a" and PIN not in json.dumps(record)
    with pytest.raises(PinError) as e:
        pin.set_pin("13572468", "13572468")
    assert e.value.code == "exists", "a set PIN is changed with the old one, never overwritten"
    assert pin.check(PIN).ok
    assert pin.check(PIN).ok, "as often as needed"


def test_wrong_tries_count_wait_and_sign_out_at_ten(store: Store, clock: ManualClock) -> None:
    pin = AppLock(store, clock)
    pin.set_pin(PIN, PIN)
    for n in range(1, FREE_ATTEMPTS):
        attempt = pin.check("11112222")
        assert (attempt.ok, attempt.failures, attempt.left, attempt.wait) == (False, n, 10 - n, 0)
    attempt = pin.check("11112222")
    assert (attempt.failures, attempt.left, attempt.wait) == (5, 5, 30)
    refused = pin.check(PIN)
    assert refused.refused and not refused.ok and refused.failures == 5, "not even the right PIN during a wait"
    assert pin.failures == 5, "a refused try is not counted"
    clock.advance(29)
    assert pin.wait_remaining() == pytest.approx(1)
    assert pin.check("11112222").refused
    clock.advance(1)
    for n, wait in ((6, 60), (7, 120), (8, 240), (9, 480)):
        attempt = pin.check("11112222")
        assert (attempt.failures, attempt.left, attempt.wait, attempt.wipe) == (n, 10 - n, wait, False)
        clock.advance(wait)
    last = pin.check("11112222")
    assert last.wipe and last.left == 0 and last.failures == 10
    assert pin.wipe_due
    after = pin.check(PIN)
    assert after.wipe and after.refused and not after.ok, "past the limit nothing opens it"


def test_a_right_pin_resets_the_count(store: Store, clock: ManualClock) -> None:
    pin = AppLock(store, clock)
    pin.set_pin(PIN, PIN)
    for _ in range(5):
        pin.check("11112222")
    clock.advance(30)
    assert pin.check(PIN).ok
    assert pin.failures == 0 and pin.wait_remaining() == 0
    assert pin.check("11112222").wait == 0, "the free tries are back"


def test_the_count_and_the_wait_survive_a_restart(tmp_path: Path, clock: ManualClock) -> None:
    path = tmp_path / "phone"
    with open_store(path) as store:
        pin = AppLock(store, clock)
        pin.set_pin(PIN, PIN)
        for _ in range(6):
            clock.advance(pin.wait_remaining())
            pin.check("11112222")
    clock.advance(20)
    with open_store(path) as store:  # the app was killed and started again
        pin = AppLock(store, ManualClock(clock.time()))  # a new process: another monotonic clock, same wall time
        assert pin.failures == 6
        assert pin.wait_remaining() == pytest.approx(40)
        assert pin.check(PIN).refused
        assert pin.failures == 6


def test_a_try_is_counted_before_the_pin_is_checked(store: Store, clock: ManualClock,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Killing the app while a wrong PIN is being checked must not give the try back."""
    pin = AppLock(store, clock)
    pin.set_pin(PIN, PIN)

    def killed(*args: object) -> bool:
        raise KeyboardInterrupt("the app was killed mid-check")

    monkeypatch.setattr(lock_module, "verify_pin", killed)
    with pytest.raises(KeyboardInterrupt):
        pin.check("11112222")
    monkeypatch.undo()
    assert AppLock(store, clock).failures == 1


def test_change_needs_the_old_pin_and_a_wrong_one_counts(store: Store, clock: ManualClock) -> None:
    pin = AppLock(store, clock)
    pin.set_pin(PIN, PIN)
    with pytest.raises(PinError) as e:
        pin.change_pin("11112222", "1111", "1111")
    assert e.value.code == "too_simple"
    assert pin.failures == 0, "a bad new PIN is refused before the old one is tried"
    attempt = pin.change_pin("11112222", "13572468", "13572468")
    assert not attempt.ok and pin.failures == 1
    assert pin.check(PIN).ok, "unchanged"
    assert pin.change_pin(PIN, "13572468", "13572468").ok
    assert pin.check("13572468").ok and not pin.check(PIN).ok


def test_remove_needs_the_pin_and_only_volunteers_may(tmp_path: Path, clock: ManualClock) -> None:
    with open_store(tmp_path / "volunteer") as store:
        pin = AppLock(store, clock)
        pin.set_pin(PIN, PIN)
        assert not pin.remove_pin("11112222").ok and pin.has_pin
        assert pin.remove_pin(PIN).ok and not pin.has_pin
    with open_store(tmp_path / "leader", role="leader") as store:
        pin = AppLock(store, clock)
        pin.set_pin(PIN, PIN)
        with pytest.raises(PinError) as e:
            pin.remove_pin(PIN)
        assert e.value.code == "required" and pin.has_pin and pin.failures == 0


def test_a_pin_belongs_to_its_enrolment(store: Store, clock: ManualClock) -> None:
    pin = AppLock(store, clock)
    pin.set_pin(PIN, PIN)
    store.purge_personal()  # a sign-out: settings survive a purge, the PIN must not
    assert not pin.has_pin and pin.failures == 0
    store.enrol("http://127.0.0.1:8000", "dev-b", "token-b", "volunteer", {})
    assert not pin.has_pin, "the next volunteer of this phone sets their own"
    pin.set_pin("13572468", "13572468")
    assert pin.has_pin
    pin.forget()
    assert store.setting(PIN_SETTING) is None


def test_leaders_enrolled_in_the_app_must_set_a_pin(tmp_path: Path, clock: ManualClock) -> None:
    with open_store(tmp_path / "leader", role="leader") as store:
        pin = AppLock(store, clock)
        assert pin.role_requires_pin and not pin.required
        pin.require()
        assert pin.required
        store.purge_personal()
        store.enrol("http://127.0.0.1:8000", "dev-c", "t", "leader", {})
        assert not pin.required, "tied to the enrolment that asked for it"
    with open_store(tmp_path / "volunteer") as store:
        pin = AppLock(store, clock)
        pin.require()
        assert not pin.role_requires_pin and not pin.required


def test_pin_and_count_are_not_readable_without_an_enrolment(tmp_path: Path, clock: ManualClock) -> None:
    with open_store(tmp_path / "new", enrol=False) as store:
        pin = AppLock(store, clock)
        assert not pin.has_pin and pin.failures == 0 and not pin.wipe_due
        with pytest.raises(PinError):
            pin.set_pin(PIN, PIN)
        with pytest.raises(PinError):
            pin.check(PIN)


# ---------------------------------------------------------------------------
# The timeout
# ---------------------------------------------------------------------------


def test_the_timeout_setting(store: Store, clock: ManualClock) -> None:
    pin = AppLock(store, clock)
    assert pin.timeout_minutes == 5 and pin.timeout_seconds == 300
    pin.set_timeout(15)
    assert AppLock(store, clock).timeout_minutes == 15
    for bad in (0, 31, -5):
        with pytest.raises(ValueError):
            pin.set_timeout(bad)
    store.set_setting("lock.timeout_minutes", "a lot")  # a damaged value
    assert pin.timeout_minutes == 5
    store.set_setting("lock.timeout_minutes", 999)
    assert pin.timeout_minutes == 30
    assert clamp_timeout(None) == 5 and clamp_timeout(0) == 1


def test_idle_timer_decisions(clock: ManualClock) -> None:
    idle = IdleTimer(clock, 300)
    assert not idle.expired() and idle.remaining() == 300
    clock.advance(299)
    assert not idle.expired() and idle.remaining() == pytest.approx(1)
    idle.touch()
    clock.advance(299)
    assert not idle.expired()
    clock.advance(1)
    assert idle.expired() and idle.remaining() == 0
    idle.timeout = 600  # a longer timeout set meanwhile
    assert not idle.expired()


def test_the_manual_clock_sleeps_in_its_own_time(clock: ManualClock) -> None:
    async def scenario() -> bool:
        sleeper = asyncio.ensure_future(clock.sleep(60))
        for _ in range(3):  # it runs and looks at the clock, which has not moved: no real time needed
            await asyncio.sleep(0)
        assert not sleeper.done()
        clock.advance(60)
        await asyncio.wait_for(sleeper, 1)
        return True

    assert asyncio.run(scenario())


def test_the_system_clock_counts_while_the_phone_sleeps() -> None:
    """On Linux and Android CLOCK_MONOTONIC stops in suspend; the lock uses CLOCK_BOOTTIME."""
    import sys
    import time

    clock = SystemClock()
    if sys.platform.startswith("linux"):
        assert clock._clock_id == time.CLOCK_BOOTTIME
    a = clock.monotonic()
    assert clock.monotonic() >= a
    assert abs(clock.time() - time.time()) < 5
