"""Adding a person the household or hamlet already holds (same folded name, birth year ±1):
the phone warns offline and offers to open that person instead, or to add anyway."""
from __future__ import annotations

from pathlib import Path

from .volunteer import Taps, add_household, enrolled_dir, open_app, shell_of

HOA = {"label": "Trần Thị Hoà", "birth_year": 1987, "card": "cccd_chip", "vneid": "no_app"}


def _add(h, label: str, year: str) -> None:  # type: ignore[no-untyped-def]
    h.change(h.get(key="add.label"), label)
    h.change(h.get(key="add.birth_year"), year)
    Taps(h)(h.get(key="add.save_person"))


def test_a_likely_duplicate_in_the_hamlet_is_offered_to_open(make_harness, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)
    there, (hoa,) = add_household(data, "Số 16, ngõ 5, phố Lê Lợi", [HOA], consent="given")
    here, _ = add_household(data, "Số 18, ngõ 5, phố Lê Lợi", [], consent="given")
    h = open_app(make_harness, data, route=f"/households/{here}/people/new", width=360, height=640)
    store = shell_of(h).store
    seq = store.last_seq
    _add(h, "tran thi hoa", "1988")  # folded the same, a year apart, another household of the hamlet
    body = h.get(key="duplicate.body").text
    assert "Trần Thị Hoà" in body and "Số 16, ngõ 5, phố Lê Lợi" in body
    assert store.last_seq == seq  # nothing written yet
    Taps(h)(h.get(key="duplicate.open"))
    assert h.route == f"/households/{there}/people/{hoa}"
    assert store.last_seq == seq and store.people(here) == []


def test_add_anyway_adds_the_new_person(make_harness, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)
    hid, _ = add_household(data, "Số 16, ngõ 5, phố Lê Lợi", [HOA], consent="given")
    h = open_app(make_harness, data, route=f"/households/{hid}/people/new")
    _add(h, "Trần Thị Hoà", "1987")
    Taps(h)(h.get(key="duplicate.add"))
    assert h.route == f"/households/{hid}"
    assert [p.label for p in shell_of(h).store.people(hid)] == ["Trần Thị Hoà", "Trần Thị Hoà"]


def test_no_warning_for_another_name_or_a_year_two_apart(make_harness, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)
    hid, _ = add_household(data, "Số 16, ngõ 5, phố Lê Lợi", [HOA], consent="given")
    h = open_app(make_harness, data, route=f"/households/{hid}/people/new")
    _add(h, "Trần Thị Hoà", "1989")
    assert not h.exists(key="duplicate.body")
    assert h.route == f"/households/{hid}"
    assert len(shell_of(h).store.people(hid)) == 2


def test_the_household_form_accepts_old_names_and_says_what_they_are_now(make_harness, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)
    h = open_app(make_harness, data, route="/households/new", width=360, height=640)
    assert not h.get(key="add.old_address").visible if h.exists(key="add.old_address") else True
    h.change(h.get(key="add.address"), "Số 5, phường Quang Trung, TP Hải Dương, tỉnh Hải Dương")
    assert h.get(key="add.old_address").text == ("Địa chỉ ghi tên đơn vị cũ (trước 1/7/2025): nay là Phường Hải "
                                                 "Dương, Thành phố Hải Phòng. Vẫn lưu như đã ghi.")
    h.change(h.get(key="add.address"), "Số 7, phường Trần Phú, TP Hải Dương, Hải Dương")
    assert "Phường Lê Thanh Nghị, Phường Tân Hưng" in h.get(key="add.old_address").text
    Taps(h)(h.get(key="add.consent.given"))
    h.click(h.get(key="add.save"))
    [household] = [x for x in shell_of(h).store.households_page()[0]]
    assert household.address == "Số 7, phường Trần Phú, TP Hải Dương, Hải Dương"  # kept as written
