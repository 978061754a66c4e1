"""A screen redrawn as a dialog closes waits for the client to take the dialog down
(field_app/shell.py `render`). In Chromium, views replaced in the update that closed a dialog
left the dialog on screen over the new screen, its buttons live (a second tap, a second visit).

The harness fails any action whose updates replace the views while a closed dialog is still on
the client (tests/ui/harness.py `redrawn_under_dialog`), so every dialog the UI tests tap through
is held to it; these tests show the waiting itself, with a client slow to report the dismissal,
and that a second tap on the closed dialog meanwhile writes nothing more."""
from __future__ import annotations

from pathlib import Path

import flet as ft
import pytest

from field_app import shell as shell_module

from .test_volunteer_household import TWO, events_since, open_household
from .volunteer import add_household, device_store, enrolled_dir, shell_of


def _take_back_confirm(make_harness, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A household with a past visit, its take-back confirmation open."""
    data = enrolled_dir(tmp_path)
    hid, _ = add_household(data, "Số 12, ngõ 5", TWO, consent="given")
    with device_store(data) as store:
        old = store.record_visit(hid, "refused")
    h = open_household(make_harness, data, hid)
    h.click(h.get(key=f"visit.{old}"))
    h.click(h.get(key="visit.take_back"))
    assert h.exists(ft.Text, text="Rút lại lượt thăm này?")
    return h, old


def test_the_household_is_redrawn_once_the_closed_dialog_is_gone(make_harness, tmp_path: Path) -> None:
    h, old = _take_back_confirm(make_harness, tmp_path)
    store = shell_of(h).store
    seq = store.last_seq
    h.hold_dismissals = True  # the closing animation still running
    h.click(h.get(key="visit.take_back_confirm"))
    [void] = events_since(store, seq)
    assert void["kind"] == "visit.voided", "written at the tap"
    assert h.exists(key=f"visit.{old}"), "the household is not redrawn under the closing dialog"
    h.release_dismissals()
    assert not h.exists(key=f"visit.{old}")
    assert h.exists(ft.Text, text="Đã rút lại lượt thăm: Từ chối")
    assert h.redrawn_under_dialog == []


@pytest.mark.parametrize("guard", ["on", "off"])
def test_a_second_tap_on_the_closing_dialog_writes_nothing_more(make_harness, tmp_path: Path, guard: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """"Tối" tapped twice (the second sent before the client heard of the close): one visit; the
    take-back confirmed twice: one void. With the shell's filter off (on purpose) both are written
    twice, as no screen keeps count."""
    if guard == "off":
        monkeypatch.setattr(shell_module.AppShell, "_admits", lambda self, *args: True)
    data = enrolled_dir(tmp_path)
    hid, _ = add_household(data, "Số 12, ngõ 5", TWO, consent="given")
    h = open_household(make_harness, data, hid)
    store = shell_of(h).store
    seq = store.last_seq
    h.click(h.get(key="outcome.not_home"))
    h.hold_dismissals = True
    evening = h.get(key="come_back.evening")
    h.click(evening)
    h.click(evening)
    h.release_dismissals()
    visits = [e for e in events_since(store, seq) if e["kind"] == "visit.recorded"]
    assert len(visits) == (1 if guard == "on" else 2)

    seq = store.last_seq
    h.click(h.get(key=f"visit.{visits[0]['entity']}"))
    h.click(h.get(key="visit.take_back"))
    h.hold_dismissals = True
    confirm = h.get(key="visit.take_back_confirm")
    h.click(confirm)
    if guard == "on":
        h.click(confirm)
        assert [e["kind"] for e in events_since(store, seq)] == ["visit.voided"]
    h.release_dismissals()


def test_a_dismissal_that_never_comes_delays_the_redraw_only_so_long(make_harness, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shell_module, "DISMISS_GRACE", 0.0)  # seconds: at once, for the test
    h, old = _take_back_confirm(make_harness, tmp_path)
    h.hold_dismissals = True  # a client that dropped the dialog unseen: never reported
    h.strict_dialogs = False  # redrawn over it all the same, on purpose
    h.click(h.get(key="visit.take_back_confirm"))
    assert not h.exists(key=f"visit.{old}")
    assert len(h.redrawn_under_dialog) == 1
    # the next redraw does not wait for that dialog again
    monkeypatch.setattr(shell_module, "DISMISS_GRACE", 3600.0)
    h.click(h.get(key="household.add_person"))
    assert h.exists(key="add.label") and len(h.redrawn_under_dialog) == 2


def test_the_harness_fails_a_redraw_in_the_update_that_closes_a_dialog(make_harness, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The rule broken on purpose (the shell no longer waits): the tap fails, as it did before the
    shell waited, for the come-back dialog, the refusal and the take-back alike."""
    h, _old = _take_back_confirm(make_harness, tmp_path)
    monkeypatch.setattr(shell_module.AppShell, "wait_for_dialogs", lambda self: False)
    with pytest.raises(AssertionError, match="redrawn in the update that closed a dialog"):
        h.click(h.get(key="visit.take_back_confirm"))


@pytest.mark.parametrize("relock", [False, True])
def test_a_pin_typed_on_a_keyboard_under_the_forgot_question_unlocks_once_it_is_gone(
        make_harness, tmp_path: Path, relock: bool) -> None:
    """A laptop in web mode: "Quên mã PIN?" open, the PIN typed on the keyboard all the same. The
    question closes as the app comes back: the app waits for it, as a screen does."""
    from field_app.lock import ManualClock

    from .test_lock import PIN, go_idle, locked, start, type_pin, with_pin

    clock = ManualClock()
    h = start(make_harness, with_pin(enrolled_dir(tmp_path)), clock, platform="linux", web=True,
              width=1280, height=800)
    if relock:  # locked again after some use: the screen left is given back as it was
        type_pin(h, PIN)
        h.click(h.get(ft.NavigationRailDestination, text="Cài đặt"))
        go_idle(h, clock, 300)
        assert locked(h)
    h.click(h.get(key="lock.forgot"))
    assert h.exists(key="lock.forgot_body")
    keys = {"shift": False, "ctrl": False, "alt": False, "meta": False}
    for key in (*PIN, "Enter"):
        h.event(h.root.id, "keyboard_event", {"key": key, **keys})
    assert not locked(h) and h.exists(ft.NavigationRail) and not h.exists(key="lock.forgot_body")
