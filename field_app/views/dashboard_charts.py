"""The dashboard's two charts (flet-charts 1.0.5), and the words that go with them.

    progress_chart(progress)          # e-IDs active and people helped by day, against the target
    hamlet_chart(rows, wide=False)    # a line per hamlet: households visited / not yet

Colours are Okabe–Ito hues (colour-blind safe), and every series also differs
in shape (solid, dashed, dotted, a dot, a stack) and is named in a legend
under the chart, so no reading depends on colour alone. Labels are few and
short so that nothing overlaps at 360–390 px: five dates on the time axis, a
hamlet's short name in two lines under its bar, and a horizontal scroll when
the bars need more room than the screen has.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from typing import Any

import flet as ft
import flet_charts as fch

from field_app import theme
from field_app.i18n import format_number, get_language, t

__all__ = ["CHART_HEIGHT", "Series", "active_by_day", "day_label", "hamlet_chart", "legend",
           "nice_ticks", "progress_chart", "short_name"]

CHART_HEIGHT = 240
BAR_HEIGHT = 12  # a hamlet's bar
DATE_LABELS = 5  # on the time axis: more would collide at 360 px

# Okabe–Ito: blue, vermillion, bluish green, and a light grey for "not yet"
HELPED = "#0072B2"
TARGET = "#D55E00"
FORECAST = "#009E73"
NOT_YET = "#C3C8CF"
VISITED = theme.STATUSES["done"].hue

Series = tuple[str, str, str]  # (colour, shape: "solid" | "dashed" | "dotted" | "dot" | "box", words)


def nice_ticks(top: float, count: int = 4) -> list[int]:
    """0 and round steps up to at least `top`: 0, 10.000, 20.000, 30.000."""
    if top <= 0:
        return [0, 1]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    step = max(1, int(step))
    return [step * i for i in range(math.ceil(top / step) + 1)]


def day_label(day: date) -> str:
    """"31/10" in Vietnamese, "31 Oct" in English: short enough for an axis."""
    if get_language() == "en":
        return f"{day.day} {day.strftime('%b')}"
    return f"{day.day:02d}/{day.month:02d}"


def short_name(name: str) -> str:
    """A hamlet's name for an axis: "Tổ dân phố 12" is "TDP 12" (as people write it)."""
    for long, short in (("Tổ dân phố ", "TDP "), ("tổ dân phố ", "TDP ")):
        if name.startswith(long):
            return short + name[len(long):]
    return name


def _axis_text(text: str, width: float | None = None) -> ft.Control:
    label = ft.Text(text, size=11, color=theme.COLORS.on_surface_variant, text_align=ft.TextAlign.CENTER,
                    max_lines=2, overflow=ft.TextOverflow.ELLIPSIS)
    return ft.Container(label, width=width) if width else label


def _left_axis(ticks: list[int]) -> fch.ChartAxis:
    # fl_chart draws a label only where its interval puts one: give it the ticks' step
    return fch.ChartAxis(
        labels=[fch.ChartAxisLabel(value=v, label=_axis_text(format_number(v))) for v in ticks],
        label_size=52,
        label_spacing=ticks[1] - ticks[0],
    )


def _grid(ticks: list[int]) -> fch.ChartGridLines:
    """A line at each labelled value, and none between them."""
    return fch.ChartGridLines(interval=ticks[1] - ticks[0], color=theme.COLORS.outline_variant, width=1,
                              dash_pattern=[3, 3])


# ---- daily progress ------------------------------------------------------------------


def _days(progress: dict[str, Any]) -> tuple[list[date], list[int]]:
    """The days of the answer and the running total of people helped on them."""
    days, helped, total = [], [], 0
    for row in progress.get("days") or []:
        days.append(date.fromisoformat(row["day"]))
        total += int(row.get("helped") or 0)
        helped.append(total)
    return days, helped


def active_by_day(progress: dict[str, Any]) -> list[int] | None:
    """People with e-ID active at the end of each day, when the answer's days carry
    `activated` (people who became active that day, as the team recorded it): today's
    total less what was activated after each day. None from a server without the counter."""
    rows = progress.get("days") or []
    if not rows or any("activated" not in row for row in rows):
        return None
    still = int(progress.get("eid_active") or 0)
    out = []
    for row in reversed(rows):
        out.append(still)
        still -= int(row.get("activated") or 0)
    return list(reversed(out))


def _line(points: Sequence[tuple[float, float, str]], color: str, *, dash: list[int] | None = None,
          dots: bool = False, fill: bool = False, width: float = 3) -> fch.LineChartData:
    return fch.LineChartData(
        points=[fch.LineChartDataPoint(x, y, tooltip=tip) for x, y, tip in points],
        color=color,
        stroke_width=width if dash is None else 2.5,
        dash_pattern=dash,
        point=fch.ChartCirclePoint(radius=5, color=color) if dots else False,
        below_line_bgcolor=ft.Colors.with_opacity(0.12, color) if fill else None,
        curved=False,
    )


def progress_chart(progress: dict[str, Any], *, key: str = "dashboard.chart.progress"
                   ) -> ft.Control | None:
    """Day by day from the campaign's start: people with e-ID active (when the server
    counts activations by day) and people helped, added up, against the target line,
    then where the current pace leads by the deadline. None with no days."""
    days, helped = _days(progress)
    if not days:
        return None
    start = days[0]
    target = progress.get("target") or {}
    forecast = progress.get("forecast") or {}
    deadline = date.fromisoformat(target["deadline"]) if target.get("deadline") else days[-1]
    last_x = max((deadline - start).days, len(days) - 1, 1)
    today_x = len(days) - 1
    eid = int(progress.get("eid_active") or 0)
    active = active_by_day(progress)
    series: list[fch.LineChartData] = []
    parts: list[Series] = []
    if active is not None:
        series.append(_line([(i, n, t("dashboard.chart.active_tip", day=day_label(d), n=format_number(n)))
                             for i, (d, n) in enumerate(zip(days, active, strict=True))], FORECAST, fill=True))
        parts.append((FORECAST, "solid", t("dashboard.chart.active", n=format_number(eid))))
    series.append(_line([(i, n, t("dashboard.chart.helped_tip", day=day_label(d), n=format_number(n)))
                         for i, (d, n) in enumerate(zip(days, helped, strict=True))], HELPED, fill=active is None,
                        width=2 if active is not None else 3))
    parts.append((HELPED, "solid", t("dashboard.chart.helped")))
    top = max(helped[-1], eid, 1)
    if target.get("people"):
        goal = int(target["people"])
        tip = t("dashboard.chart.target_tip", n=format_number(goal))
        series.append(_line([(0, goal, tip), (last_x, goal, tip)], TARGET, dash=[8, 5]))
        parts.append((TARGET, "dashed", t("dashboard.chart.target", n=format_number(goal))))
        top = max(top, goal)
    if forecast and deadline >= days[-1]:
        ahead = int(forecast.get("eid_active_at_deadline") or eid)
        series.append(_line([(today_x, eid, t("dashboard.chart.now_tip", n=format_number(eid))),
                             (last_x, ahead, t("dashboard.chart.forecast_tip", n=format_number(ahead)))],
                            FORECAST, dash=[2, 4]))
        parts.append((FORECAST, "dotted", t("dashboard.chart.forecast")))
        top = max(top, ahead)
    if active is None:  # today's e-IDs active: a dot where the forecast starts
        series.append(_line([(today_x, eid, t("dashboard.chart.now_tip", n=format_number(eid)))], FORECAST,
                            dots=True))
        parts.insert(1, (FORECAST, "dot", t("dashboard.chart.now", n=format_number(eid))))
    ticks = nice_ticks(top * 1.02)
    step = max(1, math.ceil(last_x / (DATE_LABELS - 1)))
    marks = sorted({*range(0, last_x + 1, step), last_x})
    if len(marks) > 2 and marks[-1] - marks[-2] < step * 0.75:  # the deadline too close to the mark before
        marks.pop(-2)
    chart = fch.LineChart(
        data_series=series,
        min_x=0, max_x=last_x, min_y=0, max_y=ticks[-1],
        left_axis=_left_axis(ticks),
        bottom_axis=fch.ChartAxis(
            labels=[fch.ChartAxisLabel(value=x, label=_axis_text(day_label(date.fromordinal(start.toordinal() + x))))
                    for x in marks],
            label_size=28,
            label_spacing=step,  # fl_chart puts labels at multiples of this (and at both ends)
        ),
        horizontal_grid_lines=_grid(ticks),
        border=ft.Border.all(1, theme.COLORS.outline_variant),
        tooltip=fch.LineChartTooltip(bgcolor=theme.COLORS.on_surface, fit_inside_horizontally=True,
                                     fit_inside_vertically=True, max_width=220),
        interactive=True,
        key=key,
    )
    return ft.Column([ft.Container(chart, height=CHART_HEIGHT, padding=ft.Padding.only(right=12, top=8)),
                      legend(parts)], spacing=8)


# ---- a bar per hamlet ------------------------------------------------------------------


def hamlet_chart(rows: list[dict[str, Any]], *, wide: bool, key: str = "dashboard.chart.hamlets"
                 ) -> ft.Control | None:
    """A line per hamlet, its whole name over a bar of its households split into visited and not
    yet visited, and the count ("17/20 hộ"). Every hamlet is on the page, nothing scrolls
    sideways (a mouse cannot drag a chart): on a laptop three columns, on a phone one."""
    if not rows:
        return None
    items: list[ft.Control] = []
    for row in rows:
        known, visited = int(row.get("households") or 0), int(row.get("visited") or 0)
        left = max(known - visited, 0)
        segments: list[ft.Control] = []
        if visited:
            segments.append(ft.Container(bgcolor=VISITED, expand=visited))
        if left or not visited:
            segments.append(ft.Container(bgcolor=NOT_YET, expand=left or 1))
        words = t("dashboard.chart.hamlet_count", visited=format_number(visited), households=format_number(known))
        items.append(ft.Container(
            ft.Column([
                ft.Row([ft.Text(row.get("name") or "", size=14, expand=True, max_lines=2,
                                overflow=ft.TextOverflow.ELLIPSIS, font_family=theme.FONT_MEDIUM),
                        ft.Text(words, size=13, color=theme.COLORS.on_surface_variant)], spacing=8),
                ft.Container(ft.Row(segments, spacing=0), height=BAR_HEIGHT,
                             border_radius=ft.BorderRadius.all(BAR_HEIGHT // 2),
                             clip_behavior=ft.ClipBehavior.ANTI_ALIAS),
            ], spacing=4, tight=True),
            col={"xs": 12, "md": 6, "xl": 4},
            tooltip=t("dashboard.chart.hamlet_tip", name=row.get("name") or "", visited=format_number(visited),
                      households=format_number(known)),
            key=f"dashboard.chart.hamlet:{row.get('key')}",
            data=(visited, known),
        ))
    parts: list[Series] = [(VISITED, "box", t("dashboard.chart.visited")),
                           (NOT_YET, "box", t("dashboard.chart.not_visited"))]
    grid = ft.ResponsiveRow(items, spacing=24 if wide else 12, run_spacing=12)
    return ft.Column([grid, legend(parts)], spacing=12, key=key)


# ---- the legend ---------------------------------------------------------------------------


def _swatch(color: str, shape: str) -> ft.Control:
    """A sample of the series: a filled box, a dot, or a line (solid, dashed, dotted)."""
    if shape == "box":
        return ft.Container(width=16, height=16, bgcolor=color, border_radius=ft.BorderRadius.all(3))
    if shape == "dot":
        return ft.Container(width=12, height=12, bgcolor=color, border_radius=ft.BorderRadius.all(6))
    dash, gap = {"solid": (24, 0), "dashed": (8, 4), "dotted": (3, 3)}[shape]
    pieces: list[ft.Control] = []
    used = 0
    while used < 24:
        pieces.append(ft.Container(width=min(dash, 24 - used), height=3, bgcolor=color))
        used += dash + gap
    return ft.Row(pieces, spacing=gap, tight=True, width=24)


def legend(parts: list[Series]) -> ft.Control:
    """What each series is, in words, beside a sample of its shape: one line each, so a
    long sentence wraps under itself instead of running off a phone's screen."""
    return ft.Column([
        ft.Row([ft.Container(_swatch(color, shape), width=24, height=18, alignment=ft.Alignment.CENTER),
                ft.Text(words, size=13, color=theme.COLORS.on_surface, expand=True)],
               spacing=8, vertical_alignment=ft.CrossAxisAlignment.START)
        for color, shape, words in parts
    ], spacing=4)
