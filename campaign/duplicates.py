"""Likely duplicates: the same person recorded twice (two volunteers, two visits, offline).

Pure (stdlib only). Two people are likely the same when their labels fold to the same
text (campaign.text.fold: marks, case and spaces do not count) and their birth years are
within one year of each other (both unknown counts as the same too). A generic label
("Người 3", a household that declined) names nobody and never matches. The phone warns
when a person is added with a household's or hamlet's likely duplicate; leaders and
officers see the commune's pairs and merge them (`person.merged`, docs/rules.md section 9).
"""
from __future__ import annotations

from collections.abc import Iterable
from itertools import combinations
from typing import Any

from .events import GENERIC_LABEL
from .projection import is_merged
from .text import fold

YEAR_SLACK = 1


def key(label: object) -> str:
    """The folded label two records must share; "" for no label or a generic one."""
    if not isinstance(label, str) or GENERIC_LABEL.match(label.strip()):
        return ""
    return fold(label)


def close_years(a: object, b: object) -> bool:
    if a is None and b is None:
        return True
    if isinstance(a, int) and isinstance(b, int):
        return abs(a - b) <= YEAR_SLACK
    return False


def same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Two people's data: likely one person."""
    k = key(a.get("label"))
    return bool(k) and k == key(b.get("label")) and close_years(a.get("birth_year"), b.get("birth_year"))


def likely(label: str, birth_year: int | None,
           people: Iterable[tuple[str, dict[str, Any]]]) -> list[str]:
    """The ids of people (id, data) likely to be the person about to be added."""
    new = {"label": label, "birth_year": birth_year}
    return [i for i, data in people if not is_merged(data) and same(new, data)]


def pairs(people: Iterable[tuple[str, dict[str, Any]]]) -> list[tuple[str, str]]:
    """Every likely-duplicate pair among people (id, data), each pair (older id, newer id),
    sorted. People already merged are left out."""
    groups: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for i, data in people:
        k = key(data.get("label"))
        if k and not is_merged(data):
            groups.setdefault(k, []).append((i, data))
    out = []
    for group in groups.values():
        for (a, da), (b, db) in combinations(sorted(group, key=lambda x: x[0]), 2):
            if close_years(da.get("birth_year"), db.get("birth_year")):
                out.append((a, b))
    return sorted(out)
