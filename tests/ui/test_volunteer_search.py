"""Search that finds (issue #11, item 1): one person's name, the address as a phrase, the
hamlet's name; rows show who matched and come ranked; the count line says what it counts.

A seeded world where the answer is known: 7 households holding a "Nguyễn Văn Hùng", decoys
on "phố Trần Hưng Đạo" and "đường Nguyễn Văn Cừ", and households whose words are spread over
different people.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import flet as ft
import pytest

from field_app.store import Store

from ..store_support import add_hamlet
from .volunteer import WARD, device_store, enrolled_dir, open_app

HUNG = "Nguyễn Văn Hùng"


def world(data: Path) -> dict[str, list[str]]:
    """Two hamlets; the households by what they are, as ids."""
    made: dict[str, list[str]] = {}

    def home(kind: str, hamlet: str, address: str, labels: list[tuple[str, int]], consent: str = "given") -> None:
        hid = store.add_household(hamlet, address, consent=consent)
        for label, year in labels:
            store.add_person(hid, label, year)
        made.setdefault(kind, []).append(hid)

    with device_store(data) as store, store.db.atomic():
        three = store.hamlets()[0].id
        two = add_hamlet(store, WARD, "Tổ dân phố 2", "to_dan_pho")
        for i in range(7):  # the 7 households holding the person, in both hamlets, some not asked yet
            home("hung", (three, two)[i % 2], f"Số {10 + i}, ngõ {i}, phố Lê Lợi",
                 [("Trần Thị Mai", 1972), (HUNG, 1960 + i)], consent="given" if i < 5 else "unknown")
        for i in range(6):  # decoys: the street holds "hung", the people the other words
            home("street", three, f"Số {i + 1}, phố Trần Hưng Đạo", [("Nguyễn Văn An", 1980), ("Lê Thị Hoa", 1985)])
        home("spread", three, "Số 3, ngõ 9, phố Lê Lợi", [("Nguyễn Văn An", 1950), ("Phạm Hùng", 1952)])
        home("street_words", three, "Số 5, ngõ Nguyễn Văn Tố, phố Hùng Vương", [("Lê Thị Hoa", 1991)])
        home("other_street", two, "Số 2, đường Nguyễn Văn Cừ", [("Hoàng Văn Hùng", 1990)])
        home("long_spread", two, "Số 40, phố Hàng Bạc", [("Trần Đức Long", 1970), ("Trần Xuân Sáu", 1975)])
        home("long", two, "Số 41, phố Hàng Bạc", [("Trần Xuân Long", 1971)])
        home("tran_hung", three, "Số 92, phố Lê Lợi", [("Trần Hùng", 1966)])
        home("tran_hung_dung", three, "Số 91, phố Lê Lợi", [("Trần Hùng Dũng", 1967)])
        home("hung_tran", three, "Số 90, phố Lê Lợi", [("Hùng Trần Văn", 1968)])
    return made


def search(h, text: str) -> list[str]:
    h.change(h.get(key="households.search"), text)
    return [c["key"].removeprefix("household.") for c in h.find(ft.ListTile)]


def test_a_name_finds_the_households_holding_that_person(make_harness, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)
    made = world(data)
    total = sum(len(ids) for ids in made.values())
    h = open_app(make_harness, data, width=360, height=640)
    h.click(h.get(ft.NavigationBarDestination, text="Hộ dân"))
    assert h.get(key="households.summary")["value"] == f"{total} hộ"

    for typed in (HUNG, "nguyen van hung", "NGUYEN VĂN hùng", "hung nguyen van"):
        assert sorted(search(h, typed)) == sorted(made["hung"]), typed
        assert h.get(key="households.summary")["value"] == f"Tìm thấy 7 trong {total} hộ: 7 theo tên người"
    # the row shows the person who matched: the name once the household agreed, the birth year always
    first = made["hung"][0]
    assert h.get(key=f"household.{first}.match")["value"] == "Nguyễn Văn Hùng, sinh 1960"
    hidden = made["hung"][5]
    assert h.get(key=f"household.{hidden}.match")["value"] == (
        "Một người khớp tên, sinh 1965 (tên hiện khi hộ đồng ý)")

    # one person must hold every word
    assert search(h, "tran xuan long") == made["long"]
    # a street matches only as a phrase of the address, after the names
    assert search(h, "tran hung dao") == made["street"]
    assert h.get(key="households.summary")["value"] == f"Tìm thấy 6 trong {total} hộ: 6 theo địa chỉ"
    # ranked: the whole name, then a name beginning with it, then the words anywhere, then addresses
    found = search(h, "tran hung")
    assert found[:3] == made["tran_hung"] + made["tran_hung_dung"] + made["hung_tran"]
    assert found[3:] == made["street"]
    assert h.get(key="households.summary")["value"] == (
        f"Tìm thấy 9 trong {total} hộ: 3 theo tên người, 6 theo địa chỉ")
    # the hamlet's whole name finds its households
    two = made["hung"][1::2] + made["other_street"] + made["long_spread"] + made["long"]
    assert sorted(search(h, "to dan pho 2")) == sorted(two)
    assert h.get(key="households.summary")["value"] == f"Tìm thấy 6 trong {total} hộ: 6 theo tên thôn, tổ"
    # nothing: said so
    assert search(h, "khong co ai") == []
    assert h.get(key="households.summary")["value"] == f"Tìm thấy 0 trong {total} hộ"
    assert h.exists(key="households.none")


def test_the_search_in_english(make_harness, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)
    made = world(data)
    h = open_app(make_harness, data, language="en")
    h.click(h.get(ft.NavigationBarDestination, text="Households"))
    assert sorted(search(h, "nguyen van hung")) == sorted(made["hung"])
    total = sum(len(ids) for ids in made.values())
    assert h.get(key="households.summary")["value"] == f"Found 7 of {total} households: 7 by a person's name"
    assert h.get(key=f"household.{made['hung'][0]}.match")["value"] == "Nguyễn Văn Hùng, born 1960"


def test_a_keystroke_overtaken_by_a_newer_one_reads_nothing(make_harness, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Typed faster than the list is read: the box's value arrives before an older keystroke's
    change is handled; that change lists nothing, the newer one lists its own search."""
    data = enrolled_dir(tmp_path)
    made = world(data)
    h = open_app(make_harness, data, width=360, height=640)
    h.click(h.get(ft.NavigationBarDestination, text="Hộ dân"))
    box = h.get(key="households.search")
    asked: list[str] = []
    read = Store.households_search

    def counted(self: Store, *args: Any, **kwargs: Any) -> Any:
        asked.append(kwargs.get("search", ""))
        return read(self, *args, **kwargs)

    monkeypatch.setattr(Store, "households_search", counted)
    h.update_props(box, {"value": "nguyen van hung"})  # the newer keystroke's value, first
    h.event(box, "change", "nguyen van hun")  # the older keystroke's change
    assert asked == []
    h.event(box, "change", "nguyen van hung")
    assert asked == ["nguyen van hung"]
    assert sorted(c["key"].removeprefix("household.") for c in h.find(ft.ListTile)) == sorted(made["hung"])
