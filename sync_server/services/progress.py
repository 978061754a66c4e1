"""Progress against a commune's campaign, with a pace forecast and its sentences.

The forecast is plain arithmetic over the maintained by-day counters (no
recount, no event read). It lives here, not in `campaign/`, because only the
server computes it: the app shows what GET /api/v1/progress answers.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Connection

from campaign import areas
from campaign.events import EARLIEST_AT
from campaign.time import local_date, now
from campaign.totals import coverage

from ..store.devices import Scope
from . import campaigns
from .access import checked_commune
from .campaigns import Campaign
from .enrolment import Caller
from .reports import commune_totals

PACE_WINDOW_DAYS = 7
PACE_METRICS = ("activated", "visited", "helped")  # by-day counters the forecast averages
NOTE = "Số liệu do tổ ghi nhận; số liệu chính thức do Công an nắm giữ"


@dataclass(frozen=True)
class Day:
    day: str
    visited: int  # households visited for the first time
    visited_total: int
    visits: int
    helped: int
    activation_help: int
    activated: int


@dataclass(frozen=True)
class Target:
    kind: str  # people | percent
    value: int
    people: int  # the target in people, of the scope
    share: float | None  # of the scope's people
    deadline: str


@dataclass(frozen=True)
class Forecast:
    window_days: int
    activated_a_day: float
    helped_a_day: float
    visited_a_day: float
    days_left: int
    eid_active_at_deadline: int
    share_at_deadline: float
    visited_at_deadline: int
    visited_share_at_deadline: float
    short_of_target: int
    needed_a_day: int | None
    on_track: bool
    days_to_visit_all: int | None
    text_vi: str
    text_en: str


@dataclass(frozen=True)
class Progress:
    commune: str
    commune_name: str
    today: str
    whole_commune: bool
    campaign: Campaign | None
    households: int
    visited: int
    revisit: int
    people: int
    eid_active: int
    chip_card: int
    coverage: dict[str, float]
    target: Target | None
    forecast: Forecast | None
    days: list[Day]
    note: str = NOTE


def progress(conn: Connection, who: Caller, commune: str, today: date | None = None) -> Progress:
    """Where the commune (or the caller's part of it) stands, by day, against its target."""
    checked_commune(who, commune)
    scope = who.scope
    today = today or local_date(now())
    settings = campaigns.get(conn, commune)
    by_day = commune_totals(conn, commune, "day", scope)
    total = by_day.total
    daily = {r["key"]: r for r in by_day.rows}
    # the series runs from the campaign's start (or the first day with work) to today;
    # first visits before it are the series' starting point
    # (clipped: never before campaign.events.EARLIEST_AT, whatever the log holds; never past the
    # campaign's end)
    first = (date.fromisoformat(settings.start) if settings
             else max(min((date.fromisoformat(d) for d in daily if d), default=today), EARLIEST_AT.date()))
    last = min(today, date.fromisoformat(settings.ends)) if settings is not None and settings.ends else today
    days: list[Day] = []
    cumulative = sum(r["visited"] for d, r in daily.items() if d < first.isoformat())
    day = first
    while day <= last:
        row = daily.get(day.isoformat())
        visited = row["visited"] if row else 0
        cumulative += visited
        days.append(Day(day.isoformat(), visited, cumulative, row["visits"] if row else 0,
                        row["helped"] if row else 0, row["actions"]["activation_help"] if row else 0,
                        row["activated"] if row else 0))
        day += timedelta(days=1)
    whole = scope.whole(commune)
    target = forecast_ = None
    if settings is not None:
        people = total["people"]
        if settings.target_kind == "percent":
            target_people = math.ceil(people * settings.target_value / 100)
        elif whole:
            target_people = settings.target_value
        else:  # a leader's hamlets: their share of the commune's target, by people
            commune_people = commune_totals(conn, commune, "day", Scope(hamlets=None)).total["people"]
            target_people = math.ceil(settings.target_value * people / commune_people) if commune_people else 0
        target = Target(settings.target_kind, settings.target_value, target_people,
                        round(target_people / people, 4) if people else None, settings.deadline)
        forecast_ = forecast(
            today=today, start=date.fromisoformat(settings.start), deadline=date.fromisoformat(settings.deadline),
            households=total["households"], visited=total["visited"], people=people,
            eid_active=total["eid_active"], target_people=target_people,
            daily={d: {m: r[m] for m in PACE_METRICS} for d, r in daily.items()})
    return Progress(commune, areas.commune(commune).full_name, today.isoformat(), whole, settings,
                    total["households"], total["visited"], total["revisit"], total["people"], total["eid_active"],
                    total["chip_card"], coverage(total), target, forecast_, days)


def forecast(*, today: date, start: date, deadline: date, households: int, visited: int, people: int,
             eid_active: int, target_people: int, daily: Mapping[str, Mapping[str, int]],
             window: int = PACE_WINDOW_DAYS) -> Forecast:
    """"At this pace X % by DEADLINE; Y people a day needed."

    - pace: the daily average, over the last `window` full days before today (from
      the start if it began later; today's own work if it began today), of people
      who became e-ID active (`activated`: the day the team recorded each activation),
      of households visited for the first time (`visited`) and of people helped
      (`helped`, people listed in visits: shown, not projected). `daily` is
      {day: {metric: n}}; days with no work count as zero.
    - e-ID at the deadline: the active now plus the activation pace over the days left,
      at most everyone; the visiting forecast likewise. Both are exact arithmetic on
      the recorded pace (rounded to whole people).
    - days left count today and the deadline; after the deadline, none.
    - needed a day: the people still short of the target over the days left.
    """
    first = max(start, today - timedelta(days=window))
    last = today - timedelta(days=1)
    if first > last and start <= today:
        first = last = today
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)] if first <= last else []

    def a_day(metric: str) -> float:
        return sum(daily.get(d.isoformat(), {}).get(metric, 0) for d in days) / len(days) if days else 0.0

    activated_a_day, visited_a_day, helped_a_day = (a_day(m) for m in PACE_METRICS)
    days_left = (deadline - today).days + 1 if deadline >= today else 0
    eid_at_deadline = min(people, eid_active + round(activated_a_day * days_left))
    visited_at_deadline = min(households, visited + round(visited_a_day * days_left))
    short = max(0, target_people - eid_active)
    needed = math.ceil(short / days_left) if days_left else None
    share = round(eid_at_deadline / people, 4) if people else 0.0
    text_vi, text_en = sentences(share=share, short=short, needed=needed, deadline=deadline)
    return Forecast(
        window_days=len(days), activated_a_day=round(activated_a_day, 1), helped_a_day=round(helped_a_day, 1),
        visited_a_day=round(visited_a_day, 1), days_left=days_left, eid_active_at_deadline=eid_at_deadline,
        share_at_deadline=share, visited_at_deadline=visited_at_deadline,
        visited_share_at_deadline=round(visited_at_deadline / households, 4) if households else 0.0,
        short_of_target=short, needed_a_day=needed, on_track=eid_at_deadline >= target_people,
        days_to_visit_all=(math.ceil((households - visited) / visited_a_day) if visited_a_day
                           else (0 if households == visited else None)),
        text_vi=text_vi, text_en=text_en)


def sentences(*, share: float, short: int, needed: int | None, deadline: date) -> tuple[str, str]:
    """The forecast in a sentence, Vietnamese and English. `share` is of all the people (not of the
    target: the dashboard says that one apart, beside the pace)."""
    when = deadline.strftime("%d/%m/%Y")
    percent = f"{share * 100:.1f}".replace(".", ",")
    if short == 0:
        return (f"Đã đạt mục tiêu; với tốc độ này, đạt {percent} % số người vào {when}.",
                f"Target reached; at this pace {share * 100:.1f} % of the people by {deadline.isoformat()}.")
    if needed is None:
        return (f"Đã quá hạn {when}; còn thiếu {vi_int(short)} người so với mục tiêu.",
                f"The deadline {deadline.isoformat()} has passed; {short:,} people short of the target.")
    return (f"Với tốc độ này, đạt {percent} % số người vào {when}; cần {vi_int(needed)} người mỗi ngày "
            "để đạt mục tiêu đúng hạn.",
            f"At this pace {share * 100:.1f} % of the people by {deadline.isoformat()}; {needed:,} people a day "
            "needed to reach the target by the deadline.")


def vi_int(n: int) -> str:
    """12.345: Vietnamese groups thousands with dots."""
    return f"{n:,}".replace(",", ".")
