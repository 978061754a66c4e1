"""Children under 14: who can be registered now, through which parent, and who needs a capture.

Pure (stdlib only): the household screen shows it and the server counts it, by
the same rule. A child's card and e-ID are requested in VNeID by a parent (or
guardian) with an active level-2 account; under 6 there are no biometrics, so
the request is all there is; from 6 to 14 the child's photo and fingerprints
are then taken at the police, at a booked time (docs/rules.md section 8).

The app cannot know who is whose parent: the parents offered are the adults
of the household (18 or more, or of unknown age) living here with level 2
active, and the volunteer asks which of them is the parent or guardian.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from . import vocabulary as v
from .projection import is_merged

CHILD_MAX_AGE = v.CARD_COMPULSORY_AGE  # under 14: through a parent
NO_BIOMETRICS_AGE = 6  # under 6: no photo or fingerprints, the online request is all
ADULT_AGE = 18
HAS_CARD = v.CHIP_CARDS | {"applied_waiting"}

# a child's status, in display order
NOW = "now"  # under 6, a parent at level 2: the request is done on the parent's phone today
CAPTURE = "capture"  # 6-13, a parent at level 2: request now, then a booked capture at the police
PARENT_FIRST = "parent_first"  # nobody in the household at level 2 yet: a parent registers level 2 first
DONE = "done"  # a card already, or one on its way
STATUSES = (NOW, CAPTURE, PARENT_FIRST, DONE)

LABELS: dict[str, tuple[str, str]] = {
    NOW: ("Đăng ký được ngay", "Can be registered now"),
    CAPTURE: ("Đăng ký rồi hẹn thu nhận", "Register, then book a capture"),
    PARENT_FIRST: ("Cha mẹ cần định danh mức 2 trước", "A parent needs level 2 first"),
    DONE: ("Đã có thẻ hoặc đang chờ", "Has a card or one on its way"),
}


def label(status: str, lang: str = "vi") -> str:
    vi, en = LABELS[status]
    return en if lang == "en" else vi


@dataclass(frozen=True)
class Child:
    person_id: str
    age: int
    status: str
    parents: tuple[str, ...]  # person ids of the adults who can register the child (level 2 active)


def age(data: dict[str, Any], year: int) -> int | None:
    born = data.get("birth_year")
    return None if born is None else year - int(born)


def is_child(data: dict[str, Any], year: int) -> bool:
    """Living here and under 14 (a person of unknown age is not counted as a child)."""
    a = age(data, year)
    return (data.get("presence") in v.LIVING_HERE and not is_merged(data) and a is not None
            and 0 <= a < CHILD_MAX_AGE)


def parents(people: Iterable[tuple[str, dict[str, Any]]], year: int) -> tuple[str, ...]:
    """The household's adults living here with an active level-2 account, in the order given."""
    out = []
    for person_id, data in people:
        a = age(data, year)
        if (data.get("presence") in v.LIVING_HERE and data.get("vneid") == "l2_active" and not is_merged(data)
                and (a is None or a >= ADULT_AGE)):
            out.append(person_id)
    return tuple(out)


def status(data: dict[str, Any], year: int, has_parent: bool) -> str:
    if data.get("card") in HAS_CARD:
        return DONE
    if not has_parent:
        return PARENT_FIRST
    a = age(data, year)
    return NOW if a is not None and a < NO_BIOMETRICS_AGE else CAPTURE


def household(people: Iterable[tuple[str, dict[str, Any]]], year: int) -> list[Child]:
    """The household's children under 14, each with what can be done for them (status order,
    then the order given). `people` are (id, data) pairs of one household."""
    everyone = list(people)
    through = parents(everyone, year)
    kids = []
    for person_id, data in everyone:
        if is_child(data, year):
            s = status(data, year, bool(through))
            kids.append(Child(person_id, age(data, year) or 0, s, through if s in (NOW, CAPTURE) else ()))
    return sorted(kids, key=lambda c: STATUSES.index(c.status))


def count(children: Iterable[Child]) -> dict[str, int]:
    """Children by status, every status listed (zeros included)."""
    out = dict.fromkeys(STATUSES, 0)
    for child in children:
        out[child.status] += 1
    return out
