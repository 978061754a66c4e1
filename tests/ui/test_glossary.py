"""One glossary (issue #11, item 6): docs/glossary.md's "Never say" table over every string the
app shows (both languages, every key), campaign's vocabulary labels and the exports' headers;
and each term of its "Terms" table in the strings it names. The test reads the page itself."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from campaign import vocabulary as v
from field_app.i18n import LANGUAGES, strings
from sync_server.render import csv as render_csv
from sync_server.render import text as render_text
from sync_server.render import xlsx as render_xlsx

GLOSSARY = Path(__file__).resolve().parents[2] / "docs" / "glossary.md"


def table(title: str) -> list[list[str]]:
    """The rows of the markdown table under `## title` (header and rule left out)."""
    section = GLOSSARY.read_text(encoding="utf-8").split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in row.strip().strip("|").split(" | ")] for row in rows[2:]]


NEVER = [(lang, never, instead) for lang, never, instead in table("Never say")]
TERMS = table("Terms")


def texts(lang: str) -> dict[str, str]:
    """Everything a person reads in `lang`: the app's strings, campaign's labels, and (Vietnamese)
    the server's export headers."""
    out = {f"i18n {key}": text for key, text in strings(lang).items()}
    for vocab in v.ALL.values():
        out.update({f"vocabulary {vocab.name}.{code}": vocab.label(code, lang) for code in vocab.codes})
    if lang == "vi":
        headers = [render_text.HAMLET_HEADER, render_text.TOTAL_LABEL, render_text.OFFICIAL_NOTE,
                   *(h for h, _p in render_text.TOTAL_COLUMNS), *render_csv.PERSON_HEADERS,
                   *render_csv.REVISIT_HEADERS, *render_xlsx.FOLLOWUP_HEADERS]
        out.update({f"export header {h!r}": h for h in headers})
    return out


def pattern(never: str) -> re.Pattern[str]:
    """At the start of a word (when it starts with a letter), any case."""
    start = r"(?<!\w)" if never[:1].isalnum() else ""
    return re.compile(start + re.escape(never), re.IGNORECASE)


def test_the_glossary_has_its_tables() -> None:
    assert len(NEVER) >= 10 and all(lang in ("vi", "en", "both") for lang, _, _ in NEVER)
    assert len(TERMS) >= 10 and all(len(row) == 4 for row in TERMS)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_string_says_what_the_glossary_bans(lang: str) -> None:
    found = [f"{where}: {text!r} says {never!r} (say: {instead})"
             for never_lang, never, instead in NEVER if never_lang in (lang, "both")
             for where, text in texts(lang).items() if pattern(never).search(text)]
    assert not found, "\n".join(found)


def variants(cell: str) -> list[str]:
    return [part.strip() for part in re.split(r", | / ", cell) if part.strip()]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_term_is_the_word_its_strings_use(lang: str) -> None:
    column = 0 if lang == "vi" else 1
    missing = []
    for row in TERMS:
        words = variants(row[column])
        for key in re.findall(r"`([a-z_]+(?:\.[a-z_]+)+)`", row[3]):
            text = strings(lang).get(key)
            if text is None or not any(w.casefold() in text.casefold() for w in words):
                missing.append(f"{key} = {text!r} lacks {row[column]!r}")
    assert not missing, "\n".join(missing)


def test_the_officer_is_the_police_of_the_communes_own_kind() -> None:
    from field_app.views.common import role_label

    assert role_label("officer", {"commune": "10525"}) == "Công an phường"  # Phường Hải Dương
    assert role_label("officer", {"commune": "10813"}) == "Công an xã"  # Xã Thanh Hà
    assert role_label("officer", None) == "Công an cấp xã"  # no commune known
    assert role_label("volunteer", {"hamlets": []}) == "Tình nguyện viên"


def test_english_role_of_a_ward(monkeypatch: pytest.MonkeyPatch) -> None:
    from field_app import i18n
    from field_app.views.common import role_label

    monkeypatch.setattr(i18n, "_process_language", "en")
    # the process language alone: a Flet page an earlier test left current would answer with its own
    monkeypatch.setattr(i18n, "_current_page", lambda: None)
    assert role_label("officer", {"commune": "10525"}) == "Ward police"
