"""Likely duplicates (campaign.duplicates): same folded label, birth years within one."""
from __future__ import annotations

from campaign import duplicates as d


def p(label: str, born: int | None, **kw: object) -> dict[str, object]:
    return {"label": label, "birth_year": born, **kw}


def test_marks_case_and_spaces_do_not_count_and_a_year_either_way_does() -> None:
    assert d.same(p("Nguyễn Văn Hoà", 1980), p("nguyen  van hòa", 1981))
    assert d.same(p("Đặng Thị Lan", 1980), p("dang thi lan", 1979))
    assert d.same(p("Lê Văn Tám", None), p("le van tam", None))


def test_different_names_or_years_two_apart_or_one_year_unknown_do_not_match() -> None:
    assert not d.same(p("Nguyễn Văn Hoà", 1980), p("Nguyễn Văn Hoàng", 1980))
    assert not d.same(p("Nguyễn Văn Hoà", 1980), p("Nguyễn Văn Hoà", 1982))
    assert not d.same(p("Nguyễn Văn Hoà", 1980), p("Nguyễn Văn Hoà", None))


def test_generic_labels_name_nobody() -> None:
    assert not d.same(p("Người 1", 1980), p("Người 1", 1980))
    assert d.likely("Người 2", None, [("a", p("Người 2", None))]) == []


def test_likely_and_pairs_leave_merged_people_out() -> None:
    people = [("a", p("Trần An", 1990)), ("b", p("tran an", 1991)), ("c", p("Tran An", 1992)),
              ("m", p("Trần An", 1990, merged_into="a"))]
    assert d.likely("TRẦN AN", 1990, people) == ["a", "b"]
    assert d.pairs(people) == [("a", "b"), ("b", "c")]
