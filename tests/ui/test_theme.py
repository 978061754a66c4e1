"""The theme: bundled Vietnamese font, big targets, colour-blind-safe statuses."""
from __future__ import annotations

import flet as ft

from field_app import theme
from field_app.theme import ASSETS_DIR


def contrast(a: str, b: str) -> float:
    def lum(h: str) -> float:
        r, g, b_ = (int(h.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4))
        f = lambda c: c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4  # noqa: E731
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b_)

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_font_files_are_bundled_with_their_licence() -> None:
    fonts = ASSETS_DIR / "fonts"
    for path in theme.FONT_FILES.values():
        data = (ASSETS_DIR / path).read_bytes()
        assert data[:4] in (b"\x00\x01\x00\x00", b"OTTO", b"true"), path
    assert "SIL Open Font License" in (fonts / "OFL.txt").read_text(encoding="utf-8")


def test_font_covers_vietnamese() -> None:
    """Every letter Vietnamese needs has a glyph (no tofu), read from the
    TrueType cmap without extra packages."""
    import struct

    data = (ASSETS_DIR / theme.FONT_FILES[theme.FONT_FAMILY]).read_bytes()
    num_tables = struct.unpack(">H", data[4:6])[0]
    tables = {}
    for i in range(num_tables):
        tag, _, offset, _length = struct.unpack(">4sIII", data[12 + 16 * i : 28 + 16 * i])
        tables[tag] = offset
    cmap = tables[b"cmap"]
    n = struct.unpack(">H", data[cmap + 2 : cmap + 4])[0]
    covered: set[int] = set()
    for i in range(n):
        _pid, _eid, off = struct.unpack(">HHI", data[cmap + 4 + 8 * i : cmap + 12 + 8 * i])
        sub = cmap + off
        if struct.unpack(">H", data[sub : sub + 2])[0] == 4:
            segs = struct.unpack(">H", data[sub + 6 : sub + 8])[0] // 2
            ends = struct.unpack(f">{segs}H", data[sub + 14 : sub + 14 + 2 * segs])
            starts = struct.unpack(f">{segs}H", data[sub + 16 + 2 * segs : sub + 16 + 4 * segs])
            for s, e in zip(starts, ends, strict=True):
                covered.update(range(s, e + 1))
    letters = (
        "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợ"
        "uùúủũụưừứửữựyỳýỷỹỵđ"
    )
    missing = [ch for ch in letters + letters.upper() if ord(ch) not in covered]
    assert missing == []


def test_theme_uses_the_bundled_font_and_standard_density() -> None:
    th = theme.light_theme()
    assert th.font_family == theme.FONT_FAMILY
    assert th.visual_density == ft.VisualDensity.STANDARD
    families = {
        getattr(th.text_theme, role).font_family
        for role in ("title_large", "title_medium", "body_large", "label_large")
    }
    assert families <= set(theme.FONT_FILES)


def test_touch_targets() -> None:
    assert theme.TOUCH_TARGET >= 48
    assert theme.BIG_BUTTON_HEIGHT >= theme.TOUCH_TARGET
    assert theme.big_button("Lưu").height >= theme.TOUCH_TARGET
    assert theme.light_theme().list_tile_theme.min_height >= theme.TOUCH_TARGET


def test_text_colours_are_readable_in_sunlight() -> None:
    c = theme.COLORS
    assert contrast(c.on_surface, c.surface) >= 7
    assert contrast(c.on_surface_variant, c.surface) >= 7
    assert contrast(c.primary, c.surface) >= 7
    assert contrast(c.on_primary, c.primary) >= 7


def test_statuses_are_colour_blind_safe_and_never_colour_alone() -> None:
    okabe_ito = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"}
    assert set(theme.STATUSES) == {"done", "todo", "revisit", "problem"}
    icons = [s.icon for s in theme.STATUSES.values()]
    assert len(set(icons)) == len(icons), "each status has its own icon shape"
    for s in theme.STATUSES.values():
        assert s.hue in okabe_ito
        assert contrast(s.strong, "#FFFFFF") >= 7, s.key
        assert contrast(s.on_container, s.container) >= 7, s.key
        assert s.label and s.label != s.label_key
    assert theme.STATUSES["revisit"].label == "Cần quay lại"


def test_status_chip_carries_icon_and_words() -> None:
    chip = theme.status_chip("problem")
    row = chip.content
    assert isinstance(row.controls[0], ft.Icon)
    assert row.controls[1].value == "Có vướng mắc"
    assert theme.status_icon("done").semantics_label == "Đã xong"
