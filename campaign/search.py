"""What a search typed on the households screen finds, and in which order (one rule, any side).

A query is folded (campaign.text.fold) and cut into words at anything that is not a
letter or a digit ("Số 12/3, ngõ 7" → so 12 3 ngo 7). A household is found by:

1. one person's label (name): every word of the query starts a different word of that ONE
   person's label, in any order ("long tran" finds "Trần Xuân Long"; "tran xuan long" does
   not find a household of a "Trần Đức Long" and a "Trần Xuân Sáu"; "hung" finds "Hùng" and
   "Hưng", which fold alike). Ranked: the whole name exactly, then the name beginning
   with the query, then the words anywhere in the name.
2. the address, as a phrase: the query's words follow each other in the address, whole
   words, the last one possibly still being typed ("so 12 ngo" finds "Số 12, ngõ 7, …";
   "tran hung dao" finds every house of "phố Trần Hưng Đạo"; "nguyen van hung" does not
   find "Số 3, phố Trần Hưng Đạo" for its "hung").
3. its hamlet's whole name ("to dan pho 2" finds the households of "Tổ dân phố 2", not
   of "Tổ dân phố 20"): the hamlet's households, ranked last.

A household found several ways takes its best rank. The words are compared only after a
cheap substring test on the folded key, so a keystroke over thousands of keys stays quick.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum

from .text import fold

_WORD = re.compile(r"[^\W_]+")


class Rank(IntEnum):
    """How a household was found, best first (the list's first sort key)."""
    EXACT = 0  # a person's whole name is the query
    PREFIX = 1  # a person's name begins with the query
    NAME = 2  # a person's name holds every word of the query
    ADDRESS = 3  # the address holds the query as a phrase
    HAMLET = 4  # the hamlet's whole name is the query

    @property
    def by_name(self) -> bool:
        return self <= Rank.NAME


def words(text: str) -> tuple[str, ...]:
    """The folded words of a text: letters and digits, cut at spaces and punctuation."""
    return _words_of_folded(fold(text))


def _words_of_folded(key: str) -> tuple[str, ...]:
    # the keys a search compares are folded already (the stores keep them so): no second fold
    return tuple(_WORD.findall(key))


@dataclass(frozen=True, slots=True)
class Query:
    words: tuple[str, ...]

    @classmethod
    def of(cls, text: str) -> Query:
        return cls(words(text))

    def __bool__(self) -> bool:
        return bool(self.words)

    @property
    def hint(self) -> str:
        """The query's longest word: a folded key without it as a substring matches nothing (a
        caller scanning thousands of keys skips most with one `in`)."""
        return max(self.words, key=len) if self.words else ""

    def _could_be_in(self, key: str) -> bool:
        # every query word is a substring of a folded key that matches: a cheap first test
        return all(w in key for w in self.words)

    def name(self, label_key: str) -> Rank | None:
        """How one person's label, folded (campaign.text.fold), answers the query, or None."""
        if not self.words or not self._could_be_in(label_key):
            return None
        label = _words_of_folded(label_key)
        q = self.words
        if label == q:
            return Rank.EXACT
        n = len(q)
        if len(label) >= n and label[:n - 1] == q[:n - 1] and label[n - 1].startswith(q[-1]):
            return Rank.PREFIX
        free = list(label)
        # the longest query words first: a short one ("h") must not take the word a longer
        # one ("hung") needs
        for w in sorted(q, key=len, reverse=True):
            at = next((i for i, word in enumerate(free) if word.startswith(w)), None)
            if at is None:
                return None
            del free[at]
        return Rank.NAME

    def phrase(self, key: str) -> bool:
        """Whether the query's words follow each other, whole, in this folded text (fold; the last
        one may be the start of a word: it is still being typed)."""
        if not self.words or not self._could_be_in(key):
            return False
        text = _words_of_folded(key)
        q = self.words
        n = len(q)
        for i in range(len(text) - n + 1):
            if text[i:i + n - 1] == q[:n - 1] and text[i + n - 1].startswith(q[-1]):
                return True
        return False

    def whole(self, key: str) -> bool:
        """Whether the folded text is the query, word for word (a hamlet's name)."""
        return bool(self.words) and _words_of_folded(key) == self.words
