"""Building blocks the volunteer screens share: headings, stat tiles, status
pills, chip groups, relative times, error sentences."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import flet as ft

from campaign import areas
from campaign import vocabulary as v
from field_app import i18n, theme
from field_app.app_state import age_of, seconds_since
from field_app.i18n import format_number, t, vocab_label

C = theme.COLORS


# ---------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------


def heading(text: str, *, key: Any = None) -> ft.Text:
    return ft.Text(text, theme_style=ft.TextThemeStyle.TITLE_MEDIUM, font_family=theme.FONT_SEMIBOLD, key=key)


def body(text: str, *, key: Any = None, muted: bool = False, size: float | None = None) -> ft.Text:
    return ft.Text(
        text,
        theme_style=ft.TextThemeStyle.BODY_LARGE,
        color=C.on_surface_variant if muted else None,
        key=key,
        size=size,
    )


def note(icon: Any, text: str, *, key: Any = None, color: str | None = None) -> ft.Row:
    """An icon and a sentence (wraps)."""
    return ft.Row(
        [
            ft.Icon(icon, color=color or C.on_surface_variant, size=22),
            ft.Text(text, theme_style=ft.TextThemeStyle.BODY_MEDIUM, expand=True, key=key),
        ],
        spacing=10,
        vertical_alignment=ft.CrossAxisAlignment.START,
    )


def card(controls: list[ft.Control], *, bgcolor: str | None = None, key: Any = None,
         border: str | None = None, padding: float = 16, spacing: float = 10) -> ft.Container:
    return ft.Container(
        content=ft.Column(controls, spacing=spacing, tight=True),
        bgcolor=bgcolor or C.surface_container_low,
        border=ft.Border.all(1, border or C.outline_variant),
        border_radius=ft.BorderRadius.all(theme.RADIUS),
        padding=ft.Padding.all(padding),
        key=key,
    )


def says_when_full(field: ft.TextField) -> ft.TextField:
    """A field with a `max_length` (its counter hidden) says so once the text reaches it: what
    is typed past the limit is cut, and the person is told instead of finding it out later."""
    limit = field.max_length or 0
    usual = field.helper
    before: Any = field.on_change  # a handler of the event, or of nothing

    def changed(e: Any) -> None:
        full = limit > 0 and len(field.value or "") >= limit
        field.helper = t("common.text_full", limit=limit) if full else usual
        field.helper_max_lines = 2
        field.update()
        if before is not None:
            before(e)

    field.on_change = changed
    return field


def full_width(field: ft.Control) -> ft.Row:
    """A text field across the whole screen (Flet gives a bare one a fixed width)."""
    field.expand = True
    return ft.Row([field])


def relative_time(iso: str | None) -> str:
    """"5 phút trước", "vừa xong", "2 ngày trước"; "chưa lần nào" for None."""
    seconds = seconds_since(iso)
    if seconds is None:
        return t("time.never")
    if seconds < 60:
        return t("time.just_now")
    if seconds < 3600:
        return t("time.minutes_ago", n=int(seconds // 60))
    if seconds < 86400:
        return t("time.hours_ago", n=int(seconds // 3600))
    return t("time.days_ago", n=int(seconds // 86400))


def age_text(birth_year: Any) -> str:
    age = age_of(birth_year)
    if age is None:
        return t("person.age_unknown")
    return t("person.age", age=age, year=birth_year)


def role_label(role: str, scope: Any = None) -> str:
    """A role in words; an officer as the police of their commune's own kind ("Công an phường"
    for a ward, "Công an xã", "Công an đặc khu"), when the enrolment names the commune."""
    commune = scope.get("commune") if isinstance(scope, dict) else None
    if role == "officer" and isinstance(commune, str) and areas.is_commune_code(commune):
        return t("role.officer_of", kind=t(f"commune_kind.{areas.commune(commune).type}"))
    return t(f"role.{role}") if i18n.has(f"role.{role}") else role


def number(n: int) -> str:
    return format_number(n)


def on_screen(control: ft.Control, page: ft.Page) -> bool:
    """Still shown: the person may have left the screen while the server answered, and an
    answer must not be drawn into a view that is gone."""
    node: Any = control
    while node is not None and not isinstance(node, ft.View):
        node = node.parent
    return node is not None and any(view is node for view in page.views)


# ---------------------------------------------------------------------------
# Statuses: icon shape + words + colour, never colour alone
# ---------------------------------------------------------------------------

#: household list status -> (theme status style, label key, icon)
HOUSEHOLD_STATUS = {
    "returned": ("problem", "households.status.returned", ft.Icons.UNDO),
    "revisit": ("revisit", "households.status.revisit", ft.Icons.EVENT_REPEAT),
    "follow_up": ("problem", "households.status.follow_up", ft.Icons.REPORT_PROBLEM),
    "not_visited": ("todo", "households.status.not_visited", ft.Icons.RADIO_BUTTON_UNCHECKED),
    "visited": ("done", "households.status.visited", ft.Icons.CHECK_CIRCLE),
}

CARD_STYLE = {
    "cccd_chip": "done",
    "can_cuoc": "done",
    "applied_waiting": "revisit",
    "cccd_barcode": "todo",
    "unknown": "todo",
    "none": "problem",
    "cmnd_only": "problem",
}

VNEID_STYLE = {
    "l1_active": "done",
    "l2_active": "done",
    "l1_pending": "revisit",
    "l2_pending": "revisit",
    "l1_approved": "revisit",
    "l2_approved": "revisit",
    "unknown": "todo",
    "no_app": "todo",
    "not_eligible": "todo",
}

ICON_UNKNOWN = ft.Icons.HELP_OUTLINE


def pill(style: str, label: str, *, icon: Any = None, key: Any = None, small: bool = False) -> ft.Container:
    """A status as a rounded pill: the style's icon (or `icon`), the words, the tint."""
    s = theme.STATUSES[style]
    return ft.Container(
        content=ft.Row(
            [
                ft.Icon(icon or s.icon, color=s.strong, size=16 if small else 18),
                ft.Text(label, color=s.on_container, font_family=theme.FONT_MEDIUM, size=13.5 if small else 14,
                        no_wrap=False),
            ],
            spacing=5,
            tight=True,
        ),
        bgcolor=s.container,
        border=ft.Border.all(1.2, s.strong),
        border_radius=ft.BorderRadius.all(16),
        padding=ft.Padding.symmetric(horizontal=10, vertical=4),
        key=key,
    )


def household_pill(status: str, *, key: Any = None) -> ft.Container:
    style, label_key, icon = HOUSEHOLD_STATUS[status]
    return pill(style, t(label_key), icon=icon, key=key, small=True)


def card_pill(code: str) -> ft.Container:
    icon = ICON_UNKNOWN if code == "unknown" else None
    return pill(CARD_STYLE.get(code, "todo"), t("person.card_short", label=vocab_label(v.CARD, code)),
                icon=icon, small=True)


def vneid_pill(code: str) -> ft.Container:
    icon = ICON_UNKNOWN if code == "unknown" else None
    return pill(VNEID_STYLE.get(code, "todo"), t("person.vneid_short", label=vocab_label(v.VNEID, code)),
                icon=icon, small=True)


# ---------------------------------------------------------------------------
# Chips: a tap each, no typing
# ---------------------------------------------------------------------------


def chip(label: str, *, selected: bool, on_select: Callable[[ft.Event[ft.Chip]], Any], key: Any = None,
         disabled: bool = False) -> ft.Chip:
    """A Material filter/choice chip (a check mark shows when chosen)."""
    return ft.Chip(
        label=ft.Text(label, size=15),
        selected=selected,
        on_select=on_select,
        key=key,
        disabled=disabled,
        show_checkmark=True,
        selected_color=C.primary_container,
        border_side=ft.BorderSide(1.2, C.outline),
        padding=ft.Padding.symmetric(horizontal=6, vertical=6),
    )


def choice_group(vocab: Any, codes: Iterable[str], value: str | None,
                 on_change: Callable[[str], Any], *, key_prefix: str,
                 disabled: Iterable[str] = ()) -> ft.Row:
    """One of several (ChoiceChip style): tapping one unselects the others.
    Tapping the chosen one again keeps it (a status always has a value)."""
    codes = list(codes)
    chips: dict[str, ft.Chip] = {}
    blocked = set(disabled)

    def select(code: str) -> Callable[[ft.Event[ft.Chip]], None]:
        def handler(e: ft.Event[ft.Chip]) -> None:
            for c, ch in chips.items():
                ch.selected = c == code
            on_change(code)
        return handler

    for code in codes:
        chips[code] = chip(vocab_label(vocab, code), selected=code == value, on_select=select(code),
                           key=f"{key_prefix}.{code}", disabled=code in blocked)
    return ft.Row(list(chips.values()), wrap=True, spacing=8, run_spacing=8)


def filter_group(vocab: Any, codes: Iterable[str], values: Iterable[str],
                 on_change: Callable[[list[str]], Any], *, key_prefix: str) -> ft.Row:
    """Any of several (FilterChip style)."""
    chosen = [c for c in values]
    chips: list[ft.Control] = []
    for code in codes:
        def toggle(e: ft.Event[ft.Chip], code: str = code) -> None:
            if code in chosen:
                chosen.remove(code)
            else:
                chosen.append(code)
            e.control.selected = code in chosen
            on_change(list(chosen))
        chips.append(chip(vocab_label(vocab, code), selected=code in chosen, on_select=toggle,
                          key=f"{key_prefix}.{code}"))
    return ft.Row(chips, wrap=True, spacing=8, run_spacing=8)


# ---------------------------------------------------------------------------
# Errors in words
# ---------------------------------------------------------------------------

KIND_KEYS = {
    "hamlet.created": "kind.hamlet_created",
    "hamlet.updated": "kind.hamlet_updated",
    "household.created": "kind.household_created",
    "household.updated": "kind.household_updated",
    "person.added": "kind.person_added",
    "person.updated": "kind.person_updated",
    "visit.recorded": "kind.visit_recorded",
    "review.decided": "kind.review_decided",
    "assignment.set": "kind.assignment_set",
    "conflict.resolved": "kind.conflict_resolved",
}

#: InvalidEvent / quarantine codes with their own sentence (others: reason.other)
REASONS = (
    "forbidden", "consent_declined", "too_young", "hamlet_closed", "unknown_entity", "unknown_household",
    "unknown_person", "unknown_hamlet", "exists", "bad_visit", "too_long", "empty", "out_of_range",
    "duplicate", "wrong_entity", "not_nfc", "bad_code", "note_declined",
)


def kind_label(kind: str) -> str:
    key = KIND_KEYS.get(kind)
    return t(key) if key else kind


def reason_text(reason: str | None) -> str:
    """A server quarantine reason ("code: detail") or an InvalidEvent code,
    as a sentence in the current language."""
    code = (reason or "").split(":", 1)[0].strip()
    if code in REASONS:
        return t(f"reason.{code}")
    return t("reason.other", code=code or "?")


def outcome_icon(outcome: str) -> Any:
    return {
        "met": ft.Icons.CHECK_CIRCLE,
        "not_home": ft.Icons.EVENT_REPEAT,
        "refused": ft.Icons.DO_NOT_DISTURB_ON_OUTLINED,
        "moved": ft.Icons.LOCAL_SHIPPING_OUTLINED,
    }.get(outcome, ft.Icons.HELP_OUTLINE)
