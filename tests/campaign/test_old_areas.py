"""Pre-merger addresses (campaign.old_areas): an old commune resolves to its post-2025 commune
only when the names leave one; a split one asks; the shipped data is the package's."""
from __future__ import annotations

import pytest

from campaign import areas
from campaign import old_areas as o


def names(codes: tuple[str, ...]) -> list[str]:
    return [areas.commune(c).full_name for c in codes]


def test_a_commune_merged_whole_resolves_with_or_without_its_type_word_and_marks() -> None:
    for ward in ("Thị trấn Cờ Đỏ", "thi tran co do", "Cờ Đỏ"):
        r = o.resolve(ward, "Huyện Cờ Đỏ", "Thành phố Cần Thơ")
        assert (r.status, names(r.candidates)) == ("resolved", ["Xã Cờ Đỏ"]), ward
    assert o.resolve("Xã Đông Hiệp", "Cờ Đỏ").code == "31273"


def test_a_split_commune_is_ambiguous_and_lists_its_new_communes() -> None:
    r = o.resolve("Phường Trần Phú", "TP Hải Dương", "Tỉnh Hải Dương")
    assert r.status == "ambiguous" and r.code is None
    assert names(r.candidates) == ["Phường Lê Thanh Nghị", "Phường Tân Hưng"]


def test_a_name_in_two_districts_needs_the_district() -> None:
    both = o.resolve("Trần Phú", province="Hải Dương")
    assert both.status == "ambiguous" and "Xã Trần Phú" in names(both.candidates)
    assert o.resolve("Xã Trần Phú", "Huyện Nam Sách", "Hải Dương").status == "resolved"


def test_a_current_commune_is_current_and_nonsense_is_unknown() -> None:
    assert o.resolve("Hải Dương", province="Thành phố Hải Phòng") == o.Resolution("current", "10525", ("10525",), ())
    assert o.resolve("Không Có Nơi Này").status == "unknown"


def test_the_shipped_data_is_the_packages() -> None:
    rows = o.old_communes()
    assert len(rows) == 10035
    assert sum(1 for r in rows if len(r.codes) > 1) == 471  # split between several new communes
    assert all(areas.is_commune_code(c) for r in rows for c in r.codes)


@pytest.mark.parametrize("address,old", [
    ("Số 5, phường Trần Phú, TP Hải Dương, tỉnh Hải Dương", True),
    ("Thôn 3, xã Cẩm Giàng, huyện Cẩm Giàng, Hải Dương", True),
    ("Số 5, phường Hải Dương, thành phố Hải Phòng", False),
    ("Số 12, ngõ 5, phố Lê Lợi", False),
])
def test_an_address_naming_a_unit_gone_since_the_merger(address: str, old: bool) -> None:
    assert o.is_pre_merger(address) is old


def test_an_address_is_read_into_its_commune_district_and_province() -> None:
    assert o.read_address("Số 5, phường Trần Phú, TP Hải Dương, Hải Dương") == (
        "phường Trần Phú", "TP Hải Dương", None)
    assert o.read_address("Thôn 3, xã Đông Hiệp, huyện Cờ Đỏ, TP Cần Thơ") == (
        "xã Đông Hiệp", "huyện Cờ Đỏ", "TP Cần Thơ")
    assert o.read_address("Số 12, ngõ 5, phố Lê Lợi") is None
    assert o.is_pre_merger("Số 5, phường Trần Phú, TP Hải Dương, Hải Dương")  # a district: gone since 2025
    assert o.explain("Số 5, phường Hải Dương, thành phố Hải Phòng") is None
    explained = o.explain("Thôn 3, xã Đông Hiệp, huyện Cờ Đỏ, TP Cần Thơ")
    assert explained is not None and explained.code == "31273"
