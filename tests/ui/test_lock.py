"""The app lock through the UI harness: the PIN in Settings, locking after
inactivity and after the background, the lock screen (wrong PINs, waits, the
10th wrong PIN, a forgotten PIN), leaders who must set a PIN. Time is a
`ManualClock` handed to build_app: nothing here waits for real minutes."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import flet as ft
import pytest

from field_app.app import build_app
from field_app.lock import AppLock, ManualClock
from field_app.net.sync import SyncStatus

from ..store_support import household_list
from .harness import AppHarness, wait_for
from .volunteer import WARD, add_household, device_store, enrolled_dir, in_process_server, shell_of  # noqa: F401

PIN = "2580"
ADDRESS = "Số 12, ngõ 5, phố Lê Lợi"
NAME = "Nguyễn Văn An"
PEOPLE = [{"label": NAME, "birth_year": 1958, "card": "cccd_chip", "vneid": "l1_approved"}]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def start(make_harness: Any, data: Path, clock: ManualClock, **kw: Any) -> AppHarness:
    options = {k: kw.pop(k) for k in ("http", "server_url", "autosync") if k in kw}
    options.setdefault("autosync", False)
    return make_harness(lambda page: build_app(page, data_dir=data, lock_clock=clock, **options), **kw)


def with_pin(data: Path, pin: str = PIN) -> Path:
    with device_store(data) as store:
        AppLock(store).set_pin(pin, pin)
    return data


def locked(h: AppHarness) -> bool:
    return h.top_view["route"] == "/lock"


def type_pin(h: AppHarness, pin: str) -> None:
    for d in pin:
        h.click(h.get(key=f"lock.key.{d}"))
    h.click(h.get(key="lock.key.ok"))


def client_text(h: AppHarness) -> str:
    """Every string the client holds: all views, overlays and dialogs, after
    the client has reported the closed dialogs dismissed (as Flutter does)."""
    dialogs = h.root.props.get("_dialogs")
    if dialogs is not None:
        for dialog in list(dialogs.props.get("controls", [])):
            if dialog.props.get("open") is not True and dialog.props.get("on_dismiss"):
                h.event(dialog, "dismiss")
    return " ".join(h.texts(scope="page"))


def assert_nothing_of_the_data(h: AppHarness) -> None:
    assert locked(h), h.dump()
    assert [v["route"] for v in h.views] == ["/lock"], "every other view left the client"
    assert h.get(ft.AppBar)["title"].text == "Gõ Cửa"
    text = client_text(h)
    for secret in (ADDRESS, NAME, "Tổ dân phố 3"):
        assert secret not in text, f"{secret!r} is still on the client while locked"
    assert not h.exists(ft.NavigationBar)


def go_idle(h: AppHarness, clock: ManualClock, seconds: float) -> None:
    clock.advance(seconds)
    h.settle()


# ---------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------


def test_set_change_and_remove_the_pin_in_settings(make_harness: Any, tmp_path: Path, clock: ManualClock) -> None:
    h = start(make_harness, enrolled_dir(tmp_path), clock, width=360, height=640)
    h.click(h.get(ft.NavigationBarDestination, text="Cài đặt"))
    assert h.get(key="settings.lock.state")["value"] == \
        "Chưa có mã PIN: ai cầm máy này cũng xem được dữ liệu hộ dân."
    h.click(h.get(key="settings.lock.set"))
    assert [v["route"] for v in h.views] == ["/settings", "/settings/pin/set"]
    assert h.get(ft.AppBar, where=lambda c: c.parent is h.top_view)["title"].text == "Đặt mã PIN"
    field = h.get(key="pin.new")
    assert field["password"] is True and field["keyboard_type"] == "number" and field["max_length"] == 8
    h.change(h.get(key="pin.new"), "1234")
    h.change(h.get(key="pin.again"), "1234")
    h.click(h.get(key="pin.save"))
    assert h.get(key="pin.new")["error"].startswith("Mã này quá dễ đoán")
    h.change(h.get(key="pin.new"), "258")
    h.click(h.get(key="pin.save"))
    assert h.get(key="pin.new")["error"] == "Mã PIN cần ít nhất 4 chữ số."
    h.change(h.get(key="pin.new"), PIN)
    h.change(h.get(key="pin.again"), "2581")
    h.click(h.get(key="pin.save"))
    assert h.get(key="pin.again")["error"] == "Hai lần nhập không giống nhau."
    h.change(h.get(key="pin.again"), PIN)
    h.click(h.get(key="pin.save"))
    assert h.route == "/settings" and h.exists(ft.Text, text="Đã đặt mã PIN.")
    store = shell_of(h).store
    assert AppLock(store).has_pin and PIN not in str(store.setting("lock.pin"))
    assert h.get(key="settings.lock.state")["value"] == \
        "Đã có mã PIN. Ứng dụng tự khóa sau 5 phút không dùng và mỗi lần mở lại."

    # changing it needs the old one, and a wrong old one counts as a wrong try
    h.click(h.get(key="settings.lock.change"))
    assert h.route == "/settings/pin/change"
    h.change(h.get(key="pin.current"), "1357")
    h.change(h.get(key="pin.new"), "3690")
    h.change(h.get(key="pin.again"), "3690")
    h.click(h.get(key="pin.save"))
    assert h.get(key="pin.current")["error"] == "Sai mã PIN. Còn 9 lần thử."
    assert AppLock(store).failures == 1
    h.change(h.get(key="pin.current"), PIN)
    h.click(h.get(key="pin.save"))
    assert h.route == "/settings" and h.exists(ft.Text, text="Đã đổi mã PIN.")
    assert AppLock(store).check("3690").ok

    # removing it needs it too (a volunteer may)
    h.click(h.get(key="settings.lock.remove"))
    h.change(h.get(key="pin.current"), PIN)
    h.click(h.get(key="pin.save"))
    assert h.get(key="pin.current")["error"] == "Sai mã PIN. Còn 9 lần thử."
    h.change(h.get(key="pin.current"), "3690")
    h.click(h.get(key="pin.save"))
    assert h.exists(ft.Text, text="Đã bỏ mã PIN.") and not AppLock(store).has_pin
    assert not h.exists(key="settings.lock.now")


def test_the_timeout_is_chosen_in_settings(make_harness: Any, tmp_path: Path, clock: ManualClock) -> None:
    h = start(make_harness, with_pin(enrolled_dir(tmp_path)), clock)
    type_pin(h, PIN)
    h.click(h.get(ft.NavigationBarDestination, text="Cài đặt"))
    chips = h.get(key="settings.lock.timeout")
    assert [c.text for c in chips.children()] == ["1 phút", "2 phút", "5 phút", "10 phút", "15 phút", "30 phút"]
    assert h.get(key="settings.lock.timeout.5")["selected"] is True
    chip = h.get(key="settings.lock.timeout.1")
    h.update_props(chip, {"selected": True})
    h.event(chip, "select", True)
    assert shell_of(h).store.setting("lock.timeout_minutes") == 1
    assert h.get(key="settings.lock.state")["value"].startswith("Đã có mã PIN. Ứng dụng tự khóa sau 1 phút")
    go_idle(h, clock, 59)
    assert not locked(h)
    go_idle(h, clock, 1)
    assert locked(h)


def test_lock_now(make_harness: Any, tmp_path: Path, clock: ManualClock) -> None:
    h = start(make_harness, with_pin(enrolled_dir(tmp_path)), clock)
    type_pin(h, PIN)
    h.click(h.get(ft.NavigationBarDestination, text="Cài đặt"))
    h.click(h.get(key="settings.lock.now"))
    assert locked(h)


# ---------------------------------------------------------------------------
# Locking
# ---------------------------------------------------------------------------


def test_a_new_session_starts_locked_and_a_deep_link_does_not_get_around_it(
        make_harness: Any, tmp_path: Path, clock: ManualClock) -> None:
    data = with_pin(enrolled_dir(tmp_path))
    hid, _ = add_household(data, ADDRESS, PEOPLE, consent="given")
    h = start(make_harness, data, clock, route=f"/households/{hid}", width=360, height=640)
    assert_nothing_of_the_data(h)
    h.go("/settings")
    assert_nothing_of_the_data(h)
    type_pin(h, PIN)
    assert h.route == "/settings" and h.exists(ft.NavigationBar)


def test_inactivity_locks_every_screen_and_unlocking_gives_it_back(
        make_harness: Any, tmp_path: Path, clock: ManualClock) -> None:
    data = with_pin(enrolled_dir(tmp_path))
    hid, _ = add_household(data, ADDRESS, PEOPLE, consent="given")
    h = start(make_harness, data, clock, width=360, height=640)
    type_pin(h, PIN)
    # a tab
    h.click(h.get(ft.NavigationBarDestination, text="Hộ dân"))
    assert h.exists(text_contains=ADDRESS)
    go_idle(h, clock, 299)
    assert not locked(h), "4 min 59 s: not yet"
    h.click(h.get(ft.NavigationBarDestination, text="Trang chủ"))  # a tap starts the 5 minutes again
    go_idle(h, clock, 299)
    assert not locked(h)
    go_idle(h, clock, 1)
    assert_nothing_of_the_data(h)
    type_pin(h, PIN)
    assert h.route == "/" and h.exists(ft.NavigationBar)

    # a pushed view whose AppBar and body name the household, with a dialog open on it
    h.go(f"/households/{hid}")
    assert h.exists(text=NAME)
    h.click(h.get(key="consent.change"))
    h.click(h.get(key="consent.declined"))
    assert h.exists(ft.Text, text="Hộ từ chối cung cấp thông tin?")
    go_idle(h, clock, 300)
    assert_nothing_of_the_data(h)
    assert not h.exists(ft.AlertDialog), "the dialog went with the screen (as if cancelled)"
    type_pin(h, PIN)
    assert [v["route"] for v in h.views] == ["/households", f"/households/{hid}"]
    assert h.exists(text=NAME) and not h.exists(ft.AlertDialog)
    assert shell_of(h).store.household(hid).consent == "given", "the cancelled dialog changed nothing"


def test_unlocking_keeps_what_was_being_typed(make_harness: Any, tmp_path: Path, clock: ManualClock) -> None:
    h = start(make_harness, with_pin(enrolled_dir(tmp_path)), clock)
    type_pin(h, PIN)
    h.go("/households/new")
    h.change(h.get(key="add.address"), "Số 7, hẻm 3")
    go_idle(h, clock, 300)
    assert locked(h) and "Số 7, hẻm 3" not in client_text(h)
    type_pin(h, PIN)
    assert h.get(key="add.address")["value"] == "Số 7, hẻm 3"


def test_typing_counts_as_interaction(make_harness: Any, tmp_path: Path, clock: ManualClock) -> None:
    h = start(make_harness, with_pin(enrolled_dir(tmp_path)), clock)
    type_pin(h, PIN)
    h.go("/households/new")
    field = h.get(key="add.address")
    for n in range(1, 4):
        go_idle(h, clock, 200)
        h.update_props(field, {"value": "Số " + str(n)})  # the client reporting a keystroke, no event handler
    assert not locked(h)
    go_idle(h, clock, 300)
    assert locked(h)


def test_back_from_the_background_after_the_timeout_locks(make_harness: Any, tmp_path: Path,
                                                         clock: ManualClock) -> None:
    h = start(make_harness, with_pin(enrolled_dir(tmp_path)), clock)
    type_pin(h, PIN)
    page = h.root.id
    h.event(page, "app_lifecycle_state_change", {"state": "inactive"})
    h.event(page, "app_lifecycle_state_change", {"state": "hide"})
    # on a phone the app's Python is frozen in the background: its timer cannot fire.
    # Stop it here to show that the return alone is enough.
    shell_of(h).lock._stop_timer()
    clock.advance(120)
    h.event(page, "app_lifecycle_state_change", {"state": "show"})
    h.event(page, "app_lifecycle_state_change", {"state": "resume"})
    assert not locked(h), "2 minutes away: still open"
    shell_of(h).lock._stop_timer()
    h.event(page, "app_lifecycle_state_change", {"state": "hide"})
    clock.advance(301)
    h.event(page, "app_lifecycle_state_change", {"state": "show"})
    assert locked(h)


def test_a_keyboard_types_the_pin(make_harness: Any, tmp_path: Path, clock: ManualClock) -> None:
    h = start(make_harness, with_pin(enrolled_dir(tmp_path)), clock, platform="linux", web=True, width=1280,
              height=800)
    keys = {"shift": False, "ctrl": False, "alt": False, "meta": False}
    for key in ("2", "Numpad 5", "9", "Backspace", "8", "0", "Enter"):
        h.event(h.root.id, "keyboard_event", {"key": key, **keys})
    assert not locked(h) and h.exists(ft.NavigationRail)


def test_while_locked_hidden_controls_do_nothing_and_the_sync_goes_on(
        make_harness: Any, tmp_path: Path, clock: ManualClock) -> None:
    data = with_pin(enrolled_dir(tmp_path))
    add_household(data, ADDRESS, PEOPLE, consent="given")
    h = start(make_harness, data, clock)
    type_pin(h, PIN)
    h.click(h.get(ft.NavigationBarDestination, text="Cài đặt"))
    h.click(h.get(key="settings.sign_out"))
    confirm = h.get(key="settings.sign_out_confirm")
    go_idle(h, clock, 300)
    assert locked(h) and not h.exists(ft.AlertDialog)
    # the closed dialog is still mounted until the client reports it dismissed: a
    # hand-made message pressing its button must not sign the device out
    h.event(confirm, "click")
    shell = shell_of(h)
    assert shell.store.signed_in and shell.store.pending_count() == 3
    assert locked(h) and not h.exists(ft.AlertDialog)
    # the background sync's news reaches a locked session without showing anything
    shell.device._on_status(SyncStatus("syncing", 0.5, None, None, None, 0, None))
    h.settle()
    shell.device._on_status(SyncStatus("error", 0.0, None, "Không có mạng", "Offline", 1, 30))
    h.settle()
    assert_nothing_of_the_data(h)
    shell.snack("Đã lưu: " + NAME)  # a late answer of a hidden screen
    assert NAME not in client_text(h)


# ---------------------------------------------------------------------------
# The lock screen
# ---------------------------------------------------------------------------


def test_the_lock_screen_on_a_small_phone(make_harness: Any, tmp_path: Path, clock: ManualClock) -> None:
    h = start(make_harness, with_pin(enrolled_dir(tmp_path)), clock, width=360, height=640)
    assert h.get(key="lock.title")["value"] == "Ứng dụng đang khóa"
    for d in "0123456789":
        button = h.get(key=f"lock.key.{d}")
        assert button["height"] >= 48 and button.text == d
    assert h.get(key="lock.key.back").text == "Xóa chữ số cuối"  # the icon's semantics label names the key
    h.click(h.get(key="lock.key.2"))
    h.click(h.get(key="lock.key.5"))
    assert h.get(key="lock.dots")["value"] == "••"
    h.click(h.get(key="lock.key.back"))
    assert h.get(key="lock.dots")["value"] == "•"
    h.click(h.get(key="lock.key.ok"))
    assert h.get(key="lock.message")["value"] == "Mã PIN có từ 4 đến 8 chữ số.", "too short: no try spent"
    assert AppLock(shell_of(h).store).failures == 0
    for d in "123456789":
        h.click(h.get(key=f"lock.key.{d}"))
    assert h.get(key="lock.dots")["value"] == "••••••••", "8 digits at most"


def test_wrong_pins_say_how_many_are_left_then_wait(make_harness: Any, tmp_path: Path, clock: ManualClock) -> None:
    data = with_pin(enrolled_dir(tmp_path))
    h = start(make_harness, data, clock, width=360, height=640)
    for left in (9, 8, 7, 6):
        type_pin(h, "1357")
        assert h.get(key="lock.message")["value"] == f"Sai mã PIN. Còn {left} lần thử."
    type_pin(h, "1357")
    assert h.get(key="lock.message")["value"] == "Sai mã PIN. Còn 5 lần thử; sai hết thì máy đăng xuất và xóa dữ liệu."
    assert h.get(key="lock.wait")["value"] == "Thử lại sau 0:30"
    assert h.get(key="lock.key.1").disabled and h.get(key="lock.key.ok").disabled
    go_idle(h, clock, 10)
    assert h.get(key="lock.wait")["value"] == "Thử lại sau 0:20", "the countdown moves"
    h.close()

    # a restart does not end the wait
    again = start(make_harness, data, clock, width=360, height=640)
    assert locked(again) and again.get(key="lock.key.1").disabled
    assert again.get(key="lock.wait")["value"] == "Thử lại sau 0:20"
    go_idle(again, clock, 20)
    assert not again.get(key="lock.key.1").disabled and not again.exists(key="lock.wait")
    type_pin(again, "1357")
    assert again.get(key="lock.wait")["value"] == "Thử lại sau 1:00", "the wait doubles"
    go_idle(again, clock, 60)
    type_pin(again, PIN)
    assert not locked(again)
    assert AppLock(shell_of(again).store).failures == 0


def test_ten_wrong_pins_send_then_sign_out_and_purge(in_process_server: Any, make_harness: Any, tmp_path: Path,
                                                     clock: ManualClock) -> None:
    hamlet = in_process_server.hamlet()
    h = start(make_harness, tmp_path / "phone", clock, http=in_process_server.client, server_url=in_process_server.url)
    h.change(h.get(key="enrol.code"), in_process_server.code("volunteer", hamlets=(hamlet,)))
    h.click(h.get(key="enrol.submit"))
    wait_for(h, lambda: h.exists(ft.NavigationBar))
    # a volunteer is asked for a PIN right after enrolment
    assert h.get(key="lock.offer")["value"].startswith("Đặt mã PIN để ứng dụng tự khóa")
    h.click(h.get(key="lock.offer_set"))
    assert h.route == "/settings/pin/set" and not h.exists(key="lock.offer")
    h.change(h.get(key="pin.new"), PIN)
    h.change(h.get(key="pin.again"), PIN)
    h.click(h.get(key="pin.save"))
    shell = shell_of(h)
    store = shell.store
    assert AppLock(store).has_pin
    shell.device.sync_now()
    wait_for(h, lambda: store.hamlets())
    store.add_household(hamlet, ADDRESS, "given")
    assert store.pending_count() == 1
    h.click(h.get(key="settings.lock.now"))
    # the background sync goes on under the lock: a household added on the server arrives, unseen
    in_process_server.household(hamlet, "Số 40, phố Trần Phú", ("Lê Văn Tám",))
    shell.device.sync_now()
    wait_for(h, lambda: any(x.address == "Số 40, phố Trần Phú" for x in household_list(store)))
    assert locked(h) and "Trần Phú" not in client_text(h) and "Lê Văn Tám" not in client_text(h)
    for _n in range(1, 10):
        type_pin(h, "1357")
        clock.advance(600)
        h.settle()
    assert h.get(key="lock.message")["value"] == "Sai mã PIN. Chỉ còn 1 lần thử; sai nữa thì máy đăng xuất và xóa dữ liệu."
    type_pin(h, "1357")
    wait_for(h, lambda: h.exists(ft.Text, text="Đăng ký máy này"), timeout=20)
    assert not store.signed_in and household_list(store) == [] and store.pending_count() == 0
    assert store.setting("lock.pin") is None, "the PIN went with the enrolment"
    assert h.exists(ft.Text, text_contains="Nhập sai mã PIN 10 lần")
    [row] = in_process_server.totals()["rows"]
    assert row["households"] == 2, "the unsent household reached the server before the purge"


def test_the_tenth_wrong_pin_signs_out_even_offline_and_even_after_a_kill(
        make_harness: Any, tmp_path: Path, clock: ManualClock) -> None:
    data = with_pin(enrolled_dir(tmp_path))  # its server is unreachable
    add_household(data, ADDRESS, PEOPLE, consent="given")
    with device_store(data) as store:
        pin = AppLock(store, clock)
        for _ in range(9):
            clock.advance(pin.wait_remaining())
            pin.check("1357")
        clock.advance(pin.wait_remaining())
        pin.check("1357")  # the 10th: the app was killed before it could sign out
    h = start(make_harness, data, clock)
    wait_for(h, lambda: h.exists(ft.Text, text="Đăng ký máy này"), timeout=30)
    with device_store(data) as store:
        assert not store.signed_in and household_list(store) == []


def test_a_forgotten_pin_sends_first_then_signs_out(make_harness: Any, tmp_path: Path, clock: ManualClock) -> None:
    data = with_pin(enrolled_dir(tmp_path))  # offline: its server is unreachable
    add_household(data, ADDRESS, PEOPLE, consent="given")
    h = start(make_harness, data, clock, width=360, height=640)
    h.click(h.get(key="lock.forgot"))
    body = h.get(key="lock.forgot_body")["value"]
    assert "gửi hết việc chưa gửi lên máy chủ trước (còn chờ gửi: 1 hộ, 1 người, 1 thay đổi khác)" in body
    assert "cần xin tổ trưởng mã đăng ký mới" in body
    h.click(h.get(key="lock.forgot_cancel"))
    assert locked(h) and not h.exists(ft.AlertDialog)
    h.click(h.get(key="lock.forgot"))
    h.click(h.get(key="lock.forgot_confirm"))
    wait_for(h, lambda: h.exists(key="lock.unsent_body"), timeout=30)
    assert h.exists(ft.Text, text="Còn 1 hộ, 1 người, 1 thay đổi khác chưa gửi được")
    store = shell_of(h).store
    assert store.signed_in and store.pending_count() == 3, "nothing is lost without a second yes"
    h.click(h.get(key="lock.unsent_stay"))
    assert_nothing_of_the_data(h)
    h.click(h.get(key="lock.forgot"))
    h.click(h.get(key="lock.forgot_confirm"))
    wait_for(h, lambda: h.exists(key="lock.unsent_discard"), timeout=30)
    h.click(h.get(key="lock.unsent_discard"))
    wait_for(h, lambda: h.exists(ft.Text, text="Đăng ký máy này"), timeout=30)
    assert not store.signed_in and household_list(store) == []


# ---------------------------------------------------------------------------
# Leaders, officers and admins must have a PIN
# ---------------------------------------------------------------------------


def test_a_volunteer_may_say_later(make_harness: Any, tmp_path: Path, clock: ManualClock) -> None:
    h = start(make_harness, tmp_path / "phone", clock)
    assert h.top_view["route"] == "/enrol"
    shell = shell_of(h)
    shell.store.enrol("http://127.0.0.1:9", "dev-v", "tok", "volunteer", {"hamlets": []})
    shell.go("/")  # what the enrol screen does once the server has answered
    assert h.exists(key="lock.offer") and h.exists(ft.NavigationBar)
    h.click(h.get(ft.NavigationBarDestination, text="Hộ dân"))
    assert not h.exists(key="lock.offer"), "moving on is 'later': no banner over every screen"
    h.click(h.get(ft.NavigationBarDestination, text="Cài đặt"))
    assert h.get(key="settings.lock.state")["value"].startswith("Chưa có mã PIN")
    go_idle(h, clock, 3600)
    assert not locked(h), "no PIN, no lock"


def test_an_officer_enrolled_in_the_app_must_set_a_pin_first(in_process_server: Any, make_harness: Any, tmp_path: Path,
                                                             clock: ManualClock) -> None:
    h = start(make_harness, tmp_path / "laptop", clock, http=in_process_server.client, server_url=in_process_server.url)
    h.change(h.get(key="enrol.code"), in_process_server.code("officer", commune=WARD))
    h.click(h.get(key="enrol.submit"))
    wait_for(h, lambda: h.top_view["route"] == "/lock/setup")
    assert h.get(key="lock.setup_required")["value"].startswith("Với vai trò Công an cấp xã, máy phải có mã PIN")
    assert not h.exists(ft.NavigationBar) and not h.exists(key="lock.offer_later"), "no way to skip it"
    h.go("/settings")
    assert h.top_view["route"] == "/lock/setup", "not even by a link"
    h.change(h.get(key="pin.new"), "741963")
    h.change(h.get(key="pin.again"), "741963")
    h.click(h.get(key="pin.save"))
    assert h.top_view["route"] != "/lock/setup" and h.exists(ft.NavigationBar)
    h.click(h.get(ft.NavigationBarDestination, text="Cài đặt"))
    assert h.exists(ft.Text, text="Với vai trò Công an phường, mã PIN là bắt buộc.")  # a ward: its own kind
    assert not h.exists(key="settings.lock.remove"), "it can be changed, not removed"
    h.go("/settings/pin/remove")
    assert h.get(ft.AppBar, where=lambda c: c.parent is h.top_view)["title"].text == "Đổi mã PIN"


def test_english_lock_screen(make_harness: Any, tmp_path: Path, clock: ManualClock) -> None:
    data = with_pin(enrolled_dir(tmp_path))
    with device_store(data) as store:
        store.set_setting("language", "en")
    h = start(make_harness, data, clock)
    assert h.get(key="lock.title")["value"] == "The app is locked"
    type_pin(h, "1357")
    assert h.get(key="lock.message")["value"] == "Wrong PIN. 9 tries left."
    assert h.exists(ft.TextButton, text="Forgot your PIN?")
