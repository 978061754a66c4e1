"""Translations: both languages complete and consistent."""
from __future__ import annotations

import string
import unicodedata

import pytest

from field_app import i18n
from field_app.i18n import LANGUAGES, t


def load(lang: str) -> dict[str, str]:
    return dict(i18n.strings(lang))


def test_each_area_has_the_same_files_in_both_languages() -> None:
    assert [p.name for p in i18n.files("vi")] == [p.name for p in i18n.files("en")]
    assert i18n.files("vi"), "no translation files found"


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_languages_have_the_same_keys() -> None:
    vi, en = load("vi"), load("en")
    assert sorted(set(vi) - set(en)) == [], "missing in en.json"
    assert sorted(set(en) - set(vi)) == [], "missing in vi.json"


def test_same_placeholders_in_both_languages() -> None:
    vi, en = load("vi"), load("en")
    for key in vi:
        assert placeholders(vi[key]) == placeholders(en[key]), key


@pytest.mark.parametrize("lang", LANGUAGES)
def test_strings_are_nfc_and_not_empty(lang: str) -> None:
    for key, text in load(lang).items():
        assert text.strip(), f"{lang}:{key} is empty"
        assert unicodedata.normalize("NFC", text) == text, f"{lang}:{key} is not NFC"


def test_vietnamese_is_the_default() -> None:
    assert i18n.DEFAULT_LANGUAGE == "vi"
    assert LANGUAGES[0] == "vi"
    assert t("nav.home") == "Trang chủ"
    assert t("app.name") == "Gõ Cửa"


def test_lookup_language_and_placeholders() -> None:
    assert t("nav.households", lang="en") == "Households"
    assert t("home.pending_sync", work="3 hộ") == "Chờ gửi: 3 hộ"
    assert t("home.pending_sync", lang="en", work="3 households") == "Waiting to send: 3 households"
    # a missing placeholder stays visible instead of crashing the screen
    assert t("home.pending_sync") == "Chờ gửi: {work}"


def test_process_language_setting() -> None:
    i18n.set_language("en")
    assert i18n.get_language() == "en"
    assert t("nav.settings") == "Settings"
    i18n.set_language("vi")
    assert t("nav.settings") == "Cài đặt"
    with pytest.raises(ValueError):
        i18n.set_language("fr")


def test_fallback_to_vietnamese_then_key(monkeypatch: pytest.MonkeyPatch) -> None:
    vi = dict(i18n.strings("vi"))
    en_only_missing = dict(i18n.strings("en"))
    del en_only_missing["nav.review"]
    monkeypatch.setattr(i18n, "strings", lambda lang: en_only_missing if lang == "en" else vi)
    assert t("nav.review", lang="en") == "Duyệt"
    assert t("no.such.key", lang="en") == "no.such.key"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_vocabulary_labels_come_from_campaign(lang: str) -> None:
    """Every code of every campaign vocabulary is shown with campaign's own label, in the
    language chosen: as a chip (how the screens offer codes) and through vocab_label."""
    from campaign import vocabulary
    from field_app.views.common import card_pill, choice_group, filter_group

    i18n.set_language(lang)
    column = 1 if lang == "en" else 0
    assert set(vocabulary.ALL) >= {"consent", "presence", "card", "vneid", "blockers", "outcome", "actions"}
    for name, vocab in vocabulary.ALL.items():
        expected = {code: vocab.labels[code][column] for code in vocab.codes}
        assert {code: i18n.vocab_label(vocab, code) for code in vocab.codes} == expected, name
        for group in (choice_group(vocab, vocab.codes, None, lambda _: None, key_prefix=name),
                      filter_group(vocab, vocab.codes, [], lambda _: None, key_prefix=name)):
            shown = {chip.key.removeprefix(f"{name}."): chip.label.value for chip in group.controls}
            assert shown == expected, name
    for code in vocabulary.CARD.codes:
        assert vocabulary.CARD.labels[code][column] in card_pill(code).content.controls[-1].value


def test_numbers_are_written_the_local_way() -> None:
    assert i18n.format_number(12345) == "12.345"
    assert i18n.format_number(12345, lang="en") == "12,345"
    assert i18n.format_number(1234.5, decimals=1) == "1.234,5"
