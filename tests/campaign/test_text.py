"""Vietnamese text: stored NFC, searched on a folded key."""
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaign.events import KINDS, InvalidEvent
from campaign.text import (
    fold,
    has_control_characters,
    has_hidden_characters,
    is_control_character,
    is_nfc,
    nfc,
    normalize_tree,
)


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def test_fold_lets_plain_letters_find_a_vietnamese_name():
    assert fold("Nguyễn Văn A") == "nguyen van a"
    assert fold("nguyen van a") in fold("Hộ ông Nguyễn Văn A, tổ 3")


def test_fold_matches_both_tone_mark_placements():
    # "Hoà" (old style, mark on a) and "Hòa" (new style, mark on o) are the same name.
    assert fold("Hoà") == fold("Hòa") == "hoa"
    assert fold("Thuỷ") == fold("Thủy")


def test_fold_is_the_same_for_nfc_and_nfd_input():
    for name in ("Hoà", "Hòa", "Nguyễn Thị Ánh Tuyết", "Đặng Ngọc Ưng"):
        assert nfc(name) != nfd(name)
        assert fold(nfc(name)) == fold(nfd(name))


def test_fold_turns_d_with_stroke_into_d():
    # đ is a letter of its own, not d plus a mark: NFD alone leaves it.
    assert fold("Đặng Đình Đức") == "dang dinh duc"
    assert fold("đường") == "duong"


def test_fold_lowercases_and_collapses_whitespace():
    assert fold("  LÊ   Thị\tHỒNG \n") == "le thi hong"
    assert fold("") == ""


def test_nfc_composes_decomposed_text():
    decomposed = nfd("Nguyễn")
    assert len(decomposed) > len("Nguyễn")
    assert nfc(decomposed) == "Nguyễn"
    assert is_nfc(nfc(decomposed)) and not is_nfc(decomposed)


def test_normalize_tree_nfcs_every_string_in_nested_data_keys_too():
    tree = {nfd("tên"): [nfd("Hoà"), {"ghi chú": nfd("Ở nhà")}], "n": 3, "ok": True, "none": None}
    assert normalize_tree(tree) == {"tên": ["Hoà", {"ghi chú": "Ở nhà"}], "n": 3, "ok": True, "none": None}


def test_normalize_tree_leaves_non_text_alone():
    assert normalize_tree(1980) == 1980
    assert normalize_tree(None) is None
    assert normalize_tree([1, 2.5, False]) == [1, 2.5, False]


@given(st.text())
def test_fold_is_idempotent(text):
    assert fold(fold(text)) == fold(text)


@given(st.text())
def test_fold_does_not_care_about_normal_form(text):
    assert fold(nfc(text)) == fold(nfd(text))


# ---- the text checks events apply, exported for the server's import ------------------

@pytest.mark.parametrize("code", [c for c in (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)) if chr(c) not in "\n\t"])
def test_c0_but_newline_and_tab_del_and_c1_are_control_characters(code):
    assert is_control_character(chr(code))
    assert has_control_characters(f"Số 12{chr(code)} ngõ 5")


def test_a_newline_and_a_tab_are_allowed_in_text():
    assert not has_control_characters("Hẹn chiều mai\tquay lại\nđến nhà bà Hoà")


@pytest.mark.parametrize("text", ["Nguyễn Văn An", "Số 12, ngõ 5/3, phố Lê Lợi", "\u00a0Hòa\u00a0", "", "Đặng ☎ 0912"])
def test_vietnamese_text_has_no_control_characters(text):
    assert not has_control_characters(text)


@pytest.mark.parametrize("code", range(0x00, 0x180))
def test_events_refuse_exactly_the_control_characters(code):
    check = KINDS["visit.recorded"].fields["note"]
    try:
        check("note", f"gọi lại{chr(code)}")
    except InvalidEvent as refused:
        assert refused.code == "bad_text" and is_control_character(chr(code))
    else:
        assert not is_control_character(chr(code))


def test_slug_is_the_words_without_marks() -> None:
    from campaign.followup import file_stem
    from campaign.text import slug

    assert slug("Thu nhận thẻ căn cước") == "thu-nhan-the-can-cuoc"
    assert slug("Đến lại (không có nhà)") == "den-lai-khong-co-nha"
    assert file_stem("card_capture") == "gocua-thu-nhan-the-can-cuoc"
    assert file_stem("l2") == "gocua-dang-ky-dinh-danh-muc-2"


@pytest.mark.parametrize("text, hidden", [
    ("Bà Tư 👵🏻 ❤️ 👨\u200d👩\u200d👧", False),  # a family emoji: the joiner joins pictures
    ("👩\u200d", True),  # a joiner with nothing after it
    ("An\u200dBình", True),  # a joiner between letters hides nothing a reader sees
    ("An\u200d👩", True),
    ("An\u200bBình", True),
    ("An\u202eoN", True),
    ("Nguyễn Văn An", False),
])
def test_a_zero_width_joiner_is_allowed_only_between_emoji(text: str, hidden: bool) -> None:
    assert has_hidden_characters(text) is hidden


@given(st.text(st.characters(codec=None, exclude_categories=())))
def test_printable_text_holds_nothing_the_text_checks_refuse(text: str) -> None:
    # events._text skips both searches for a text that str.isprintable() passes: every control,
    # hidden or reordering character (and a lone surrogate) must make it fail
    if text.isprintable():
        assert not has_control_characters(text)
        assert not has_hidden_characters(text)


@pytest.mark.parametrize("char", [chr(c) for c in (*range(0x00, 0x20), *range(0x7F, 0xA0), *range(0x200B, 0x2010),
                                                   *range(0x2028, 0x202F), 0x2060, *range(0x2066, 0x206A), 0xFEFF,
                                                   0xD800, 0xDFFF)])
def test_every_refused_character_is_unprintable(char: str) -> None:
    assert not f"Nguyễn{char}An".isprintable()
