"""The app lock's flow (field_app/views/models/lock.py): what covers the app,
the keypad, wrong PINs and their waits, the sign-out steps, the PIN tasks."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from field_app.lock import MAX_ATTEMPTS, AppLock, ManualClock
from field_app.net.errors import Offline
from field_app.store import Store
from field_app.views.models.lock import (
    Cover,
    LockFlow,
    Note,
    PinTask,
    Submit,
    attempt_text,
    counts_as_person,
    keypad_key,
    pin_mode,
    wait_text,
)

from ..support import offline_store

PIN = "25807413"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = offline_store(tmp_path / "phone")
    yield s
    s.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def locked_flow(store: Store, clock: ManualClock) -> LockFlow:
    pin = AppLock(store, clock)
    pin.set_pin(PIN, PIN)
    flow = LockFlow(pin, enrolling=False)
    flow.lock()
    return flow


def type_and_check(flow: LockFlow, digits: str) -> None:
    for d in digits:
        assert flow.press(d)
    assert flow.submit("vi") is Submit.CHECK
    assert flow.busy and flow.digits == ""
    flow.checked(flow.check(), "vi")


def test_what_covers_the_app(store: Store, clock: ManualClock) -> None:
    pin = AppLock(store, clock)
    flow = LockFlow(pin, enrolling=False)
    assert flow.cover(signed_in=True, needs_enrolment=False, covered=False) is Cover.APP
    assert not flow.active(True)
    pin.set_pin(PIN, PIN)
    assert flow.active(True) and not flow.active(False)
    flow.lock()
    assert flow.cover(signed_in=True, needs_enrolment=False, covered=False) is Cover.LOCK
    # signed out in another tab: the lock lets go, then there is nothing to cover
    assert flow.cover(signed_in=False, needs_enrolment=True, covered=True) is Cover.RELEASED
    flow.release()
    assert flow.cover(signed_in=False, needs_enrolment=True, covered=False) is Cover.OUT


def test_a_pin_removed_in_another_tab_releases_the_lock(store: Store, clock: ManualClock) -> None:
    flow = locked_flow(store, clock)
    AppLock(store, clock).remove_pin(PIN)  # another session, with the PIN
    assert flow.cover(signed_in=True, needs_enrolment=False, covered=True) is Cover.RELEASED


def test_a_volunteer_just_enrolled_is_offered_a_pin_once(store: Store, clock: ManualClock) -> None:
    flow = LockFlow(AppLock(store, clock), enrolling=True)
    assert flow.cover(signed_in=True, needs_enrolment=False, covered=False) is Cover.APP
    assert flow.offer_due and not flow.enrolling
    flow.offer_due = False
    assert flow.cover(signed_in=True, needs_enrolment=False, covered=False) is Cover.APP
    assert not flow.offer_due


@pytest.mark.parametrize("role", ["leader", "officer", "admin"])
def test_a_commune_or_team_role_just_enrolled_must_set_a_pin_first(tmp_path: Path, clock: ManualClock,
                                                                    role: str) -> None:
    with offline_store(tmp_path / role, role=role) as store:
        pin = AppLock(store, clock)
        flow = LockFlow(pin, enrolling=True)
        assert flow.cover(signed_in=True, needs_enrolment=False, covered=False) is Cover.SETUP
        assert not flow.offer_due and pin.required
        pin.set_pin(PIN, PIN)
        assert flow.cover(signed_in=True, needs_enrolment=False, covered=True) is Cover.APP


def test_the_keypad(store: Store, clock: ManualClock) -> None:
    flow = locked_flow(store, clock)
    face = flow.face("vi")
    assert (face.dots, face.dots_label, face.typed, face.note) == ("—", "Đã nhập 0 chữ số", False, None)
    for d in "123456789":
        flow.press(d)
    assert flow.digits == "12345678", "a PIN has at most 8 digits"
    assert flow.backspace() and flow.digits == "1234567"
    face = flow.face("vi")
    assert (face.dots, face.dots_label, face.typed) == ("•" * 7, "Đã nhập 7 chữ số", True)
    flow.digits = "258"
    assert flow.submit("vi") is Submit.TOO_SHORT
    assert flow.note == Note("problem", "Mã PIN có từ 4 đến 8 chữ số.") and flow.digits == "258"
    flow.digits = ""
    type_and_check(flow, PIN)
    assert not flow.busy and flow.note == Note("problem", "Mã PIN có từ 4 đến 8 chữ số.")
    assert flow.pin.failures == 0
    flow.release()
    assert flow.submit("vi") is Submit.IGNORED, "OK does nothing once unlocked"


def test_busy_keys_do_nothing(store: Store, clock: ManualClock) -> None:
    flow = locked_flow(store, clock)
    flow.busy = True
    assert not flow.press("1") and not flow.backspace() and flow.submit("vi") is Submit.IGNORED
    assert flow.face("vi").keys_disabled and flow.face("vi").forgot_disabled


def test_wrong_pins_say_how_many_are_left_then_wait(store: Store, clock: ManualClock) -> None:
    flow = locked_flow(store, clock)
    type_and_check(flow, "1357")
    assert flow.note == Note("problem", "Sai mã PIN. Còn 9 lần thử.")
    for _ in range(3):
        type_and_check(flow, "1357")
    assert flow.note == Note("problem", "Sai mã PIN. Còn 6 lần thử.")
    assert not flow.face("vi").keys_disabled and not flow.counting_down()
    type_and_check(flow, "1357")  # the 5th: a wait of 30 s
    face = flow.face("vi")
    assert face.note == Note("problem", "Sai mã PIN. Còn 5 lần thử; sai hết thì máy đăng xuất và xóa dữ liệu.")
    assert (face.waiting, face.wait, face.keys_disabled) == (30.0, "Thử lại sau 0:30", True)
    assert flow.counting_down()
    clock.advance(30)
    face = flow.face("vi")
    assert (face.waiting, face.keys_disabled) == (0.0, False) and not flow.counting_down()


def test_a_new_session_during_a_wait_says_why(store: Store, clock: ManualClock) -> None:
    flow = locked_flow(store, clock)
    for _ in range(5):
        type_and_check(flow, "1357")
    clock.advance(20)
    again = LockFlow(AppLock(store, clock), enrolling=False)  # the app restarted
    again.lock()
    face = again.face("vi")
    assert face.note == Note("problem", "Sai mã PIN. Còn 5 lần thử; sai hết thì máy đăng xuất và xóa dữ liệu.")
    assert face.waiting == 10.0 and face.wait == "Thử lại sau 0:10"
    for d in PIN:
        again.press(d)
    assert again.submit("vi") is Submit.CHECK
    again.checked(again.check(), "vi")
    assert again.note == Note("problem", "Chưa thử lại được: hãy chờ hết thời gian.")
    assert AppLock(store, clock).failures == 5, "a try during the wait is not checked, nor counted"


def test_the_last_wrong_pin_signs_out_even_after_a_kill(store: Store, clock: ManualClock) -> None:
    flow = locked_flow(store, clock)
    for _ in range(MAX_ATTEMPTS - 1):
        clock.advance(10_000)
        type_and_check(flow, "1357")
    assert flow.note == Note("problem", "Sai mã PIN. Chỉ còn 1 lần thử; sai nữa thì máy đăng xuất và xóa dữ liệu.")
    clock.advance(10_000)
    for d in "1357":
        flow.press(d)
    assert flow.submit("vi") is Submit.CHECK
    attempt = flow.check()
    flow.checked(attempt, "vi")
    assert attempt.wipe and not flow.busy
    # killed before the sign-out: the next session finishes it, every key off
    again = LockFlow(AppLock(store, clock), enrolling=False)
    assert again.cover(signed_in=True, needs_enrolment=False, covered=False) is Cover.FINISH_SIGN_OUT
    assert again.locked and again.busy and again.face("vi").keys_disabled
    assert again.start_sign_out("limit") is True
    assert again.start_sign_out("limit") is None, "one sign-out at a time"
    face = again.face("vi")
    assert face.signing_out and face.waiting == 0 and face.note is None
    assert again.signed_out("limit", "vi") == ("Nhập sai mã PIN 10 lần: máy đã đăng xuất và xóa dữ liệu hộ dân. "
                                               "Xin tổ trưởng mã đăng ký mới.")
    assert not again.locked and not again.signing_out and not AppLock(store, clock).has_pin


def test_a_forgotten_pin_signs_out_and_says_why_when_it_cannot_send(store: Store, clock: ManualClock) -> None:
    flow = locked_flow(store, clock)
    assert flow.may_ask_forgot()
    assert flow.start_sign_out("forgot") is False, "not forced: unsent events are asked about first"
    assert not flow.may_ask_forgot()
    reason = flow.sign_out_refused(Offline("timed out"), "vi")
    assert reason == "Không có mạng hoặc máy chủ không trả lời. Dữ liệu vẫn an toàn trên máy."
    assert flow.note == Note("problem", reason) and not flow.busy and flow.locked
    assert flow.start_sign_out("discard") is True
    flow.sign_out_failed("vi")
    assert flow.note == Note("problem", "Chưa đăng xuất được. Hãy thử lại.") and not flow.signing_out
    assert flow.start_sign_out("discard") is True
    assert flow.signed_out("discard", "vi") == "Đã đăng xuất và xóa dữ liệu trên máy."


def test_what_counts_as_a_person() -> None:
    assert counts_as_person(True, "route_change") and counts_as_person(True, "keyboard_event")
    assert not counts_as_person(True, "resize") and not counts_as_person(True, "app_lifecycle_state_change")
    assert counts_as_person(False, "click") and counts_as_person(False, None)  # None: a value typed
    assert not counts_as_person(False, "size_change") and not counts_as_person(False, "load")


def test_a_keyboard_on_the_lock_screen() -> None:
    assert [keypad_key(k) for k in ("7", "Numpad 7", "Backspace", "Enter", "a", "F5", "", None)] == \
        ["7", "7", "back", "ok", None, None, None, None]


def test_words() -> None:
    assert [wait_text(s) for s in (30, 29.2, 60, 480, 0)] == ["0:30", "0:30", "1:00", "8:00", "0:00"]
    from field_app.lock import Attempt
    assert attempt_text(Attempt(False, 3, 7, 0.0, refused=True)) == "Chưa thử lại được: hãy chờ hết thời gian."
    assert attempt_text(Attempt(False, 2, 8, 0.0), lang="en").startswith("Wrong PIN")


def test_which_pin_task_a_route_opens() -> None:
    assert pin_mode("set", has_pin=False, role_requires_pin=False) == "set"
    assert pin_mode("set", has_pin=True, role_requires_pin=False) == "change"
    assert pin_mode("change", has_pin=False, role_requires_pin=False) == "set"
    assert pin_mode("remove", has_pin=True, role_requires_pin=False) == "remove"
    assert pin_mode("remove", has_pin=True, role_requires_pin=True) == "change"
    assert pin_mode("nonsense", has_pin=False, role_requires_pin=False) == "set"


def test_the_pin_tasks(store: Store, clock: ManualClock) -> None:
    pin = AppLock(store, clock)
    setting = PinTask(pin, "set")
    assert setting.fields == ("new", "again")
    assert setting.save("", "1234", "1234").field == "new"
    assert setting.save("", "1234", "1234").error == ("Mã này quá dễ đoán (một số lặp lại hoặc dãy liên tiếp). "
                                                      "Hãy chọn mã khác.")
    mismatch = setting.save("", PIN, "25807414")
    assert (mismatch.ok, mismatch.field, mismatch.error) == (False, "again", "Hai lần nhập không giống nhau.")
    assert setting.save("", PIN, PIN).ok and pin.has_pin
    exists = setting.save("", PIN, PIN)
    assert (exists.ok, exists.field, exists.error) == (False, None, "Máy đã có mã PIN: hãy dùng Đổi mã PIN.")

    changing = PinTask(pin, "change")
    assert changing.fields == ("current", "new", "again")
    wrong = changing.save("1357", "9630", "9630")
    assert (wrong.ok, wrong.field, wrong.error) == (False, "current", "Sai mã PIN. Còn 9 lần thử.")
    assert pin.failures == 1, "a wrong current PIN counts as a wrong try on the lock screen"
    assert changing.save(PIN, "9630", "9630").ok and pin.check("9630").ok

    removing = PinTask(pin, "remove")
    assert removing.fields == ("current",)
    for _ in range(4):
        removing.save("1357", "", "")
    waited = removing.save("1357", "", "")
    assert waited.error == ("Sai mã PIN. Còn 5 lần thử; sai hết thì máy đăng xuất và xóa dữ liệu. "
                            "Thử lại sau 0:30")
    clock.advance(30)
    assert removing.save("9630", "", "").ok and not pin.has_pin


def test_the_last_wrong_current_pin_in_settings_signs_out(store: Store, clock: ManualClock) -> None:
    pin = AppLock(store, clock)
    pin.set_pin(PIN, PIN)
    task = PinTask(pin, "change")
    for _ in range(MAX_ATTEMPTS - 1):
        clock.advance(10_000)
        assert not task.save("1357", "9630", "9630").wipe
    clock.advance(10_000)
    last = task.save("1357", "9630", "9630")
    assert (last.ok, last.wipe) == (False, True)


def test_a_leader_cannot_remove_the_pin(tmp_path: Path, clock: ManualClock) -> None:
    with offline_store(tmp_path / "leader", role="leader") as store:
        pin = AppLock(store, clock)
        pin.set_pin(PIN, PIN)
        refused = PinTask(pin, "remove").save(PIN, "", "")
        assert (refused.ok, refused.field) == (False, None)
        assert refused.error == "Với vai trò này, mã PIN là bắt buộc: chỉ đổi được, không bỏ được."
        assert pin.has_pin
