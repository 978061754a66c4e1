"""Vietnamese text: stored NFC, searched on a folded key; the checks every stored text passes.

Folding makes "nguyen van a" find "Nguyễn Văn A" and "Hoà" match "Hòa": both
tone-mark placements decompose to the same base letters once the marks go.
"""
from __future__ import annotations

import re
import unicodedata

# đ/Đ are letters of their own, not d plus a mark, so NFD leaves them alone.
_NON_DECOMPOSING = str.maketrans({"đ": "d", "Đ": "d"})


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def is_nfc(text: str) -> bool:
    return unicodedata.is_normalized("NFC", text)


def fold(text: str) -> str:
    """The search key: no marks, đ→d, lowercase, runs of spaces collapsed."""
    decomposed = unicodedata.normalize("NFD", text.translate(_NON_DECOMPOSING))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def slug(text: str) -> str:
    """A file-name part from Vietnamese words: folded, ASCII letters and digits joined by "-"
    ("Thu nhận thẻ căn cước" → "thu-nhan-the-can-cuoc")."""
    return "-".join("".join(ch if ch.isascii() and ch.isalnum() else " " for ch in fold(text)).split())


def is_control_character(ch: str) -> bool:
    """C0 controls except newline and tab, DEL, and C1 controls (U+0080–U+009F): characters
    that no name, address or note needs, and that spoil a display, a file or a terminal."""
    code = ord(ch)
    return (code < 0x20 and ch not in "\n\t") or 0x7F <= code <= 0x9F


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # is_control_character's, as one class


def has_control_characters(text: str) -> bool:
    """Whether the text holds a character that events refuse (`is_control_character`)."""
    return _CONTROL.search(text) is not None


# Characters a label never needs and that hide or reorder what a reader sees (issue #12): the
# bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069, the marks
# U+200E/U+200F), zero-width characters (U+200B–U+200D, U+2060, U+FEFF), the line and
# paragraph separators (U+2028, U+2029), and lone surrogates (JSON can spell one, UTF-8 cannot).
# The zero-width joiner is the one exception, between two emoji ("👨\u200d👩\u200d👧" is one
# family): there it joins pictures, never letters, so it cannot disguise a name.
_HIDDEN = re.compile("[\u200b-\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff\ud800-\udfff]")
_ZWJ = "\u200d"


def _emoji_side(ch: str) -> bool:
    # a pictograph (So), a skin tone (Sk) or the emoji presentation selector
    return ch == "\ufe0f" or unicodedata.category(ch) in ("So", "Sk")


def has_hidden_characters(text: str) -> bool:
    """Whether the text holds an invisible or reordering character, or a lone surrogate (a
    zero-width joiner between two emoji excepted)."""
    if text.isascii():
        return False
    for found in _HIDDEN.finditer(text):
        at = found.start()
        joins_emoji = (found.group() == _ZWJ and 0 < at < len(text) - 1
                       and _emoji_side(text[at - 1]) and _emoji_side(text[at + 1]))
        if not joins_emoji:
            return True
    return False


def normalize_tree(value: object) -> object:
    """NFC every string inside a JSON-like value (keys too)."""
    if isinstance(value, str):
        return nfc(value)
    if isinstance(value, list):
        return [normalize_tree(item) for item in value]
    if isinstance(value, dict):
        return {nfc(k) if isinstance(k, str) else k: normalize_tree(v) for k, v in value.items()}
    return value


HOLDER_NAME_MAX = 60  # the name of the person holding a phone (enrolment)


def holder_name(text: str) -> str:
    """The name of a phone's holder as stored: NFC, spaces trimmed and collapsed. Raises
    ValueError (a code: `empty`, `too_long`, `bad_text`) when it cannot be one."""
    name = " ".join(nfc(text).split())
    if not name:
        raise ValueError("empty")
    if len(name) > HOLDER_NAME_MAX:
        raise ValueError("too_long")
    if has_control_characters(name):
        raise ValueError("bad_text")
    return name
