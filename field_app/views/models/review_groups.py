"""Review that scales (issue #13, item 6), without Flet: the leader's queue grouped by volunteer
and day, each group's sample (campaign.review) first for a close look, then "approve the rest
of this volunteer's day" in one action (one review.decided per visit, in one transaction, so
they leave in one push). Returned visits are decided one by one, with a comment, as before.
Filters: day, volunteer, outcome, action.
"""
from __future__ import annotations

from dataclasses import dataclass

from campaign.review import SAMPLE_EVERY, sample
from campaign.time import local_day
from field_app.store import ReviewItem, Store


@dataclass(frozen=True)
class Filters:
    day: str | None = None  # YYYY-MM-DD, Vietnam's day of the visit
    device_id: str | None = None  # the volunteer's device
    outcome: str | None = None
    action: str | None = None

    @property
    def active(self) -> bool:
        return self.count > 0

    @property
    def count(self) -> int:
        """How many of the four are on (the folded filters say it: "Lọc (2)")."""
        return sum(v is not None for v in (self.day, self.device_id, self.outcome, self.action))

    def keeps(self, item: ReviewItem) -> bool:
        visit = item.visit
        return ((self.day is None or local_day(visit.at) == self.day)
                and (self.device_id is None or visit.device_id == self.device_id)
                and (self.outcome is None or (visit.outcome or "met") == self.outcome)
                and (self.action is None or self.action in visit.actions))


@dataclass(frozen=True)
class VolunteerDay:
    """One volunteer's visits of one day still waiting: the sample first, then the rest."""
    device_id: str
    day: str
    sample: list[ReviewItem]
    rest: list[ReviewItem]

    @property
    def key(self) -> str:
        return f"review:{self.device_id}:{self.day}"


def volunteer_days(items: list[ReviewItem], filters: Filters | None = None,
                   every: int = SAMPLE_EVERY) -> list[VolunteerDay]:
    """The queue by volunteer and day, oldest day first. The sample is drawn over the whole
    day's waiting visits (filters narrow what is shown, not what is drawn), so it is stable."""
    filters = filters or Filters()
    days: dict[tuple[str, str], list[ReviewItem]] = {}
    for item in items:
        days.setdefault((item.visit.device_id, local_day(item.visit.at)), []).append(item)
    out = []
    for (device_id, day), group in sorted(days.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        picked = sample(day, device_id, [i.visit.id for i in group], every)
        shown = [i for i in group if filters.keeps(i)]
        if shown:
            out.append(VolunteerDay(device_id, day, [i for i in shown if i.visit.id in picked],
                                    [i for i in shown if i.visit.id not in picked]))
    return out


@dataclass(frozen=True)
class Choices:
    """What each filter can narrow to, among the visits waiting (codes; the screen names them)."""
    days: list[str]  # YYYY-MM-DD, newest first (the leader looks at today first)
    devices: list[str]  # the volunteers' devices, as the queue meets them
    outcomes: list[str]
    actions: list[str]


def choices(items: list[ReviewItem]) -> Choices:
    """The values present in the queue, so no filter offers a choice that shows nothing."""
    days: set[str] = set()
    devices: dict[str, None] = {}  # first met first, kept in that order
    outcomes: set[str] = set()
    actions: set[str] = set()
    for item in items:
        visit = item.visit
        days.add(local_day(visit.at))
        devices.setdefault(visit.device_id, None)
        outcomes.add(visit.outcome or "met")
        actions.update(visit.actions)
    return Choices(sorted(days, reverse=True), list(devices), sorted(outcomes), sorted(actions))


def approve_rest(store: Store, group: VolunteerDay) -> int:
    """Approve every visit of the group's rest (not its sample) in one transaction: one
    review.decided each, all or none. Returns how many."""
    with store.transaction():
        for item in group.rest:
            store.decide_review(item.visit.id, "approved")
    return len(group.rest)
