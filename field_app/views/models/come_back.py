"""Come back later on the dashboard (issue #13, item 4), without Flet: the households to revisit
by when to come back, from a totals row's `come_back` (an older server sends none: no line)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from campaign import vocabulary as v
from field_app.i18n import format_number, t, vocab_label


def come_back_line(total: Mapping[str, Any]) -> str | None:
    """"Cần quay lại theo buổi: Sáng 1 · Tối 2 · Cuối tuần 1 · chưa hẹn 3", or None when the row
    says nothing of windows or nobody needs a revisit."""
    windows = total.get("come_back")
    revisit = int(total.get("revisit") or 0)
    if not isinstance(windows, Mapping) or not revisit:
        return None
    parts = [f"{vocab_label(v.COME_BACK, code)} {format_number(int(windows.get(code) or 0))}"
             for code in v.COME_BACK.codes if windows.get(code)]
    unsaid = revisit - sum(int(windows.get(code) or 0) for code in v.COME_BACK.codes)
    if unsaid > 0:
        parts.append(t("dashboard.come_back.unsaid", n=format_number(unsaid)))
    return t("dashboard.come_back", list=" · ".join(parts))
