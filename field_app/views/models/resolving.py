"""The dashboard's casework lines (Flet-free): the blockers people still have with the help
they were given, and the children under 14 by what can be done for them (issue #14). From
the follow-up counts' answer (`blockers`, `children`)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from campaign import children as children_rules
from campaign import vocabulary as v
from field_app.i18n import format_number, get_language, t, vocab_label

__all__ = ["BlockerLine", "blocker_lines", "children_line"]

Answer = Mapping[str, Any]


@dataclass(frozen=True)
class BlockerLine:
    code: str
    label: str
    open: int
    help: str  # "Hướng dẫn đổi số điện thoại: 3 · Đã hướng dẫn: 1", or that none was given yet


def blocker_lines(blockers: Mapping[str, Answer] | None) -> list[BlockerLine]:
    """Blockers people still have, the most common first (the systemic ones on top), each with
    the help given to them so far, the most given first (the server's order)."""
    lines = []
    for code, entry in (blockers or {}).items():
        n = int(entry.get("open") or 0)
        if code not in v.BLOCKERS or n <= 0:
            continue
        helped = [(a, int(k)) for a, k in (entry.get("helped") or {}).items() if a in v.ACTIONS and k]
        words = (" · ".join(t("dashboard.resolving.help_n", action=vocab_label(v.ACTIONS, a), n=format_number(k))
                            for a, k in helped) if helped else t("dashboard.resolving.no_help"))
        lines.append(BlockerLine(code, vocab_label(v.BLOCKERS, code), n, words))
    order = list(v.BLOCKERS.codes)
    return sorted(lines, key=lambda line: (-line.open, order.index(line.code)))


def children_line(children: Mapping[str, int] | None) -> str | None:
    """"Trẻ dưới 14 tuổi: 3 đăng ký được ngay · 2 …"; None when there are none (or an older server)."""
    counts = {s: int((children or {}).get(s) or 0) for s in children_rules.STATUSES}
    if not any(counts.values()):
        return None
    parts = [f"{children_rules.label(s, get_language())}: {format_number(n)}" for s, n in counts.items() if n]
    return t("dashboard.children", n=format_number(sum(counts.values())), parts=" · ".join(parts))
