"""The birth year (issue #11, item 4): 1900 to this year (the shared rule, Vietnam's year), a
whole message on a field as wide as the screen, that stays until the year is right; a year to
come refused with its reason; "Lưu" never silently does nothing."""
from __future__ import annotations

from pathlib import Path

import flet as ft
import pytest

from .volunteer import add_household, enrolled_dir, open_app, shell_of

TWO = [{"label": "Nguyễn Văn An", "birth_year": 1958, "card": "cccd_chip", "vneid": "l1_approved"}]


@pytest.fixture
def person_screen(make_harness, tmp_path: Path):
    data = enrolled_dir(tmp_path)
    hid, (an,) = add_household(data, "Số 12, ngõ 5", TWO, consent="given")
    h = open_app(make_harness, data, route=f"/households/{hid}/people/{an}", width=360, height=640)
    return h, shell_of(h).store, an


def test_a_year_to_come_is_refused_with_its_reason_and_the_message_stays(person_screen) -> None:
    h, store, an = person_screen
    this_year = store.this_year()
    field = h.get(key="person.birth_year")
    assert field["expand"] and field["error_max_lines"] >= 2, "wide enough, and the message wraps"
    h.change(field, "2050")
    h.click(h.get(key="person.save"))
    said = (f"Năm sinh 2050 chưa tới: năm sinh không được sau năm nay ({this_year}). "
            "Sửa lại, hoặc để trống nếu không biết.")
    assert h.get(key="person.birth_year")["error"] == said
    assert h.exists(ft.Text, text=said), "said at once too: the field may be off screen"
    assert store.person(an).birth_year == 1958, "nothing saved"

    # the message stays until the year is right, and follows what is typed
    h.change(h.get(key="person.birth_year"), "185")
    assert h.get(key="person.birth_year")["error"] == "Ghi năm sinh đủ 4 chữ số, ví dụ 1985, hoặc để trống."
    h.change(h.get(key="person.birth_year"), "1850")
    assert h.get(key="person.birth_year")["error"] == \
        f"Năm sinh 1850 không hợp lệ: năm sinh từ 1900 đến {this_year}, hoặc để trống nếu không biết."
    h.change(h.get(key="person.birth_year"), str(this_year))
    assert not h.get(key="person.birth_year")["error"]
    h.click(h.get(key="person.save"))
    assert store.person(an).birth_year == this_year


def test_adding_a_person_born_next_year_is_refused_before_anything_is_written(make_harness, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)
    hid, _ = add_household(data, "Số 12, ngõ 5", consent="given")
    h = open_app(make_harness, data, route=f"/households/{hid}/people/new", width=360, height=640)
    store = shell_of(h).store
    seq = store.last_seq
    h.change(h.get(key="add.birth_year"), str(store.this_year() + 1))
    h.click(h.get(key="add.save_person"))
    assert "chưa tới" in h.get(key="add.birth_year")["error"]
    assert h.exists(ft.Text, text_contains="chưa tới")
    assert store.last_seq == seq and store.people(hid) == []
