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

import re

from .text import fold

_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[str | int, ...]:
    """The sort key of a name or an address: folded text, digit runs as numbers."""
    # re.split with one group puts the digit runs at the odd positions: text, number, text, …
    parts = _DIGITS.split(fold(text))
    return tuple(int(part) if i % 2 else part for i, part in enumerate(parts))
