"""Campaign settings per commune, and progress against them with a pace forecast.

The forecast is plain arithmetic over the maintained by-day counters (no
recount, no event read). It lives here, not in `campaign/`, because only the
server computes it: the app shows what GET /api/v1/progress answers.
"""
from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import Connection, select, update

from campaign import areas
from campaign.text import nfc
from campaign.totals import VIETNAM, coverage

from .. import clock
from . import schema as t
from . import totals as store_totals
from .devices import Scope

TARGET_KINDS = ("people", "percent")
DEFAULT_RETENTION_DAYS = 90
MAX_RETENTION_DAYS = 3650
MAX_NAME = 120
MAX_PEOPLE_TARGET = 10_000_000
PACE_WINDOW_DAYS = 7
PACE_METRICS = ("activated", "visited", "helped")  # by-day counters the forecast averages
FIELDS = ("name", "target_kind", "target_value", "start", "deadline", "ends", "retention_days")


class CampaignError(ValueError):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def vn_today() -> date:
    return datetime.now(VIETNAM).date()


# ---- settings -------------------------------------------------------------------

def _date(name: str, value: Any, nullable: bool = False) -> str | None:
    if value is None and nullable:
        return None
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.isoformat() == value:
            return value
    raise CampaignError("bad_date", f"{name} must be a date YYYY-MM-DD")


def validate(body: dict[str, Any]) -> dict[str, Any]:
    """The settings as stored, or CampaignError with the first thing wrong."""
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise CampaignError("unknown_field", f"campaign settings have no field {', '.join(unknown)}")
    missing = [f for f in ("name", "target_kind", "target_value", "start", "deadline") if body.get(f) is None]
    if missing:
        raise CampaignError("missing_field", f"campaign settings need {', '.join(missing)}")
    name = body["name"]
    if not isinstance(name, str) or not nfc(name).strip():
        raise CampaignError("bad_name", "name must be non-empty text")
    name = " ".join(nfc(name).split())
    if len(name) > MAX_NAME or any(ord(ch) < 32 for ch in name):
        raise CampaignError("bad_name", f"name must be one line of at most {MAX_NAME} characters")
    kind = body["target_kind"]
    if kind not in TARGET_KINDS:
        raise CampaignError("bad_target", "target_kind must be people or percent")
    value = body["target_value"]
    if isinstance(value, bool) or not isinstance(value, int):
        raise CampaignError("bad_target", "target_value must be a whole number")
    if kind == "percent" and not 1 <= value <= 100:
        raise CampaignError("bad_target", "a percent target is a whole number from 1 to 100")
    if kind == "people" and not 1 <= value <= MAX_PEOPLE_TARGET:
        raise CampaignError("bad_target", f"a people target is from 1 to {MAX_PEOPLE_TARGET:,}")
    start = _date("start", body["start"])
    deadline = _date("deadline", body["deadline"])
    ends = _date("ends", body.get("ends"), nullable=True)
    assert start is not None and deadline is not None
    if deadline < start:
        raise CampaignError("bad_date", "the deadline is before the start")
    if ends is not None and ends < deadline:
        raise CampaignError("bad_date", "the campaign ends before its deadline")
    retention = body.get("retention_days", DEFAULT_RETENTION_DAYS)
    if retention is None:
        retention = DEFAULT_RETENTION_DAYS
    if isinstance(retention, bool) or not isinstance(retention, int) or not 0 <= retention <= MAX_RETENTION_DAYS:
        raise CampaignError("bad_retention", f"retention_days is a whole number from 0 to {MAX_RETENTION_DAYS}")
    return {"name": name, "target_kind": kind, "target_value": value, "start": start, "deadline": deadline,
            "ends": ends, "retention_days": retention}


def _answer(row: Any) -> dict[str, Any]:
    out = {"commune": row.commune, "commune_name": areas.commune(row.commune).full_name,
           "province": areas.commune(row.commune).province}
    out.update({f: getattr(row, f) for f in FIELDS})
    out["purge_after"] = ((date.fromisoformat(row.ends) + timedelta(days=row.retention_days)).isoformat()
                          if row.ends else None)
    out["updated_at"] = row.updated_at
    return out


def get(conn: Connection, commune: str) -> dict[str, Any] | None:
    row = conn.execute(select(t.campaigns).where(t.campaigns.c.commune == commune)).first()
    return _answer(row) if row else None


def put(conn: Connection, commune: str, body: dict[str, Any]) -> dict[str, Any]:
    """Create or replace a commune's settings (validated here). Call in a write transaction."""
    if not areas.is_commune_code(commune):
        raise CampaignError("unknown_commune", f"{commune} is not an official commune code")
    values = {**validate(body), "updated_at": clock.now_iso()}
    done = conn.execute(update(t.campaigns).where(t.campaigns.c.commune == commune).values(**values))
    if done.rowcount == 0:
        conn.execute(t.campaigns.insert().values(commune=commune, **values))
    answer = get(conn, commune)
    assert answer is not None
    return answer


# ---- progress -------------------------------------------------------------------

def _whole_commune(scope: Scope, commune: str) -> bool:
    return scope.hamlets is None and scope.communes is None or bool(scope.communes and commune in scope.communes)


def progress(conn: Connection, commune: str, scope: Scope, today: date | None = None) -> dict[str, Any]:
    """Where the commune (or the scope's part of it) stands, against its target."""
    today = today or vn_today()
    settings = get(conn, commune)
    by_day = store_totals.commune_totals(conn, commune, "day", scope)
    total = by_day["total"]
    daily = {r["key"]: r for r in by_day["rows"]}
    out: dict[str, Any] = {
        "commune": commune, "commune_name": areas.commune(commune).full_name, "today": today.isoformat(),
        "whole_commune": _whole_commune(scope, commune),
        "campaign": settings,
        "households": total["households"], "visited": total["visited"], "revisit": total["revisit"],
        "people": total["people"], "eid_active": total["eid_active"], "chip_card": total["chip_card"],
        "coverage": coverage(total),
        "target": None, "forecast": None, "days": [],
        "note": "Số liệu do tổ ghi nhận; số liệu chính thức do Công an nắm giữ",
    }
    # the series runs from the campaign's start (or the first day with work) to today;
    # first visits before it are the series' starting point
    first = (date.fromisoformat(settings["start"]) if settings
             else min((date.fromisoformat(d) for d in daily), default=today))
    day = first
    cumulative = sum(r["visited"] for d, r in daily.items() if d < first.isoformat())
    while day <= today:
        row = daily.get(day.isoformat())
        visited = row["visited"] if row else 0
        cumulative += visited
        out["days"].append({"day": day.isoformat(), "visited": visited, "visited_total": cumulative,
                            "visits": row["visits"] if row else 0, "helped": row["helped"] if row else 0,
                            "activation_help": row["actions"]["activation_help"] if row else 0,
                            "activated": row["activated"] if row else 0})
        day += timedelta(days=1)
    if settings is None:
        return out
    people = total["people"]
    if settings["target_kind"] == "percent":
        target_people = math.ceil(people * settings["target_value"] / 100)
    elif out["whole_commune"]:
        target_people = settings["target_value"]
    else:  # a leader's hamlets: their share of the commune's target, by people
        commune_people = store_totals.commune_totals(conn, commune, "day", Scope(hamlets=None))["total"]["people"]
        target_people = math.ceil(settings["target_value"] * people / commune_people) if commune_people else 0
    out["target"] = {"kind": settings["target_kind"], "value": settings["target_value"], "people": target_people,
                     "share": round(target_people / people, 4) if people else None,
                     "deadline": settings["deadline"]}
    out["forecast"] = forecast(
        today=today, start=date.fromisoformat(settings["start"]), deadline=date.fromisoformat(settings["deadline"]),
        households=total["households"], visited=total["visited"], people=people,
        eid_active=total["eid_active"], target_people=target_people,
        daily={d: {m: r[m] for m in PACE_METRICS} for d, r in daily.items()})
    return out


def forecast(*, today: date, start: date, deadline: date, households: int, visited: int, people: int,
             eid_active: int, target_people: int, daily: Mapping[str, Mapping[str, int]],
             window: int = PACE_WINDOW_DAYS) -> dict[str, Any]:
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
    out = {
        "window_days": len(days), "activated_a_day": round(activated_a_day, 1),
        "helped_a_day": round(helped_a_day, 1), "visited_a_day": round(visited_a_day, 1),
        "days_left": days_left, "eid_active_at_deadline": eid_at_deadline, "share_at_deadline": share,
        "visited_at_deadline": visited_at_deadline,
        "visited_share_at_deadline": round(visited_at_deadline / households, 4) if households else 0.0,
        "short_of_target": short, "needed_a_day": needed, "on_track": eid_at_deadline >= target_people,
        "days_to_visit_all": (math.ceil((households - visited) / visited_a_day) if visited_a_day
                              else (0 if households == visited else None)),
    }
    when = deadline.strftime("%d/%m/%Y")
    percent = f"{share * 100:.1f}".replace(".", ",")
    if short == 0:
        out["text_vi"] = f"Đã đạt mục tiêu; với tốc độ này, đạt {percent} % vào {when}."
        out["text_en"] = f"Target reached; at this pace {share * 100:.1f} % by {deadline.isoformat()}."
    elif needed is None:
        out["text_vi"] = f"Đã quá hạn {when}; còn thiếu {_vi_int(short)} người so với mục tiêu."
        out["text_en"] = f"The deadline {deadline.isoformat()} has passed; {short:,} people short of the target."
    else:
        out["text_vi"] = (f"Với tốc độ này, đạt {percent} % vào {when}; cần {_vi_int(needed)} người mỗi ngày "
                          "để đạt mục tiêu đúng hạn.")
        out["text_en"] = (f"At this pace {share * 100:.1f} % by {deadline.isoformat()}; {needed:,} people a day "
                          "needed to reach the target by the deadline.")
    return out


def _vi_int(n: int) -> str:
    """12.345: Vietnamese groups thousands with dots."""
    return f"{n:,}".replace(",", ".")
