"""Come back later (issue #13, item 4), without Flet: the dashboard's line and table by window, the
"Khi nào quay lại?" dialog's dates, a come-back in words, and the home's come-backs of today.

Which come-backs are a day's and their order are campaign.come_back's (the server's lists use the
same module); "today" is Vietnam's (campaign.time) by the clock the caller injects."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from campaign import come_back as rules
from campaign import vocabulary as v
from campaign.order import walking_key
from campaign.time import local_date
from campaign.time import now as vn_now
from field_app.i18n import format_number, get_language, t, vocab_label

DAYS_OFFERED = 7  # the dialog's date chips: today, tomorrow, then the next five by weekday; a calendar beyond


def come_back_line(total: Mapping[str, Any]) -> str | None:
    """"Cần quay lại theo buổi: Sáng 1 · Tối 2 · Cuối tuần 1 · chưa hẹn 3", or None when the row
    says nothing of windows or nobody needs a revisit."""
    windows = total.get("come_back")
    revisit = int(total.get("revisit") or 0)
    if not isinstance(windows, Mapping) or not revisit:
        return None
    counts = tuple(int(windows.get(code) or 0) for code in v.COME_BACK.codes)
    return t("dashboard.come_back", list=_window_words(counts, revisit - sum(counts)))


def _window_words(by_window: tuple[int, ...], unsaid: int) -> str:
    """"Sáng 1 · Tối 3 · chưa hẹn 1": the windows said, in the vocabulary's order, then those without one."""
    parts = [f"{vocab_label(v.COME_BACK, code)} {format_number(n)}"
             for code, n in zip(v.COME_BACK.codes, by_window, strict=True) if n]
    if unsaid > 0:
        parts.append(t("dashboard.come_back.unsaid", n=format_number(unsaid)))
    return " · ".join(parts)


@dataclass(frozen=True, slots=True)
class WindowRow:
    """One hamlet's households to revisit by when to come back: the dashboard's table, a column a
    window (the evening and weekend shifts are planned from its Tối and Cuối tuần columns)."""
    name: str
    key: str
    by_window: tuple[int, ...]  # in vocabulary.COME_BACK's order
    unsaid: int  # revisits whose visit said no time
    revisit: int


def window_rows(rows: Iterable[Mapping[str, Any]]) -> list[WindowRow]:
    """The by-hamlet totals' rows that have households to revisit, those with the most first (then
    by name, as the hamlets' table lists them); rows that say nothing of windows are left out."""
    found: list[WindowRow] = []
    for row in rows:
        windows, revisit = row.get("come_back"), int(row.get("revisit") or 0)
        if not isinstance(windows, Mapping) or not revisit:
            continue
        counts = tuple(int(windows.get(code) or 0) for code in v.COME_BACK.codes)
        found.append(WindowRow(str(row.get("name") or row.get("key") or ""), str(row.get("key") or ""), counts,
                               max(revisit - sum(counts), 0), revisit))
    return sorted(found, key=lambda r: -r.revisit)  # stable: equal ones keep the server's order


def window_headers() -> list[str]:
    """The table's window columns, then "Chưa hẹn" and "Cần quay lại"."""
    return [vocab_label(v.COME_BACK, code) for code in v.COME_BACK.codes] + [
        t("dashboard.come_back.col.unsaid"), t("dashboard.col.revisit")]


def window_cells(row: WindowRow) -> list[str]:
    return [format_number(n) for n in (*row.by_window, row.unsaid, row.revisit)]


def window_line(row: WindowRow) -> str:
    """A phone's line for one hamlet: "Tổ dân phố 3: Tối 1 · chưa hẹn 2"."""
    return f"{row.name}: {_window_words(row.by_window, row.unsaid)}"


def short_date(day: date) -> str:
    """"07/12" in Vietnamese, "7 Dec" in English: the year is this one or the next, never in doubt."""
    return f"{day.day} {day.strftime('%b')}" if get_language() == "en" else day.strftime("%d/%m")


def day_words(day: date, today: date) -> str:
    """"Hôm nay", "Ngày mai", else "Thứ Hai 07/12"."""
    if day == today:
        return t("come_back.today")
    if day == today + timedelta(days=1):
        return t("come_back.tomorrow")
    return t("come_back.day", weekday=t(f"come_back.weekday.{day.weekday()}"), date=short_date(day))


@dataclass(frozen=True, slots=True)
class DateChoice:
    """One of the dialog's date chips."""
    key: str  # come_back.on.<n>: n days after today
    label: str
    day: date


def date_choices(today: date) -> list[DateChoice]:
    """Today, tomorrow and the next days by weekday: a date the volunteer is told is usually this week."""
    days = [today + timedelta(days=n) for n in range(DAYS_OFFERED)]
    return [DateChoice(f"come_back.on.{n}", day_words(day, today), day) for n, day in enumerate(days)]


def date_error(on: date, today: date) -> str | None:
    """The sentence refusing a date (in the past, or too far ahead), None when it may be given."""
    problem = rules.date_problem(on, today)
    if problem == "past":
        return t("come_back.past", day=day_words(on, today) if on >= today else on.strftime("%d/%m/%Y"))
    if problem == "too_far":
        return t("come_back.too_far", days=rules.MAX_DAYS_AHEAD)
    return None


def come_back_text(come_back: Mapping[str, Any] | None, today: date) -> str:
    """"Tối", "Tối · Ngày mai", "Sáng · Thứ Hai 07/12", "Sáng · quá hẹn 01/12"; "" for none."""
    if not come_back:
        return ""
    window = come_back.get("window")
    text = vocab_label(v.COME_BACK, window) if window in v.COME_BACK.codes else ""
    on = rules.on_date(come_back)
    if on is None:
        return text
    when = t("come_back.overdue", date=short_date(on)) if on < today else day_words(on, today)
    return f"{text} · {when}" if text else when


@dataclass(frozen=True, slots=True)
class ComeBackRow:
    """A household to go back to today, on the home screen: a tap opens it."""
    household_id: str
    address: str
    when: str  # come_back_text


def todays_come_backs(households: Iterable[tuple[str, str, Mapping[str, Any] | None]],
                      now: datetime) -> list[ComeBackRow]:
    """`households`: (id, address, its come-back) of those to revisit. The households whose come-back is due today (campaign.come_back.due_on), in the day's order
    (window, then dated before undated), ties by address as walked."""
    today = local_date(now)
    due = [(rules.day_order(come_back), address, hid, come_back) for hid, address, come_back in households
           if come_back and rules.due_on(come_back, today)]
    due.sort(key=lambda d: (d[0], walking_key(d[1]), d[2]))
    return [ComeBackRow(hid, address, come_back_text(come_back, today)) for _o, address, hid, come_back in due]


def come_back_lines(come_back: Any, today: date | None = None) -> list[str]:
    """A server revisit row's come-back as the follow-up card's line ("Hẹn quay lại: Tối · Ngày
    mai"), none when it said nothing (or an older server sends no field). `today`: Vietnam's, now
    by default."""
    if not isinstance(come_back, Mapping) or come_back.get("window") not in v.COME_BACK.codes:
        return []
    return [t("dashboard.followup.come_back", when=come_back_text(come_back, today or local_date(vn_now())))]
