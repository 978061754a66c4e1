"""The one natural order of names and addresses, on both sides.

"Tổ dân phố 2" comes before "Tổ dân phố 10", and "Số 2" before "Số 10": the
text is folded (campaign.text.fold: no marks, đ→d, lowercase, one space between
words, so "Hoà" and "Hòa", "THÔN ĐÔNG" and "thôn đông" sort together) and then
compared character by character, except that a run of digits compares as one
number. A space is a character like any other, as in the folded text itself:
"Số 12 ngõ 3" comes before "Số 12A" (a space sorts before a letter).

A key alternates text and number and always starts (and ends) with text, so any
two keys compare position by position without a TypeError. Equal keys happen
("Tổ 02" and "Tổ 2", "Hoà" and "Hòa"): a caller that needs a total order breaks
the tie itself (by the folded text, then the id).

The key of a folded text is the key of the original (`natural_key(fold(x)) ==
natural_key(x)`), so a store that keeps folded keys can sort on them.
"""
from __future__ import annotations

import functools
import re
from typing import Any

from .text import fold

_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[str | int, ...]:
    """The sort key of a name or an address: folded text, digit runs as numbers."""
    # re.split with one group puts the digit runs at the odd positions: text, number, text, …
    parts = _DIGITS.split(fold(text))
    return tuple(int(part) if i % 2 else part for i, part in enumerate(parts))


# ---- walking order: street by street, then house by house --------------------------------
#
# An address is cut into its house number and its ways (street, alley, hamlet …), and the
# households list walks way by way, the outermost first ("phố Lê Lợi" before its "ngõ 4"),
# then house by house in natural order. On the folded text:
#   "Số 12, ngõ 4, phố Lê Lợi"   → house "12",  ways ("pho le loi", "ngo 4")
#   "Số 12 ngõ 4 Nguyễn Văn A"   → house "12",  ways ("nguyen van a", "ngo 4")
#   "Số10 Trần Hưng Đạo", "12A Trần Hưng Đạo" → houses "10", "12a" on ("tran hung dao",)
#   "Đội 3, xóm Đồng", "Thôn Hòa Bình" → no house number: ("xom dong", "doi 3"), ("thon hoa binh",)
# Without commas, a way's word followed by a number ("ngõ 4", "ngách 2/7", "tổ 5") is a way of
# its own; the words around it are another.

_WORD = re.compile(r"[^\W_]+(?:/[^\W_]+)*")  # "2/7" stays one word; other punctuation goes
_HOUSE = re.compile(r"(?:so\s*)?(\d+[a-z]?(?:/\d+[a-z]?)*)(?![\w/])[\s,.;:-]*")
WAY_WORDS = frozenset({"ngo", "ngach", "hem", "kiet", "pho", "duong", "thon", "xom", "ap", "to", "khu",
                       "doi", "ban", "lang", "khom", "cum", "tdp"})


def address_parts(address: str) -> tuple[str, tuple[str, ...]]:
    """(house number or "", the ways from the outermost in), folded (see above)."""
    folded = fold(address)
    house = _HOUSE.match(folded)
    rest = folded[house.end():] if house else folded
    ways: list[str] = []
    for part in re.split(r"[,;]", rest):
        words = _WORD.findall(part)
        run: list[str] = []
        i = 0
        while i < len(words):
            if words[i] in WAY_WORDS and i + 1 < len(words) and words[i + 1][:1].isdigit():
                if run:
                    ways.append(" ".join(run))
                    run = []
                ways.append(f"{words[i]} {words[i + 1]}")
                i += 2
            else:
                run.append(words[i])
                i += 1
        if run:
            ways.append(" ".join(run))
    return (house.group(1) if house else ""), tuple(reversed(ways))


def same_address(a: str, b: str) -> bool:
    """Whether two addresses name the same house: the same house number and ways once folded,
    whatever the commas, dashes and case ("Số 12, ngõ 4, phố Lê Lợi" = "số 12 ngõ 4 - Phố Lê Lợi")."""
    return _parts(a) == _parts(b) and _parts(a) != ("", ())


@functools.lru_cache(maxsize=65_536)
def _parts(address: str) -> tuple[str, tuple[str, ...]]:
    return address_parts(address)


@functools.lru_cache(maxsize=65_536)
def walking_key(address: str) -> tuple[Any, ...]:
    """The households list's order: way by way (natural order, the outermost first), then the
    house number (natural order: "2" before "10" before "10a"), then the whole folded address."""
    house, ways = address_parts(address)
    return tuple(natural_key(way) for way in ways), natural_key(house), natural_key(address), fold(address)
