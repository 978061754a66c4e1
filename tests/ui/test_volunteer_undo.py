"""A wrong outcome tap undone (issue #11, item 3): the undo bar after every
outcome, past visits that open and can be taken back, and a returned visit
fixed as void + new visit, counted once."""
from __future__ import annotations

from pathlib import Path

import flet as ft
import pytest

from campaign.totals import recount

from .test_volunteer_household import TWO, events_since, open_household
from .volunteer import Taps, add_household, device_store, enrolled_dir, shell_of


def metric(store, name: str) -> int:
    """A metric summed over the device's whole world, the way the server's totals count it."""
    return sum(n for (_, _, m), n in recount(store.entities.select("")).items() if m == name)


@pytest.mark.parametrize("outcome", ["not_home", "refused", "moved"])
def test_every_outcome_tap_offers_an_undo_that_takes_the_visit_back(make_harness, tmp_path: Path, outcome) -> None:
    data = enrolled_dir(tmp_path)
    hid, _ = add_household(data, "Số 12, ngõ 5", TWO)
    h = open_household(make_harness, data, hid, width=360, height=640)
    store = shell_of(h).store
    seq = store.last_seq
    status = h.get(key="household.status").text
    h.click(h.get(key=f"outcome.{outcome}"))
    if outcome == "not_home":  # when to come back: not known
        h.click(h.get(key="come_back.skip"))
    assert store.household(hid).last_outcome == outcome
    [recorded] = events_since(store, seq)
    assert h.get(key="snack.undo")["label"] == "Hoàn tác"
    bar = h.get(key="snack.undo").parent
    assert bar["duration"]["milliseconds"] >= 5000, "a few seconds to reach it"
    assert len(store.visits(hid)) == 1

    h.click(h.get(key="snack.undo"))
    kinds = [(e["kind"], e["entity"]) for e in events_since(store, seq)]
    assert kinds == [("visit.recorded", recorded["entity"]), ("visit.voided", recorded["entity"])]
    assert store.visits(hid) == []
    assert not h.exists(key=f"visit.{recorded['entity']}")
    assert h.get(key="household.status").text == status
    assert store.household(hid).last_outcome is None
    assert h.exists(ft.Text, text_contains="Đã hoàn tác lượt thăm")
    assert metric(store, "visits") == 0


def test_the_standard_visit_undone_puts_the_status_and_the_help_back(make_harness, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)
    hid, (an, _) = add_household(data, "Số 12, ngõ 5", TWO)
    h = open_household(make_harness, data, hid, width=360, height=640)
    store = shell_of(h).store
    tap = Taps(h)
    tap(h.get(key="consent.given"))
    tap(h.get(key=f"person.{an}.help.activation_help"))
    tap(h.get(key="outcome.met"))
    assert tap.count == 3, "the standard visit stays three taps"
    assert store.person(an).vneid == "l1_active"
    assert h.exists(key="snack.undo")

    h.click(h.get(key="snack.undo"))
    assert store.person(an).vneid == "l1_approved", "the status the help set goes back"
    assert store.visits(hid) == []
    # the help chosen is the draft again: the right outcome is one tap away
    assert h.get(key=f"person.{an}.help.activation_help")["selected"] is True
    assert h.exists(key="household.draft_box")
    h.click(h.get(key="outcome.met"))
    [visit] = store.visits(hid)
    assert visit.actions == ("activation_help",) and visit.people_helped == (an,)


def test_a_past_visit_opens_and_can_be_taken_back_after_a_confirm(make_harness, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)
    hid, _ = add_household(data, "Số 12, ngõ 5", TWO, consent="given")
    with device_store(data) as store:
        old = store.record_visit(hid, "refused")
    h = open_household(make_harness, data, hid)
    store = shell_of(h).store
    seq = store.last_seq
    h.click(h.get(key=f"visit.{old}"))
    assert h.exists(ft.Text, text="Kết quả: Từ chối")
    h.click(h.get(key="visit.take_back"))
    assert h.exists(ft.Text, text="Rút lại lượt thăm này?")
    h.click(h.get(key="visit.take_back_cancel"))  # cancelled: nothing happens
    assert events_since(store, seq) == [] and len(store.visits(hid)) == 1

    h.click(h.get(key=f"visit.{old}"))
    h.click(h.get(key="visit.take_back"))
    h.change(h.get(key="visit.reason"), "Bấm nhầm hộ")
    h.click(h.get(key="visit.take_back_confirm"))
    [void] = events_since(store, seq)
    assert (void["kind"], void["entity"], void["data"]) == ("visit.voided", old, {"reason": "Bấm nhầm hộ"})
    assert not h.exists(key=f"visit.{old}")
    assert h.exists(ft.Text, text="Đã rút lại lượt thăm: Từ chối")


def test_a_volunteer_cannot_take_back_another_devices_visit(make_harness, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)
    hid, _ = add_household(data, "Số 12, ngõ 5", TWO, consent="given")
    with device_store(data) as store:
        old = store.record_visit(hid, "refused")
        with store.sealed.lock:
            store.meta.set("device_id", "device-2")  # the visit is now another device's
    h = open_household(make_harness, data, hid)
    h.click(h.get(key=f"visit.{old}"))
    assert h.exists(ft.Text, text="Kết quả: Từ chối")
    assert not h.exists(key="visit.take_back")


def test_answering_a_returned_visit_voids_it_and_counts_once(make_harness, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)
    hid, (an, _) = add_household(data, "Số 22, ngõ 5", TWO, consent="given")
    with device_store(data) as store:
        old = store.record_visit(hid, "met", ["activation_help"], [an])
        store.decide_review(old, "returned", "Ông An chưa kích hoạt được, quay lại giúp")
    h = open_household(make_harness, data, hid)
    store = shell_of(h).store
    seq = store.last_seq
    Taps(h)(h.get(key=f"person.{an}.help.activation_help"))
    h.click(h.get(key="outcome.met"))
    kinds = [(e["kind"], e["entity"]) for e in events_since(store, seq)]
    assert kinds[0] == ("visit.voided", old)
    assert [k for k, _ in kinds[1:]] == ["person.updated", "visit.recorded"]
    assert h.exists(ft.Text, text_contains="thay cho lượt bị trả lại")
    [visit] = store.visits(hid)
    assert visit.id != old
    assert metric(store, "visits") == 1 and metric(store, "outcome:met") == 1
    assert h.get(key="household.status").text != "Bị trả lại"
