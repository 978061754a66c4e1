"""Households (issue #11, item 8): walking order (street by street, then house numbers), the
hamlet on each row when the list spans several, and a warning (never a refusal) when a new
household's address is already in the hamlet."""
from __future__ import annotations

from pathlib import Path

import flet as ft

from ..store_support import add_hamlet, household_list
from .volunteer import WARD, add_household, device_store, enrolled_dir, open_app, shell_of

WALK = ["Số 2, phố Lê Lợi", "Số 10, phố Lê Lợi", "Số 1, ngõ 4, phố Lê Lợi", "Số 7, ngõ 4, phố Lê Lợi",
        "Số 3, ngõ 10, phố Lê Lợi", "Số 1 phố Trần Hưng Đạo", "Số 12A phố Trần Hưng Đạo"]


def titles(h) -> list[str]:
    return [r["title"].text for r in h.find(ft.ListTile)]


def test_the_list_walks_street_by_street(make_harness, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)
    for address in reversed(WALK):
        add_household(data, address)
    h = open_app(make_harness, data, width=360, height=640)
    h.click(h.get(ft.NavigationBarDestination, text="Hộ dân"))
    assert titles(h) == WALK  # not "Số 1 …" of every street first
    assert not [c for c in h.find(ft.Text) if str(c.props.get("key", "")).endswith(".hamlet")], \
        "one hamlet: the rows need not say it"


def test_rows_name_their_hamlet_when_the_list_spans_several(make_harness, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)
    with device_store(data) as store:
        other = add_hamlet(store, WARD, "Tổ dân phố 9", "to_dan_pho")
    here, _ = add_household(data, "Số 1, phố Hoà Bình")
    there, _ = add_household(data, "Số 5, phố Trần Phú", hamlet_id=other)
    h = open_app(make_harness, data, width=360, height=640)
    h.click(h.get(ft.NavigationBarDestination, text="Hộ dân"))
    assert h.get(key=f"household.{here}.hamlet")["value"] == "Tổ dân phố 3"
    assert h.get(key=f"household.{there}.hamlet")["value"] == "Tổ dân phố 9"
    picker = h.get(key="households.hamlet")
    h.update_props(picker, {"value": other})
    h.event(picker, "select", other)
    assert titles(h) == ["Số 5, phố Trần Phú"]
    assert not h.exists(key=f"household.{there}.hamlet"), "one hamlet chosen: the picker says it"


def test_an_address_already_in_the_hamlet_is_warned_not_refused(make_harness, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)
    with device_store(data) as store:
        other = add_hamlet(store, WARD, "Tổ dân phố 9", "to_dan_pho")
    first, _ = add_household(data, "Số 12, ngõ 4, phố Lê Lợi")
    h = open_app(make_harness, data, width=360, height=640)
    store = shell_of(h).store
    h.go("/households/new")
    picker = h.get(key="add.hamlet")
    h.update_props(picker, {"value": store.hamlets()[0].id})
    h.event(picker, "select", store.hamlets()[0].id)
    h.change(h.get(key="add.address"), "Số 12, ngõ 5")
    assert not h.exists(key="add.same_address_box")
    h.change(h.get(key="add.address"), "số 12 Ngõ 4 - PHỐ LÊ LỢI")  # the same house, written otherwise
    assert h.exists(key="add.same_address_box")
    assert h.get(key="add.same_address")["value"] == (
        "Tổ dân phố 3 đã có hộ ở địa chỉ này: Số 12, ngõ 4, phố Lê Lợi. "
        "Kiểm tra để không ghi trùng; vẫn có thể lưu nếu là hộ khác.")
    # another hamlet has no such house: no warning
    h.update_props(picker, {"value": other})
    h.event(picker, "select", other)
    assert not h.exists(key="add.same_address_box")
    h.update_props(picker, {"value": store.hamlets()[0].id})
    h.event(picker, "select", store.hamlets()[0].id)
    assert h.exists(key="add.same_address_box")
    h.click(h.get(key="add.save"))  # a warning, never a refusal: a second household there is saved
    assert len([r for r in household_list(store) if "12" in r.address]) == 2
    assert h.route.startswith("/households/") and h.route != f"/households/{first}"


def test_the_warning_opens_the_household_already_there(make_harness, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)
    first, _ = add_household(data, "Số 12, ngõ 4, phố Lê Lợi")
    h = open_app(make_harness, data)
    h.go("/households/new")
    h.change(h.get(key="add.address"), "Số 12 ngõ 4 phố Lê Lợi")
    h.click(h.get(key="add.same_address_open"))
    assert h.route == f"/households/{first}"
