"""The app's own strings, Vietnamese first, English second.

    from field_app.i18n import t
    t("nav.home")                      # "Trang chủ" (or "Home" when English is on)
    t("home.pending_sync", count=3)    # placeholders are str.format fields
    t("nav.home", lang="en")           # a given language, whatever is current

Strings live in assets/i18n/<lang>/*.json (one file per area of the app) as flat {"dotted.key": "text"} maps;
both files must have the same keys (tests/ui/test_i18n.py checks it). A key
missing from the current language falls back to Vietnamese, then to the key
itself, so a missing string shows up as "nav.home" rather than crashing.

The current language belongs to a *session*: in web mode several people use
one server process, each in their own language. `set_language()` and
`get_language()` act on the Flet page bound to the running handler
(`ft.context.page`, which Flet sets for `main` and every event handler) and,
outside any page (tests, scripts, the CLI), on a process-wide default.

Labels of the domain vocabularies (card status, VNeID level, …) come from
`campaign.vocabulary`; `vocab_label()` shows one in the current language.
"""
from __future__ import annotations

import json
import string
from functools import cache
from pathlib import Path
from typing import Any

from campaign.vocabulary import Vocabulary
from campaign.wire import EVENT_ERRORS, VALIDATION_ERROR

__all__ = [
    "DEFAULT_LANGUAGE",
    "FORM_LABELS",
    "I18N_DIR",
    "LANGUAGES",
    "field_label",
    "format_number",
    "get_language",
    "keys",
    "plural",
    "refusal_text",
    "set_language",
    "strings",
    "t",
    "vocab_label",
]

#: Languages the app ships, in the order offered to people.
LANGUAGES: tuple[str, ...] = ("vi", "en")
DEFAULT_LANGUAGE = "vi"

#: Where the translation files live (the repo's assets/i18n).
I18N_DIR = Path(__file__).resolve().parent.parent / "assets" / "i18n"

# Key in the Flet session store holding that session's language.
_SESSION_KEY = "gocua.language"

_process_language = DEFAULT_LANGUAGE


@cache
def strings(lang: str) -> dict[str, str]:
    """The whole {key: text} table of one language (cached, read-only use)."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; expected one of {LANGUAGES}")
    merged: dict[str, str] = {}
    for path in files(lang):
        with path.open(encoding="utf-8") as f:
            data = json.load(f)
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in data.items()
        ):
            raise ValueError(f"{path} must be a flat JSON object of strings")
        clash = sorted(set(data) & set(merged))
        if clash:
            raise ValueError(f"{path} repeats keys of another file: {', '.join(clash)}")
        merged.update(data)
    return merged


def files(lang: str) -> list[Path]:
    """A language is a folder of files, one per area of the app, so areas do not collide."""
    return sorted((I18N_DIR / lang).glob("*.json"))


def keys(lang: str = DEFAULT_LANGUAGE) -> frozenset[str]:
    """All keys of one language's table."""
    return frozenset(strings(lang))


def has(key: str, lang: str = DEFAULT_LANGUAGE) -> bool:
    """Whether the language table has `key`."""
    return key in strings(lang)


def _current_page() -> Any:
    """The Flet page bound to the running handler, or None outside any app."""
    try:
        import flet as ft

        return ft.context.page
    except (ImportError, RuntimeError):
        return None


def _session_store(page: Any) -> Any:
    try:
        return page.session.store
    except (AttributeError, RuntimeError):
        return None


def get_language(page: Any = None) -> str:
    """The current language: the page's (or the running handler's page's), else
    the process default."""
    page = page if page is not None else _current_page()
    store = _session_store(page) if page is not None else None
    if store is not None:
        lang = store.get(_SESSION_KEY)
        if isinstance(lang, str) and lang in LANGUAGES:
            return lang
    return _process_language


def set_language(lang: str, page: Any = None) -> None:
    """Set the language of `page` (default: the running handler's page) or, with
    no page anywhere, the process default. Rebuilding the screens is the
    caller's job (the shell's `AppShell.set_language` does both)."""
    global _process_language
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; expected one of {LANGUAGES}")
    page = page if page is not None else _current_page()
    store = _session_store(page) if page is not None else None
    if store is not None:
        store.set(_SESSION_KEY, lang)
    else:
        _process_language = lang


class _KeepMissing(dict[str, Any]):
    """format_map helper: an unknown placeholder stays as "{name}"."""

    def __missing__(self, name: str) -> str:
        return "{" + name + "}"


def t(key: str, /, *, lang: str | None = None, **fmt: Any) -> str:
    """Translate `key` into `lang` (default: the current language) and fill
    its `{placeholders}` from `fmt`. Falls back to Vietnamese, then to `key`.

    A placeholder missing from `fmt` is left as "{name}" instead of raising:
    a half-filled label is better than a crashed screen in the field. (The
    i18n test checks that both languages use the same placeholders.)
    """
    lang = lang or get_language()
    text = strings(lang).get(key)
    if text is None and lang != DEFAULT_LANGUAGE:
        text = strings(DEFAULT_LANGUAGE).get(key)
    if text is None:
        return key
    if not fmt:
        return text
    return string.Formatter().vformat(text, (), _KeepMissing(fmt))


def plural(key: str, n: int, /, *, lang: str | None = None, **fmt: Any) -> str:
    """`t(key, count=n formatted)`, with the singular `key + ".one"` when n is 1 and the language
    has one ("1 visit", "2 visits"; Vietnamese says "1 lượt thăm", "2 lượt thăm" alike)."""
    lang = lang or get_language()
    one = f"{key}.one"
    chosen = one if n == 1 and one in strings(lang) else key
    return t(chosen, lang=lang, count=format_number(n, lang=lang), **fmt)


def vocab_label(vocab: Vocabulary, code: str, *, lang: str | None = None) -> str:
    """Label of a domain code from `campaign.vocabulary` in the current
    language, e.g. `vocab_label(CARD, "cccd_chip")` → "CCCD gắn chip"."""
    return vocab.label(code, lang or get_language())


def format_number(n: float, *, lang: str | None = None, decimals: int = 0) -> str:
    """A number as people write it: "12.345" in Vietnamese, "12,345" in English."""
    lang = lang or get_language()
    s = f"{n:,.{decimals}f}"
    if lang == "vi":
        s = s.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return s


#: A request's field -> the key of the label its form shows (other fields: "field.<name>").
FORM_LABELS = {"name": "campaign.name", "target_value": "campaign.target_value", "start": "campaign.start",
               "deadline": "campaign.deadline", "ends": "campaign.ends", "retention_days": "campaign.retention"}


def field_label(name: str, *, lang: str | None = None) -> str:
    """A request's field by the label people saw on the form ("Tên chiến dịch"), else its own name."""
    key = FORM_LABELS.get(name) or f"field.{name}"
    return t(key, lang=lang) if has(key) else name


def refusal_text(code: str | None, answer: dict[str, Any] | None = None, *, status: int | None = None,
                 lang: str | None = None) -> str:
    """A server's refusal as a whole sentence, from its code alone (campaign/wire.py): the server's
    English detail is never shown. A field outside its rule (`bad_request`) is named by its form's
    label, with the limit in words."""
    answer = answer or {}
    if code == VALIDATION_ERROR:
        field, rule, limit = answer.get("field"), answer.get("rule"), answer.get("limit")
        if not isinstance(field, str) or not field or not has(f"error.validation.{rule}"):
            return t("error.validation.unnamed", lang=lang)
        words = format_number(limit, lang=lang) if isinstance(limit, int | float) else ""
        return t(f"error.validation.{rule}", lang=lang, field=field_label(field, lang=lang), limit=words)
    for key in (f"error.server.{code}", f"error.client.{code}"):
        if code and has(key):
            return t(key, lang=lang)
    if code in EVENT_ERRORS:
        return t(f"reason.{code}", lang=lang)
    return t("error.server.unknown", lang=lang, code=code or (f"HTTP {status}" if status else "?"))
