"""The one natural order of names and addresses (campaign/order.py)."""
import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from campaign.order import natural_key
from campaign.text import fold

# The two orders before issue #10, copied here as they were written so that the one key is
# checked against both: the server's hamlet names (sync_server/store/totals.py natural_key,
# folding each part) and the device's addresses (field_app/store.py address_order, on the
# already-folded text).


def server_key_before(name: str) -> tuple[Any, ...]:
    return tuple(int(part) if part.isdigit() else fold(part) for part in re.split(r"(\d+)", name))


def device_key_before(address: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", fold(address))]


HAMLETS = ["Tổ dân phố 10", "Thôn Đông", "tổ dân phố 2", "Tổ dân phố 1", "TỔ DÂN PHỐ 11", "Thôn Đoài",
           "Xóm Hoà Bình", "Khu phố 3", "Ấp 5", "Bản Mường Thanh", "Tổ dân phố số 4", "Thôn 1",
           "Thôn 12", "Xóm Hòa Bình 2", "Ấp 10"]
ADDRESSES = ["Số 12 ngõ 3 phố Trần Hưng Đạo", "Số 2 phố Trần Hưng Đạo", "số 10 phố Trần Hưng Đạo",
             "Số 12 ngõ 10 phố Trần Hưng Đạo", "Số 12A phố Trần Hưng Đạo", "Số 12, ngõ 5, phố Lê Lợi",
             "Số 12, ngách 5/2, phố Lê Lợi", "Số 12, ngách 5/10, phố Lê Lợi", "SỐ 7, HẺM 3, ĐƯỜNG HOÀ BÌNH",
             "Số 7, hẻm 3, đường Hòa Bình", "Số 1, xóm 2, thôn Đông", "Nhà ông Đặng Văn Long", "Số 100"]

VIETNAMESE = "aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ"
words = st.text(alphabet=VIETNAMESE + VIETNAMESE.upper() + "0123456789 ,/-", max_size=30)


def test_hamlet_numbers_sort_as_numbers_not_as_text():
    names = ["Tổ dân phố 1", "Tổ dân phố 10", "Tổ dân phố 2"]  # the device's hamlet list showed "1, 10, 2"
    assert sorted(names, key=fold) == ["Tổ dân phố 1", "Tổ dân phố 10", "Tổ dân phố 2"]
    assert sorted(names, key=natural_key) == ["Tổ dân phố 1", "Tổ dân phố 2", "Tổ dân phố 10"]


def test_house_numbers_sort_as_numbers():
    assert sorted(["số 10", "Số 2", "Số 12 ngõ 3"], key=natural_key) == ["Số 2", "số 10", "Số 12 ngõ 3"]


def test_case_and_accents_do_not_change_the_order():
    assert natural_key("THÔN ĐÔNG") == natural_key("thôn đông") == natural_key("Thon Dong")
    assert natural_key("Xóm Hoà Bình 2") == natural_key("Xóm Hòa Bình 2")


def test_hamlet_names_keep_the_servers_order():
    assert sorted(HAMLETS, key=natural_key) == sorted(HAMLETS, key=server_key_before)


def test_addresses_keep_the_devices_order():
    assert sorted(ADDRESSES, key=natural_key) == sorted(ADDRESSES, key=device_key_before)


@given(words)
def test_the_key_is_the_devices_key_for_any_vietnamese_text(text):
    assert list(natural_key(text)) == device_key_before(text)


def test_a_space_beside_a_number_sorts_before_a_letter_as_in_the_folded_text():
    # The one place where the server's order before #10 differed: it dropped the spaces
    # around a number ("Số 12A" first), the device kept them, as this key does.
    assert sorted(["Số 12A", "Số 12 ngõ 3"], key=natural_key) == ["Số 12 ngõ 3", "Số 12A"]


@given(words)
def test_the_key_of_the_folded_text_is_the_key_of_the_text(text):
    assert natural_key(fold(text)) == natural_key(text)


@given(words)
def test_a_key_alternates_text_and_numbers_starting_and_ending_with_text(text):
    key = natural_key(text)
    assert len(key) % 2 == 1
    assert all(isinstance(part, str if i % 2 == 0 else int) for i, part in enumerate(key))


@given(st.lists(st.text(max_size=12), max_size=8))
def test_any_two_keys_compare(texts):
    keys = [natural_key(text) for text in texts]  # sorting raises TypeError if str meets int
    assert [natural_key(text) for text in sorted(texts, key=natural_key)] == sorted(keys)


def test_a_digit_that_is_not_a_decimal_digit_is_text():
    # "²" passes str.isdigit() but is no number: the keys before #10 raised ValueError on it.
    assert natural_key("Tổ 1²") == ("to ", 1, "²")


def test_an_address_is_its_house_number_and_its_ways_outermost_first():
    from campaign.order import address_parts

    assert address_parts("Số 12, ngõ 4, phố Lê Lợi") == ("12", ("pho le loi", "ngo 4"))
    assert address_parts("Số 12 ngõ 4 Nguyễn Văn A") == ("12", ("nguyen van a", "ngo 4"))
    assert address_parts("Số10 Trần Hưng Đạo") == ("10", ("tran hung dao",))
    assert address_parts("12A Trần Hưng Đạo") == ("12a", ("tran hung dao",))
    assert address_parts("Số 100, ngách 2/7 Ông Ích Khiêm") == ("100", ("ong ich khiem", "ngach 2/7"))
    assert address_parts("Đội 3, xóm Đồng") == ("", ("xom dong", "doi 3"))
    assert address_parts("Thôn Hòa Bình") == ("", ("thon hoa binh",))


def test_walking_order_is_street_by_street_then_house_by_house():
    from campaign.order import walking_key

    walk = ["Số 2, phố Lê Lợi", "Số 10, phố Lê Lợi", "Số 1, ngõ 4, phố Lê Lợi", "Số 3, ngõ 4, phố Lê Lợi",
            "Số 1, ngõ 10, phố Lê Lợi", "Số 1 phố Trần Hưng Đạo", "Số 2 phố Trần Hưng Đạo", "Số 12A phố Trần Hưng Đạo"]
    # by house number across all streets (the order before): Lê Lợi's and Trần Hưng Đạo's houses interleaved
    assert {"Số 1, ngõ 4, phố Lê Lợi", "Số 1 phố Trần Hưng Đạo"} <= set(sorted(walk, key=natural_key)[:3])
    assert sorted(reversed(walk), key=walking_key) == walk
    assert walking_key("SỐ 2, PHỐ LÊ LỢI") < walking_key("số 10, phố lê lợi")  # folded, numbers as numbers


@given(st.lists(words, max_size=8))
def test_walking_order_is_a_total_order_on_any_text(addresses):
    from campaign.order import walking_key

    ordered = sorted(addresses, key=walking_key)
    assert sorted(ordered, key=walking_key) == ordered
