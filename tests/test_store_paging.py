"""Store.households_page: the households screen's page is exactly the slice of the full list
(tests/store_support.py household_list: a search's rank, then campaign.order.walking_key), for every
filter, search, hamlet and page boundary, and its cached summaries follow every write.
"""
from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from field_app.crypto import Cipher
from field_app.store import FILTERS, HouseholdRow, Store

from .store_support import add_hamlet, household_list
from .test_store import VN, Clock

KEY = Cipher.new_key()
# Diacritics, numbers ("Số 2" before "Số 10"), mixed case, the same address twice, an address
# that folds like another one ("Hòa" / "hoà"), digits glued to words ("Số10").
ADDRESSES = ["Số 10, ngõ 5, phố Lê Lợi", "Số 2, ngõ 5, phố Lê Lợi", "số 2, Ngõ 5, Phố LÊ LỢI", "Số 2, ngõ 5, phố Lê Lợi",
             "Số 1, hẻm 18, đường Đề Thám", "Thôn Hòa Bình", "thôn hoà bình", "Số10 Trần Hưng Đạo",
             "Số 9 Trần Hưng Đạo", "Đội 3, xóm Đồng", "Dội 3, xóm Dong", "Số 100, ngách 2/7 Ông Ích Khiêm",
             "Số 020, ngõ 1", "Số 20, ngõ 1", "Ấp Mỹ Phước", "ấp 2", "Ấp 11"]
NAMES = ["Nguyễn Văn An", "Trần Thị Hoa", "NGUYỄN THỊ HÒA", "Lê Văn Số1", "Phạm Ích"]
SEARCHES = ["", "nguyen", "so 2", "SỐ", "lê lợi", "hoà", "hoa binh", "tran hung dao", "so1", "zzz",
            "van nguyen", "nguyen thi hoa", "thon dong", "thon", "2/7", "ich"]


def old_screen(s: Store, hamlet: str | None, search: str, filter: str | None) -> list[HouseholdRow]:
    """The full list, built household by household: by a search's rank, then walking_key (street by street, then house numbers)."""
    return household_list(s, hamlet, search=search, filter=filter)


def open_store(path: Path, clock: Any = None) -> Store:
    s = Store(path, clock=clock or Clock(), key=KEY)
    s.enrol("http://127.0.0.1:8000", "dev-a", "token-dev-a", "volunteer", {"hamlets": []})
    return s


def village(s: Store) -> list[str]:
    """Two hamlets of households with every status the filters test: visited or not, nobody
    home, a person needing a card (follow-up), a visit returned by the leader."""
    hamlets = [add_hamlet(s, "10525", "Thôn Đông"), add_hamlet(s, "10525", "Thôn Tây")]
    for i, address in enumerate(ADDRESSES * 2):
        hid = s.add_household(hamlets[i % 2], address)
        for j in range(i % 3):
            s.add_person(hid, NAMES[(i + j) % len(NAMES)], 1960 + i, card="none" if (i + j) % 4 == 0 else "cccd_chip")
        if i % 5 == 1:
            s.record_visit(hid, "not_home")
        elif i % 5 == 2:
            visit = s.record_visit(hid, "met")
            if i % 2 == 0:
                s.decide_review(visit, "returned", "Thiếu năm sinh")
    return hamlets


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    s = open_store(tmp_path_factory.mktemp("paging") / "a")
    village(s)
    yield s
    s.close()


@pytest.mark.parametrize("filter", (None, *FILTERS))
@pytest.mark.parametrize("search", SEARCHES)
def test_a_page_is_the_slice_of_the_old_full_list(store: Store, search: str, filter: str | None) -> None:
    hamlets = [h.id for h in store.hamlets()]
    for hamlet in (*hamlets, None):
        expected = old_screen(store, hamlet, search, filter)
        for limit in (1, 3, 7, 100):
            for offset in sorted({0, 1, limit, len(expected) - 1, len(expected), len(expected) + 5} - {-1}):
                rows, total = store.households_page(hamlet, search=search, filter=filter, offset=offset, limit=limit)
                assert total == len(expected)
                assert rows == expected[offset:offset + limit], (hamlet, limit, offset)
        pages: list[HouseholdRow] = []
        while len(pages) < len(expected):  # the screen's "more": page after page gives the whole list
            rows, _ = store.households_page(hamlet, search=search, filter=filter, offset=len(pages), limit=4)
            pages += rows
        assert pages == expected


def test_counts_are_the_old_counts(tmp_path: Path) -> None:
    now = datetime(2026, 3, 2, 8, 0, tzinfo=VN)
    store = open_store(tmp_path / "a", clock=lambda: now)  # one day: every visit is today's
    village(store)
    for hamlet in [h.id for h in store.hamlets()] + [None]:
        rows = household_list(store, hamlet)
        counts = store.counts(hamlet)
        assert counts.households == len(rows)
        assert counts.visited == sum(1 for r in rows if r.visits)
        assert counts.revisit == sum(1 for r in rows if r.last_outcome == "not_home")
        assert counts.follow_up == sum(1 for r in rows if r.follow_up)
        assert counts.returned == sum(1 for r in rows if r.returned)
        assert counts.today == sum(r.visits for r in rows)  # every visit was made today
        assert store.counts(hamlet) == counts, "the second call, from the caches, says the same"
    assert store.counts().returned > 0 and store.counts().today > 0
    store.close()


def assert_same(s: Store) -> None:
    for hamlet in [h.id for h in s.hamlets()] + [None]:
        for filter in (None, *FILTERS):
            expected = old_screen(s, hamlet, "", filter)
            assert s.households_page(hamlet, filter=filter, limit=1000) == (expected, len(expected)), (hamlet, filter)
        rows = household_list(s, hamlet)
        counts = s.counts(hamlet)
        assert (counts.households, counts.visited, counts.revisit, counts.follow_up, counts.returned) == (
            len(rows), sum(1 for r in rows if r.visits), sum(1 for r in rows if r.last_outcome == "not_home"),
            sum(1 for r in rows if r.follow_up), sum(1 for r in rows if r.returned))


def test_the_cached_summaries_follow_every_write(tmp_path: Path) -> None:
    clock = Clock()
    s = open_store(tmp_path / "a", clock)
    hamlets = village(s)
    assert_same(s)  # the caches are full now
    hid = s.households_page(hamlets[0], filter="not_visited")[0][0].id
    person = s.add_person(hid, "Nguyễn Văn Bình", 1980, card="cccd_chip")
    assert_same(s)
    s.update_person(person, card="none")  # a person's change makes the household need follow-up
    assert_same(s)
    visit = s.record_visit(hid, "met")
    assert_same(s)
    s.decide_review(visit, "returned", "Thiếu ảnh")  # the latest visit returned: only the visit changed
    assert_same(s)
    s.update_household(hid, address="Số 3, ngõ 5, phố Lê Lợi")
    s.update_household(hid, hamlet_id=hamlets[1])  # a move carries the people and the visits along
    assert_same(s)
    s.update_household(hid, consent="declined")  # its people renamed "Người 1" … in the same transaction
    assert_same(s)
    other = open_store(tmp_path / "a", clock)  # another connection (a second process) writes
    other.record_visit(s.households_page(hamlets[0], filter="revisit")[0][0].id, "met")
    other.close()
    assert_same(s)
    clock.now = datetime(2027, 1, 1, 8, 0, tzinfo=VN) - timedelta(minutes=1)  # a new year: ages change
    assert_same(s)
    s.close()


def test_a_search_follows_every_write(tmp_path: Path) -> None:
    """The search keys are read once and kept until the file changes (Entities.snapshots): a
    write of this connection, another connection's, and a transaction rolled back are each seen."""
    s = open_store(tmp_path / "a")
    hamlets = village(s)

    def assert_found(search: str) -> None:
        expected = old_screen(s, None, search, None)
        assert s.households_page(None, search=search, limit=1000) == (expected, len(expected)), search

    for search in ("nguyen", "hoa binh", "quang"):
        assert_found(search)  # the snapshots are taken now
    hid = s.add_household(hamlets[0], "Thôn Hòa Bình Mới")
    assert_found("hoa binh")
    s.add_person(hid, "Đỗ Văn Quang", 1970)
    assert_found("quang")
    other = open_store(tmp_path / "a")  # another connection (a second process) writes
    other.update_person(other.people(hid)[0].id, label="Đỗ Văn Quảng Nguyên")
    other.close()
    assert_found("nguyen")
    with pytest.raises(RuntimeError), s.transaction():
        s.add_person(hid, "Nguyễn Thị Mới", 1990)
        assert_found("nguyen")  # inside the transaction: its own write is found
        raise RuntimeError("rolled back")
    assert_found("nguyen")  # and gone with the rollback
    assert not any(r.match and r.match.label == "Nguyễn Thị Mới"
                   for r in s.households_page(None, search="nguyen moi", limit=1000)[0])
    s.close()


def test_a_purge_empties_the_caches(tmp_path: Path) -> None:
    s = open_store(tmp_path / "a")
    village(s)
    s.counts()
    assert s.reads.summaries.summary_cache and s.reads.summaries.day_cache
    s.purge_personal()
    assert not s.reads.summaries.summary_cache and not s.reads.summaries.day_cache and not s.entities.search_cache
    assert s.households_page() == ([], 0)
    s.close()


# Vietnamese letters in both cases, digits and separators: the paged order (on the folded keys)
# is the walking order (campaign.order.walking_key), ties included.
ADDRESS_TEXT = st.text(alphabet="SsốỐoơƠaàẢăâđĐeêhòÒoa 0123456789,/-", min_size=0, max_size=14)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(addresses=st.lists(ADDRESS_TEXT, min_size=1, max_size=12), limit=st.integers(1, 5))
def test_the_paged_order_is_the_walking_order_of_the_addresses(addresses: list[str], limit: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        s = open_store(Path(tmp) / "a")
        hamlet = add_hamlet(s, "10525", "Thôn Đông")
        for address in addresses:
            if address.strip():  # an address cannot be blank
                s.add_household(hamlet, address)
        expected = old_screen(s, hamlet, "", None)
        pages: list[HouseholdRow] = []
        while True:
            rows, total = s.households_page(hamlet, offset=len(pages), limit=limit)
            assert total == len(expected)
            if not rows:
                break
            pages += rows
        assert [r.id for r in pages] == [r.id for r in expected]
        s.close()
