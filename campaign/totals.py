"""What counts, and how the counts add up.

Every entity contributes a small set of counters to its hamlet; the totals are
the sum of contributions. A store keeps the sum up to date by adding
contribution(after) - contribution(before) for each entity an event changes,
in the same transaction, and a recount sums them again from scratch: the two
must agree. Counters keyed by a day carry the day work was done (Vietnam
time), so the same table answers "by hamlet" and "by day".

What counts (recorded by the team; the police hold the official figures):
- households: every household known; visited: households with a visit at all,
  counted on the day of their first visit; revisit: the latest visit found
  nobody home; revisit:<window>: those of them whose visit said when to come back
  (visit.recorded's `come_back`, vocabulary.COME_BACK).
- people: people living here (at home, away for work or study, abroad); moved
  and deceased people stay in the data but leave the counts. card:/vneid:/
  blocker: split those people by status.
- activated: people living here with e-ID active, counted on the day the team
  recorded the activation (the person's derived `vneid_active_at`): a day's
  count is the people who became active that day, and over all days it sums
  to the active people (row()'s `eid_active`). The pace forecast reads it.
- visits, outcome:, action: (one per visit that gave it), helped: people helped.
  A voided visit (visit.voided) counts nowhere, and its household's aggregates are
  those of the visits that remain (projection), so `visited` and `revisit` follow.
- booking:<status>: capture bookings by status, in their person's hamlet (campaign.sessions).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from . import vocabulary as v
from .followup import come_back_of, needs_revisit
from .projection import MERGED_INTO, VNEID_ACTIVE_AT, Entity, is_voided

# Re-exported for callers being moved to campaign.time (issue #10); a later cleanup removes them.
from .time import VIETNAM as VIETNAM
from .time import local_day as local_day

NO_DAY = ""  # counters that describe state, not a day's work

Key = tuple[str, str]  # (day, metric)


def contribution(entity: Entity | None) -> Counter[Key]:
    return Counter(counts(entity))


def counts(entity: Entity | None) -> dict[Key, int]:
    """contribution(entity) as a plain dict, no zero in it: what a caller that only walks the
    counters takes (the server sums them for every entity a push changes, issue #16)."""
    if entity is None:
        return {}
    return _BY_TYPE.get(entity.type, _nothing)(entity.data)


def delta(before: Entity | None, after: Entity | None) -> Counter[Key]:
    """after - before, keeping negative counts (Counter subtraction would drop them)."""
    out: Counter[Key] = Counter(contribution(after))
    for key, n in contribution(before).items():
        out[key] -= n
    return Counter({k: n for k, n in out.items() if n})


# Each builds a plain dict (a Counter costs a Python-level __init__ and update each): the
# metrics set once are distinct from each other, those of a list are added up.

def _nothing(data: dict[str, Any]) -> dict[Key, int]:
    return {}


def _household(data: dict[str, Any]) -> dict[Key, int]:
    out = {(NO_DAY, "households"): 1, (NO_DAY, f"consent:{data['consent']}"): 1}
    if data["first_visit_at"]:
        out[(local_day(data["first_visit_at"]), "visited")] = 1
    if needs_revisit(data):
        out[(NO_DAY, "revisit")] = 1
        come_back = come_back_of(data)
        if come_back is not None:  # by window: the evening and weekend shifts are planned from these
            out[(NO_DAY, f"revisit:{come_back['window']}")] = 1
    return out


def _person(data: dict[str, Any]) -> dict[Key, int]:
    if data.get(MERGED_INTO):  # a duplicate folded into another person counts nowhere
        return {}
    if data["presence"] not in v.LIVING_HERE:
        return {(NO_DAY, f"presence:{data['presence']}"): 1}
    out = {
        (NO_DAY, "people"): 1,
        (NO_DAY, f"presence:{data['presence']}"): 1,
        (NO_DAY, f"card:{data['card']}"): 1,
        (NO_DAY, f"vneid:{data['vneid']}"): 1,
    }
    for blocker in data.get("blockers", []):
        key = (NO_DAY, f"blocker:{blocker}")
        out[key] = out.get(key, 0) + 1
    if data["vneid"] in v.ACTIVE_VNEID:
        # The projection sets the time whenever the status is active. A body written before
        # the field existed (an old device row; the server's migration 0003 fills every stored
        # one) still counts, on no day, so that the sum over days stays eid_active.
        active_at = data.get(VNEID_ACTIVE_AT)
        out[(local_day(active_at) if active_at else NO_DAY, "activated")] = 1
    return out


def _visit(data: dict[str, Any]) -> dict[Key, int]:
    if is_voided(data):
        return {}
    day = local_day(data["at"])
    out = {(day, "visits"): 1, (day, f"outcome:{data['outcome']}"): 1}
    for action in data["actions"]:
        key = (day, f"action:{action}")
        out[key] = out.get(key, 0) + 1
    if data["people_helped"]:
        out[(day, "helped")] = len(data["people_helped"])
    return out


def _booking(data: dict[str, Any]) -> dict[Key, int]:
    """A booking counts by its status in its person's hamlet (booking:booked …); a session counts nothing."""
    return {(NO_DAY, f"booking:{data['status']}"): 1}


_BY_TYPE = {"household": _household, "person": _person, "visit": _visit, "booking": _booking}


def recount(entities: Iterable[Entity]) -> dict[tuple[str, str, str], int]:
    """Sum every entity's contribution from scratch: {(hamlet, day, metric): n}."""
    out: Counter[tuple[str, str, str]] = Counter()
    for entity in entities:
        for (day, metric), n in counts(entity).items():
            out[(entity.hamlet_id or "", day, metric)] += n
    return {k: n for k, n in out.items() if n}


# ---- the shape of a totals row on the wire --------------------------------------

GROUPS = {"card": v.CARD, "vneid": v.VNEID, "actions": v.ACTIONS, "blockers": v.BLOCKERS,
          "outcomes": v.OUTCOME, "presence": v.PRESENCE, "consent": v.CONSENT}
_PREFIX = {"card": "card", "vneid": "vneid", "actions": "action", "blockers": "blocker",
           "outcomes": "outcome", "presence": "presence", "consent": "consent"}


def row(key: str, name: str, counts: Counter[str] | dict[str, int]) -> dict[str, Any]:
    """One row of GET /api/v1/totals from {metric: n}; every code appears, zeros included.

    `activated` (added to the wire row; consumers read rows by key): a by=day row's people
    who became e-ID active that day; any other row sums its days, so it equals `eid_active`."""
    out: dict[str, Any] = {"key": key, "name": name}
    for metric in ("households", "visited", "revisit", "people", "visits", "helped", "activated"):
        out[metric] = counts.get(metric, 0)
    for group, vocab in GROUPS.items():
        out[group] = {code: counts.get(f"{_PREFIX[group]}:{code}", 0) for code in vocab.codes}
    # added after the first release: households to revisit by when to come back (revisit:<window>);
    # those whose visit said nothing are revisit minus the sum
    out["come_back"] = {code: counts.get(f"revisit:{code}", 0) for code in v.COME_BACK.codes}
    out["chip_card"] = sum(out["card"][c] for c in v.CHIP_CARDS)
    out["eid_active"] = sum(out["vneid"][c] for c in v.ACTIVE_VNEID)
    return out


def coverage(counts: dict[str, Any]) -> dict[str, float]:
    """Shares for progress: visited of known households, chip cards and active e-IDs of people."""
    def share(part: int, whole: int) -> float:
        return round(part / whole, 4) if whole else 0.0
    return {"visited": share(counts["visited"], counts["households"]),
            "chip_card": share(counts["chip_card"], counts["people"]),
            "eid_active": share(counts["eid_active"], counts["people"])}
