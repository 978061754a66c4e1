"""The dashboard's line of households to revisit by window (issue #13, item 4)."""
from __future__ import annotations

from field_app.views.models.come_back import come_back_line


def test_the_line_names_each_window_and_those_without_one() -> None:
    total = {"revisit": 7, "come_back": {"morning": 1, "midday": 0, "evening": 3, "weekend": 2, "any": 0}}
    assert come_back_line(total) == "Hộ cần quay lại theo buổi: Sáng 1 · Tối 3 · Cuối tuần 2 · chưa hẹn 1"


def test_no_line_from_an_older_server_or_when_nobody_needs_a_revisit() -> None:
    assert come_back_line({"revisit": 4}) is None
    assert come_back_line({"revisit": 0, "come_back": {"evening": 0}}) is None
