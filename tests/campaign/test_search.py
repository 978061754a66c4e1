"""campaign.search: what a typed search finds on the households screen, and its rank."""
from __future__ import annotations

import pytest

from campaign.search import Query, Rank, words
from campaign.text import fold


def name(query: str, label: str) -> Rank | None:
    return Query.of(query).name(fold(label))


def test_words_are_folded_and_cut_at_punctuation() -> None:
    assert words("Số 12/3, ngõ 7 – phố Lê Lợi") == ("so", "12", "3", "ngo", "7", "pho", "le", "loi")
    assert words("  ") == ()


@pytest.mark.parametrize(("query", "label", "rank"), [
    ("Nguyễn Văn Hùng", "Nguyễn Văn Hùng", Rank.EXACT),
    ("nguyen van hung", "NGUYỄN VĂN HÙNG", Rank.EXACT),
    ("nguyen van hu", "Nguyễn Văn Hùng", Rank.PREFIX),  # still typing
    ("nguyen van", "Nguyễn Văn Hùng", Rank.PREFIX),
    ("van hung", "Nguyễn Văn Hùng", Rank.NAME),
    ("hung nguyen", "Nguyễn Văn Hùng", Rank.NAME),  # any order
    ("long tran", "Trần Xuân Long", Rank.NAME),
    ("nguyen van hung", "Nguyễn Văn Hưng", Rank.EXACT),  # fold alike: the user typed no marks
    ("nguyen van hung", "Nguyễn Văn Hùng Anh", Rank.PREFIX),
    ("nguyen van hung", "Nguyễn Văn Hưởng", None),
    ("van hung", "Nguyễn Thị Vân", None),
    ("ung", "Nguyễn Văn Hùng", None),  # a word matches from its start, not inside
    ("nguyen nguyen", "Nguyễn Văn An", None),  # two query words need two words of the name
    ("nguyen nguyen", "Nguyễn Nguyễn An", Rank.PREFIX),
    ("h hung", "Hùng Hà", Rank.NAME),  # the long word takes its word first
    ("", "Nguyễn Văn Hùng", None),
])
def test_a_name_holds_every_word_of_the_query(query: str, label: str, rank: Rank | None) -> None:
    assert name(query, label) == rank


def test_one_person_must_hold_every_word() -> None:
    # a household of "Trần Đức Long" and "Trần Xuân Sáu": no one of them is "tran xuan long"
    assert name("tran xuan long", "Trần Đức Long") is None
    assert name("tran xuan long", "Trần Xuân Sáu") is None


@pytest.mark.parametrize(("query", "address", "found"), [
    ("tran hung dao", "Số 3, phố Trần Hưng Đạo", True),
    ("so 12 ngo", "Số 12, ngõ 7, phố Lê Lợi", True),
    ("so 12", "Số 120, ngõ 7", True),  # the last word is still being typed
    ("so 12 ngo 7", "Số 12, ngõ 17", False),
    ("nguyen van hung", "Số 3, phố Trần Hưng Đạo", False),
    ("hung tran", "Số 3, phố Trần Hưng Đạo", False),  # a phrase: in order
    ("2/7", "Số 100, ngách 2/7 Ông Ích Khiêm", True),
    ("ung dao", "Số 3, phố Trần Hưng Đạo", False),
])
def test_an_address_holds_the_query_as_a_phrase(query: str, address: str, found: bool) -> None:
    assert Query.of(query).phrase(fold(address)) is found


def test_a_hamlet_by_its_whole_name() -> None:
    q = Query.of("to dan pho 2")
    assert q.whole(fold("Tổ dân phố 2")) and not q.whole(fold("Tổ dân phố 20"))
    assert not Query.of("").whole("")


def test_ranks_by_name_first() -> None:
    assert [r for r in Rank if r.by_name] == [Rank.EXACT, Rank.PREFIX, Rank.NAME]
    assert Rank.EXACT < Rank.PREFIX < Rank.NAME < Rank.ADDRESS < Rank.HAMLET
