"""The dashboard's panels, drawn from models/dashboard.py's figures: the headline
tiles, target and pace, the charts' panels, the breakdowns by status, the tables
(a DataTable on a laptop, a card per row on a phone), the come-backs by window and
hamlet, the days, and a follow-up
list's row. Drawing only: views/dashboard.py puts them together and wires them."""
from __future__ import annotations

from typing import Any

import flet as ft

from campaign import vocabulary as v
from field_app import theme
from field_app.i18n import format_number, t

from .common import card_pill, vneid_pill
from .dashboard_charts import active_by_day, hamlet_chart, progress_chart
from .models import come_back as cb
from .models import dashboard as m
from .models import resolving

__all__ = ["HALF", "bar", "blockers", "breakdown", "by_day", "come_back_table", "count_line", "daily", "data_table", "followup_card",
           "hamlet_bars", "headline", "muted", "note", "panel", "row_cards", "statuses", "table", "target", "text", "tile",
           "vneid"]

Col = dict[str | ft.ResponsiveRowBreakpoint, int | float]  # a ResponsiveRow column's width by breakpoint
HALF: Col = {"xs": 12, "lg": 6}  # the whole width on a phone, half on a laptop


def text(value: str, style: ft.TextThemeStyle = ft.TextThemeStyle.BODY_MEDIUM, **kw: Any) -> ft.Text:
    return ft.Text(value, theme_style=style, **kw)


def muted(value: str, **kw: Any) -> ft.Text:
    return ft.Text(value, theme_style=ft.TextThemeStyle.BODY_SMALL, color=theme.COLORS.on_surface_variant, **kw)


def note(icon: ft.IconData, value: str, key: str | None = None) -> ft.Row:
    return ft.Row([ft.Icon(icon, color=theme.COLORS.on_surface_variant, size=22),
                   text(value, expand=True, key=key)],
                  spacing=10, vertical_alignment=ft.CrossAxisAlignment.START)


def panel(controls: list[ft.Control], key: str | None = None, title: str | None = None,
           col: Col | None = None,
           spacing: int = 10) -> ft.Container:
    head: list[ft.Control] = [text(title, ft.TextThemeStyle.TITLE_MEDIUM, font_family=theme.FONT_SEMIBOLD)] \
        if title else []
    return ft.Container(
        content=ft.Column(head + controls, spacing=spacing),
        bgcolor=theme.COLORS.surface_container_low,
        border=ft.Border.all(1, theme.COLORS.outline_variant),
        border_radius=ft.BorderRadius.all(theme.RADIUS),
        padding=ft.Padding.all(16),
        key=key,
        col=col if col is not None else 12,
    )


def bar(share: float, height: int, color: str) -> ft.ProgressBar:
    return ft.ProgressBar(value=share, height=height, color=color, bgcolor=theme.COLORS.surface_container_high,
                          border_radius=ft.BorderRadius.all(height // 2))


# ---- the headline, the target, the charts' panels ---------------------------------------------


def tile(figure: m.Tile, *, wide: bool) -> ft.Container:
    """A headline figure. On a laptop four tiles side by side; on a phone each is one
    compact line (the words left, the figure right), so the four fit on one screen."""
    big = text(figure.value, ft.TextThemeStyle.HEADLINE_SMALL, font_family=theme.FONT_SEMIBOLD, key=figure.key)
    words = text(figure.label, ft.TextThemeStyle.LABEL_LARGE, color=theme.COLORS.on_surface_variant)
    if wide:
        lines: list[ft.Control] = [words, big]
    else:
        lines = [ft.Row([ft.Column([words, muted(figure.detail)], spacing=2, expand=True), big], spacing=12,
                        vertical_alignment=ft.CrossAxisAlignment.CENTER)]
    if figure.share is not None:
        lines.append(bar(min(1.0, figure.share), 8, theme.STATUSES["done"].hue))
    if wide:
        lines.append(muted(figure.detail))
    box = panel(lines, col={"xs": 12, "sm": 6, "lg": 3}, spacing=6)
    if not wide:
        box.padding = ft.Padding.symmetric(horizontal=16, vertical=12)
    return box


def headline(total: dict[str, Any], *, wide: bool) -> ft.Control:
    return ft.ResponsiveRow([tile(one, wide=wide) for one in m.headline(total)], spacing=12, run_spacing=12,
                            key="dashboard:headline")


def target(progress: dict[str, Any], edit: list[ft.Control]) -> ft.Control:
    """The target, how far, the pace and its forecast; `edit`: the campaign's button, for those who may."""
    aim = m.target(progress)
    if aim is None:
        return panel([note(ft.Icons.FLAG_OUTLINED, t("dashboard.no_campaign")), *edit], key="dashboard:target",
                      title=t("dashboard.target.title"), col=HALF)
    # two figures, each with its own label: against the target (with the pace, a statement about
    # the target only), and against all the people; then the forecast
    def label(words: str) -> ft.Text:
        return text(words, ft.TextThemeStyle.LABEL_LARGE, font_family=theme.FONT_SEMIBOLD,
                    color=theme.COLORS.on_surface_variant)

    lines: list[ft.Control] = [
        text(aim.name, ft.TextThemeStyle.BODY_LARGE, font_family=theme.FONT_MEDIUM),
        text(aim.aim),
        label(t("dashboard.target.against")),
        bar(aim.share, 10, theme.STATUSES["done"].hue),
        ft.Row([text(aim.reached, key="dashboard:target_reached", expand=True), theme.status_chip(*aim.pace)],
               wrap=False, spacing=8),
        ft.Divider(height=1),
        label(t("dashboard.target.of_residents")),
        text(aim.residents, key="dashboard:target_residents"),
        ft.Divider(height=1),
        label(t("dashboard.target.forecast_title")),
        text(aim.forecast, ft.TextThemeStyle.BODY_LARGE, key="dashboard:forecast"),
        *(muted(line) for line in aim.lines),
    ]
    return panel(lines + edit, key="dashboard:target", title=t("dashboard.target.title"), col=HALF)


def daily(progress: dict[str, Any]) -> ft.Control:
    daily = progress_chart(progress)
    explain = "dashboard.chart.progress_explain_active" if active_by_day(progress) is not None \
        else "dashboard.chart.progress_explain"
    return panel([muted(t(explain)), daily] if daily
                  else [note(ft.Icons.SHOW_CHART, t("dashboard.chart.no_days"))],
                  key="dashboard:progress_chart", title=t("dashboard.chart.progress_title"), col=HALF)


def hamlet_bars(snapshot: m.Snapshot, *, wide: bool) -> ft.Control:
    bars = hamlet_chart((snapshot.hamlets or {}).get("rows") or [], wide=wide)
    return panel([bars] if bars else [note(ft.Icons.BAR_CHART, t("dashboard.chart.no_hamlets"))],
                  key="dashboard:hamlet_chart", title=t("dashboard.chart.hamlets_title"))

# ---- people by status, help, blockers ------------------------------------------------------


def count_line(line: m.CountLine) -> ft.Control:
    return ft.Column([
        ft.Row([text(line.label, expand=True), text(line.count, font_family=theme.FONT_MEDIUM, key=line.key),
                muted(line.percent, width=58, text_align=ft.TextAlign.RIGHT)], spacing=8),
        ft.ProgressBar(value=line.share, height=4, color=theme.COLORS.primary,
                       bgcolor=theme.COLORS.surface_container_high),
    ], spacing=2)


def breakdown(title: str, vocab: v.Vocabulary, counts: dict[str, Any], whole: int, key: str,
               note: str) -> ft.Container:
    lines: list[ft.Control] = [muted(note)]
    lines += [count_line(line) for line in m.count_lines(vocab, counts, whole, key)]
    return panel(lines, key=key, title=title, col=HALF)


def vneid(counts: dict[str, Any], people: int) -> ft.Container:
    """Level 1 and level 2, each pending / approved / active: a small grid, then the rest."""
    def cell(value: str, key: str | None = None, strong: bool = False) -> ft.Control:
        return ft.Container(text(value, key=key, font_family=theme.FONT_SEMIBOLD if strong else None,
                                  text_align=ft.TextAlign.RIGHT), expand=1, alignment=ft.Alignment.CENTER_RIGHT)

    head = ft.Row([ft.Container(expand=1)] + [cell(t(f"dashboard.vneid.{s}"), strong=True)
                                                for s in ("pending", "approved", "active")], spacing=8)
    rows = [ft.Row([ft.Container(text(t(f"dashboard.vneid.{level}"), font_family=theme.FONT_MEDIUM), expand=1)]
                   + [cell(format_number(int(counts.get(code) or 0)), key=f"dashboard:vneid:{code}")
                      for code in codes], spacing=8)
            for level, codes in m.VNEID_GRID]
    others = [count_line(line) for line in
              m.count_lines(v.VNEID, counts, people, "dashboard:vneid", ("no_app", "unknown", "not_eligible"))]
    return panel([head, *rows, ft.Divider(height=1), *others], key="dashboard:vneid",
                  title=t("dashboard.vneid.title"), col=HALF)


def statuses(total: dict[str, Any]) -> ft.Control:
    people, visits = int(total.get("people") or 0), int(total.get("visits") or 0)
    of_people = t("dashboard.of_people", n=format_number(people))
    return ft.ResponsiveRow([
        breakdown(t("dashboard.card.title"), v.CARD, total.get("card") or {}, people, "dashboard:card",
                        of_people),
        vneid(total.get("vneid") or {}, people),
        breakdown(t("dashboard.actions.title"), v.ACTIONS, total.get("actions") or {}, visits,
                        "dashboard:actions", t("dashboard.actions.note", n=format_number(visits))),
        breakdown(t("dashboard.blockers.title"), v.BLOCKERS, total.get("blockers") or {}, people,
                        "dashboard:blockers", of_people),
    ], spacing=12, run_spacing=12)


# ---- tables ---------------------------------------------------------------------------------


def table(answer: dict[str, Any], title: str, name_header: str, key: str, *, wide: bool) -> ft.Control:
    rows = answer.get("rows") or []
    if not rows:
        return panel([note(ft.Icons.TABLE_ROWS, t("dashboard.table.empty"))], key=key, title=title)
    body = data_table(rows, m.table_total(answer), name_header, key) if wide else row_cards(rows, key)
    return panel([muted(t("dashboard.table.count", n=format_number(len(rows)))), body], key=key, title=title)


def come_back_table(hamlets: dict[str, Any], *, wide: bool) -> ft.Control | None:
    """Households to revisit by window, a hamlet a row (a laptop: a column a window, the total
    last; a phone: a line a hamlet). None when no hamlet has one to revisit."""
    rows = cb.window_rows(hamlets.get("rows") or [])
    if not rows:
        return None
    key = "dashboard:come_back_table"
    if wide:
        headers = [t("dashboard.col.hamlet"), *cb.window_headers()]
        grid = ft.DataTable(
            columns=[ft.DataColumn(label=ft.Text(h, font_family=theme.FONT_SEMIBOLD), numeric=i > 0)
                     for i, h in enumerate(headers)],
            rows=[ft.DataRow(cells=[ft.DataCell(ft.Text(c)) for c in (r.name, *cb.window_cells(r))]) for r in rows],
            column_spacing=28, heading_row_height=48, data_row_min_height=40, key=f"{key}:table")
        body: ft.Control = ft.Row([grid], scroll=ft.ScrollMode.AUTO)
    else:
        body = ft.Column([text(cb.window_line(r), key=f"{key}:{r.key}") for r in rows], spacing=6)
    return panel([muted(t("dashboard.come_back.explain")), body], key=key, title=t("dashboard.come_back.by_hamlet"))


def by_day(progress: dict[str, Any], *, wide: bool) -> ft.Control:
    days = m.by_day(progress)
    title = t("dashboard.by_day")
    if not days:
        return panel([note(ft.Icons.TABLE_ROWS, t("dashboard.table.empty"))], key="dashboard:days", title=title)
    if wide:
        grid = ft.DataTable(
            columns=[ft.DataColumn(label=ft.Text(t("dashboard.col.day"), font_family=theme.FONT_SEMIBOLD))]
            + [ft.DataColumn(label=ft.Text(t(f"dashboard.day.{n}"), font_family=theme.FONT_SEMIBOLD), numeric=True)
               for n in m.DAY_FIGURES],
            rows=[ft.DataRow(cells=[ft.DataCell(ft.Text(cell)) for cell in m.day_cells(d)]) for d in days],
            column_spacing=28, heading_row_height=48, data_row_min_height=40, key="dashboard:days:table")
        body: ft.Control = ft.Row([grid], scroll=ft.ScrollMode.AUTO)
    else:
        body = ft.Column([text(m.day_line(d), key=f"dashboard:day:{d.get('day')}") for d in days], spacing=6)
    return panel([muted(t("dashboard.day.explain", n=len(days))), body], key="dashboard:days", title=title)


def data_table(rows: list[dict[str, Any]], totals: dict[str, Any] | None, name_header: str,
                key: str) -> ft.Control:
    headers = [name_header] + [t(f"dashboard.col.{c}") for c in m.FIGURES]
    numeric = [False] + [True] * (len(headers) - 1)

    def line(row: dict[str, Any], name: str | None = None) -> ft.DataRow:
        font = theme.FONT_SEMIBOLD if name else None
        return ft.DataRow(cells=[ft.DataCell(ft.Text(c, font_family=font)) for c in m.table_cells(row, name)])

    total = [line(totals, t("dashboard.table.total"))] if totals else []
    grid = ft.DataTable(
        columns=[ft.DataColumn(label=ft.Text(h, font_family=theme.FONT_SEMIBOLD), numeric=n)
                 for h, n in zip(headers, numeric, strict=True)],
        rows=[line(r) for r in rows] + total, column_spacing=28, heading_row_height=48, data_row_min_height=44,
        key=f"{key}:table",
    )
    return ft.Row([grid], scroll=ft.ScrollMode.AUTO)


def row_cards(rows: list[dict[str, Any]], key: str) -> ft.Control:
    """Phones: a card per row instead of a table wider than the screen."""
    cards: list[ft.Control] = []
    for row in rows:
        visited, eid, more = m.card_lines(row)
        cards.append(ft.Container(ft.Column([
            text(m.row_name(row), ft.TextThemeStyle.TITLE_SMALL, font_family=theme.FONT_SEMIBOLD),
            text(visited), text(eid), muted(more),
        ], spacing=4), padding=ft.Padding.symmetric(vertical=10),
            border=ft.Border.only(top=ft.BorderSide(1, theme.COLORS.outline_variant)),
            key=f"{key}:{row.get('key')}"))
    return ft.Column(cards, spacing=0)


def followup_card(card: m.FollowupCard) -> ft.Control:
    """One row of a follow-up list."""
    lines: list[ft.Control] = [
        text(card.title, ft.TextThemeStyle.TITLE_SMALL, font_family=theme.FONT_SEMIBOLD),
        muted(card.subtitle),
    ]
    if card.card is not None and card.vneid is not None:
        lines.append(ft.Row([card_pill(card.card), vneid_pill(card.vneid)], wrap=True, spacing=6, run_spacing=6))
    lines += [text(line) for line in card.lines]
    if card.needs is not None:
        lines.append(text(card.needs, color=theme.COLORS.primary))
    return panel(lines, key=card.key)


def blockers(snapshot: m.Snapshot) -> ft.Control:
    """Which blockers people still have and the help they were given: the systemic ones (SIMs
    not in the owner's name, no smartphone) on top, for the commune police to act on."""
    lines = resolving.blocker_lines(snapshot.blockers)
    rows: list[ft.Control] = [muted(t("dashboard.resolving.explain"))]
    if not lines:
        rows.append(note(ft.Icons.CHECK_CIRCLE_OUTLINE, t("dashboard.resolving.none"), key="dashboard:resolving:none"))
    for line in lines:
        rows.append(ft.Column([
            ft.Row([text(line.label, ft.TextThemeStyle.TITLE_SMALL, font_family=theme.FONT_SEMIBOLD, expand=True),
                    text(t("dashboard.resolving.open_n", n=format_number(line.open)),
                         key=f"dashboard:resolving:{line.code}:open")], spacing=8),
            muted(line.help, key=f"dashboard:resolving:{line.code}:help"),
        ], spacing=2, key=f"dashboard:resolving:{line.code}"))
    return panel(rows, key="dashboard:resolving", title=t("dashboard.resolving.title"))
