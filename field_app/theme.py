"""Look and feel: a calm, high-contrast Material 3 light theme for phones in
sunlight, the bundled Be Vietnam Pro font, and the status palette.

    from field_app import theme
    theme.apply(page)                          # fonts + theme + light mode
    theme.status_chip("revisit")               # icon + text on a tinted pill
    theme.big_button("Lưu", icon=ft.Icons.SAVE, on_click=...)

Rules every screen follows:
- Touch targets are at least `TOUCH_TARGET` (48) logical px high; primary
  actions use `big_button` (`BIG_BUTTON_HEIGHT`, 52 px, full width).
- A status is never shown by colour alone: `status_chip`/`status_icon` pair
  the colour with a distinct icon shape and (for chips) a text label.
- Text uses the theme's text styles (`ft.Text(theme_style=...)`) so the
  weights map onto the bundled font files, not a synthetic bold.

Fonts: Flet's `page.fonts` maps one family name to one file, so each weight
is its own family ("Be Vietnam Pro Medium", ...). The theme's text styles pick
the right family for each role; for ad-hoc emphasis use `FONT_SEMIBOLD` or
`FONT_BOLD` as `font_family`, not `weight=BOLD` (which fakes bold from the
Regular file).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flet as ft

from field_app.i18n import t

__all__ = [
    "ASSETS_DIR",
    "BIG_BUTTON_HEIGHT",
    "COLORS",
    "FONTS",
    "FONT_BOLD",
    "FONT_FAMILY",
    "FONT_FILES",
    "FONT_MEDIUM",
    "FONT_SEMIBOLD",
    "STATUSES",
    "TOUCH_TARGET",
    "StatusStyle",
    "apply",
    "big_button",
    "light_theme",
    "status_chip",
    "status_icon",
]

# ---------------------------------------------------------------------------
# Fonts (assets/fonts, SIL OFL 1.1 — see assets/fonts/OFL.txt)
# ---------------------------------------------------------------------------

#: The repo's assets/ (fonts, translations): the assets dir Flet serves (web) or bundles.
ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"

FONT_FAMILY = "Be Vietnam Pro"  # Regular, 400
FONT_MEDIUM = "Be Vietnam Pro Medium"  # 500
FONT_SEMIBOLD = "Be Vietnam Pro SemiBold"  # 600
FONT_BOLD = "Be Vietnam Pro Bold"  # 700

#: family -> file, relative to the assets dir (what `page.fonts` wants).
FONT_FILES: dict[str, str] = {
    FONT_FAMILY: "fonts/BeVietnamPro-Regular.ttf",
    FONT_MEDIUM: "fonts/BeVietnamPro-Medium.ttf",
    FONT_SEMIBOLD: "fonts/BeVietnamPro-SemiBold.ttf",
    FONT_BOLD: "fonts/BeVietnamPro-Bold.ttf",
}
FONTS = FONT_FILES  # alias: `page.fonts = theme.FONTS`

# ---------------------------------------------------------------------------
# Sizes
# ---------------------------------------------------------------------------

TOUCH_TARGET = 48  # px, the smallest tappable height/width anywhere
BIG_BUTTON_HEIGHT = 52  # px, primary actions
RADIUS = 12

# ---------------------------------------------------------------------------
# Colours. Contrast ratios are against white (WCAG; 7:1 is AAA).
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Colors:
    seed: str = "#0072B2"  # Okabe–Ito blue
    primary: str = "#005A8C"  # 7.4:1 — calm dark blue
    on_primary: str = "#FFFFFF"
    primary_container: str = "#D6EAF6"
    on_primary_container: str = "#00304D"
    surface: str = "#FFFFFF"
    on_surface: str = "#1B1B1F"  # 17:1
    on_surface_variant: str = "#3F434A"  # 10:1 — secondary text stays readable
    surface_container: str = "#F1F4F7"
    surface_container_low: str = "#F7F9FB"
    surface_container_high: str = "#E9EDF1"
    outline: str = "#5C6169"  # 6.3:1 — borders visible in glare
    outline_variant: str = "#C3C8CF"
    error: str = "#B3261E"  # 6.5:1
    on_error: str = "#FFFFFF"


COLORS = _Colors()


@dataclass(frozen=True)
class StatusStyle:
    """How one household/person status looks. Colour-blind safe (Okabe–Ito
    hues) and never colour alone: each has its own icon shape and a label."""

    key: str  # "done" | "todo" | "revisit" | "problem"
    label_key: str  # i18n key of its label
    icon: Any  # ft.Icons member; the shapes differ (check, ring, loop, triangle)
    hue: str  # Okabe–Ito colour: stripes, fills, chart series
    strong: str  # dark variant, >= 7:1 on white: icons and text on white
    container: str  # light tint: chip / row background (text on it >= 13:1)
    on_container: str = COLORS.on_surface

    @property
    def label(self) -> str:
        return t(self.label_key)


STATUSES: dict[str, StatusStyle] = {
    s.key: s
    for s in (
        StatusStyle(
            "done", "status.done", ft.Icons.CHECK_CIRCLE, "#009E73", "#00664A", "#D5F2E8"
        ),
        StatusStyle(
            "todo",
            "status.todo",
            ft.Icons.RADIO_BUTTON_UNCHECKED,
            "#0072B2",
            "#005A8C",
            "#D6EAF6",
        ),
        StatusStyle(
            "revisit", "status.revisit", ft.Icons.EVENT_REPEAT, "#E69F00", "#7A4300", "#FCEFD0"
        ),
        StatusStyle(
            "problem",
            "status.problem",
            ft.Icons.REPORT_PROBLEM,
            "#D55E00",
            "#9A3800",
            "#FBE0CF",
        ),
    )
}

# ---------------------------------------------------------------------------
# Theme
# ---------------------------------------------------------------------------


def _style(family: str, size: float, weight: ft.FontWeight, height: float = 1.35) -> ft.TextStyle:
    return ft.TextStyle(font_family=family, size=size, weight=weight, height=height)


def light_theme() -> ft.Theme:
    """The app's only theme (light: readable outdoors, cheap on battery is moot
    for LCD phones). Type sizes run a step above Material defaults."""
    c = COLORS
    W4, W5, W6 = ft.FontWeight.W_400, ft.FontWeight.W_500, ft.FontWeight.W_600
    button_style = ft.ButtonStyle(
        padding=ft.Padding.symmetric(horizontal=20, vertical=14),
        shape=ft.RoundedRectangleBorder(radius=RADIUS),
        text_style=_style(FONT_SEMIBOLD, 16, W6, 1.2),
        icon_size=22,
    )
    return ft.Theme(
        color_scheme_seed=c.seed,
        color_scheme=ft.ColorScheme(
            primary=c.primary,
            on_primary=c.on_primary,
            primary_container=c.primary_container,
            on_primary_container=c.on_primary_container,
            surface=c.surface,
            on_surface=c.on_surface,
            on_surface_variant=c.on_surface_variant,
            surface_container=c.surface_container,
            surface_container_low=c.surface_container_low,
            surface_container_high=c.surface_container_high,
            outline=c.outline,
            outline_variant=c.outline_variant,
            error=c.error,
            on_error=c.on_error,
        ),
        font_family=FONT_FAMILY,
        # Desktop and web default to COMPACT density, which shrinks controls
        # below 48 px; STANDARD keeps phone-sized targets everywhere.
        visual_density=ft.VisualDensity.STANDARD,
        scaffold_bgcolor=c.surface,
        text_theme=ft.TextTheme(
            display_small=_style(FONT_SEMIBOLD, 34, W6, 1.2),
            headline_medium=_style(FONT_SEMIBOLD, 28, W6, 1.25),
            headline_small=_style(FONT_SEMIBOLD, 24, W6, 1.25),
            title_large=_style(FONT_SEMIBOLD, 22, W6, 1.3),
            title_medium=_style(FONT_MEDIUM, 18, W5),
            title_small=_style(FONT_MEDIUM, 16, W5),
            body_large=_style(FONT_FAMILY, 17, W4, 1.45),
            body_medium=_style(FONT_FAMILY, 15, W4, 1.45),
            body_small=_style(FONT_FAMILY, 13.5, W4, 1.4),
            label_large=_style(FONT_MEDIUM, 15, W5, 1.3),
            label_medium=_style(FONT_MEDIUM, 13.5, W5, 1.3),
            label_small=_style(FONT_MEDIUM, 12.5, W5, 1.3),
        ),
        appbar_theme=ft.AppBarTheme(
            bgcolor=c.surface,
            color=c.on_surface,
            elevation=0,
            title_text_style=_style(FONT_SEMIBOLD, 21, W6, 1.2),
        ),
        navigation_bar_theme=ft.NavigationBarTheme(
            bgcolor=c.surface_container,
            indicator_color=c.primary_container,
            label_text_style=_style(FONT_MEDIUM, 12.5, W5, 1.2),
            height=76,
        ),
        filled_button_theme=ft.FilledButtonTheme(style=button_style),
        button_theme=ft.ButtonTheme(style=button_style),
        outlined_button_theme=ft.OutlinedButtonTheme(style=button_style),
        text_button_theme=ft.TextButtonTheme(style=button_style),
        list_tile_theme=ft.ListTileTheme(
            min_height=56,
            title_text_style=_style(FONT_MEDIUM, 16.5, W5),
            subtitle_text_style=_style(FONT_FAMILY, 14.5, W4),
        ),
        divider_color=c.outline_variant,
    )


def apply(page: ft.Page) -> None:
    """Fonts, theme and light mode on a page (call before the first update)."""
    page.fonts = dict(FONT_FILES)
    page.theme = light_theme()
    page.dark_theme = None
    page.theme_mode = ft.ThemeMode.LIGHT


# ---------------------------------------------------------------------------
# Small building blocks every screen uses
# ---------------------------------------------------------------------------


def status_icon(status: str, *, size: float = 24) -> ft.Icon:
    """The status's icon in its strong colour, with its label as the
    semantics label (screen readers and e2e tests find it by name)."""
    s = STATUSES[status]
    return ft.Icon(s.icon, color=s.strong, size=size, semantics_label=s.label)


def status_chip(status: str, label: str | None = None) -> ft.Container:
    """Icon + text on the status's light tint: readable in glare, and the
    icon shape plus the words carry the meaning without the colour."""
    s = STATUSES[status]
    return ft.Container(
        content=ft.Row(
            [
                ft.Icon(s.icon, color=s.strong, size=20),
                ft.Text(
                    label or s.label,
                    color=s.on_container,
                    font_family=FONT_MEDIUM,
                    size=14,
                ),
            ],
            spacing=6,
            tight=True,
        ),
        bgcolor=s.container,
        border=ft.Border.all(1.5, s.strong),
        border_radius=ft.BorderRadius.all(20),
        padding=ft.Padding.symmetric(horizontal=12, vertical=6),
    )


def big_button(
    text: str,
    *,
    icon: Any = None,
    on_click: Callable[..., Any] | None = None,
    filled: bool = True,
    key: Any = None,
    disabled: bool = False,
) -> ft.Button | ft.OutlinedButton:
    """A full-width primary (filled) or secondary (outlined) action, 52 px high."""
    cls = ft.FilledButton if filled else ft.OutlinedButton
    return cls(
        content=text,
        icon=icon,
        on_click=on_click,
        height=BIG_BUTTON_HEIGHT,
        expand=False,
        width=float("inf"),
        key=key,
        disabled=disabled,
    )
