"""Come back later (issue #13, item 4) in the screens' model: the dashboard's line by window, the
dialog's dates and refusals, a come-back in words, the home's come-backs of today (clock injected)."""
from __future__ import annotations

from datetime import UTC, date, datetime

from field_app import i18n
from field_app.views.models.come_back import (
    come_back_line,
    come_back_text,
    date_choices,
    date_error,
    todays_come_backs,
    window_cells,
    window_headers,
    window_line,
    window_rows,
)


def test_the_line_names_each_window_and_those_without_one() -> None:
    total = {"revisit": 7, "come_back": {"morning": 1, "midday": 0, "evening": 3, "weekend": 2, "any": 0}}
    assert come_back_line(total) == "Hộ cần quay lại theo buổi: Sáng 1 · Tối 3 · Cuối tuần 2 · chưa hẹn 1"


def test_no_line_from_an_older_server_or_when_nobody_needs_a_revisit() -> None:
    assert come_back_line({"revisit": 4}) is None
    assert come_back_line({"revisit": 0, "come_back": {"evening": 0}}) is None


def test_the_table_by_hamlet_has_a_column_a_window_the_most_to_revisit_first() -> None:
    rows = [{"key": "a", "name": "Tổ 1", "revisit": 1, "come_back": {"evening": 1}},
            {"key": "b", "name": "Tổ 2", "revisit": 0, "come_back": {}},  # nobody to revisit: left out
            {"key": "c", "name": "Tổ 3", "revisit": 4, "come_back": {"morning": 1, "weekend": 2}},
            {"key": "d", "name": "Tổ 4", "revisit": 2}]  # an older server: no windows, left out
    found = window_rows(rows)
    assert [r.key for r in found] == ["c", "a"]
    assert window_headers() == ["Sáng", "Trưa", "Tối", "Cuối tuần", "Bất kỳ lúc nào", "Chưa hẹn", "Cần quay lại"]
    assert window_cells(found[0]) == ["1", "0", "0", "2", "0", "1", "4"]
    assert window_cells(found[1])[2] == "1"  # the evening column
    assert window_line(found[0]) == "Tổ 3: Sáng 1 · Cuối tuần 2 · chưa hẹn 1"


# -- the dialog's dates and a come-back in words (clock injected: a fixed instant) ------------------


FRIDAY = date(2026, 12, 4)


def test_the_dialog_offers_today_tomorrow_then_the_week_by_name() -> None:
    choices = date_choices(FRIDAY)
    assert [c.label for c in choices] == ["Hôm nay", "Ngày mai", "Chủ nhật 06/12", "Thứ Hai 07/12", "Thứ Ba 08/12",
                                          "Thứ Tư 09/12", "Thứ Năm 10/12"]
    assert [c.day for c in choices][:2] == [FRIDAY, date(2026, 12, 5)]
    i18n.set_language("en")
    assert [c.label for c in date_choices(FRIDAY)][2:4] == ["Sun 6 Dec", "Mon 7 Dec"]


def test_a_date_gone_by_or_too_far_is_refused_in_a_sentence() -> None:
    assert date_error(FRIDAY, FRIDAY) is None and date_error(date(2027, 3, 4), FRIDAY) is None  # 90 days
    assert date_error(date(2026, 12, 3), FRIDAY) == "Ngày hẹn 03/12/2026 đã qua: hãy chọn hôm nay hoặc một ngày sau."
    assert date_error(date(2027, 3, 5), FRIDAY) == "Ngày hẹn quá xa: hãy chọn trong vòng 90 ngày tới."


def test_a_come_back_in_words() -> None:
    assert come_back_text(None, FRIDAY) == ""
    assert come_back_text({"window": "evening", "on": None}, FRIDAY) == "Tối"
    assert come_back_text({"window": "evening", "on": "2026-12-04"}, FRIDAY) == "Tối · Hôm nay"
    assert come_back_text({"window": "morning", "on": "2026-12-07"}, FRIDAY) == "Sáng · Thứ Hai 07/12"
    assert come_back_text({"window": "morning", "on": "2026-12-01"}, FRIDAY) == "Sáng · quá hẹn 01/12"


def test_the_homes_come_backs_of_today_in_the_days_order() -> None:
    households = [
        ("h-evening", "Số 9, phố Lê Lợi", {"window": "evening", "on": None}),
        ("h-weekend", "Số 1, phố Lê Lợi", {"window": "weekend", "on": None}),
        ("h-tomorrow", "Số 2, phố Lê Lợi", {"window": "morning", "on": "2026-12-05"}),
        ("h-none", "Số 3, phố Lê Lợi", None),  # said nothing: on the revisit list, not the day's
        ("h-morning-10", "Số 10, phố Lê Lợi", {"window": "morning", "on": None}),
        ("h-morning-4", "Số 4, phố Lê Lợi", {"window": "morning", "on": None}),
        ("h-evening-today", "Số 20, phố Lê Lợi", {"window": "evening", "on": "2026-12-04"}),
    ]
    # Friday 23:30 in Vietnam is still Friday there, whatever the phone's own offset
    friday_night = datetime(2026, 12, 4, 16, 30, tzinfo=UTC)
    rows = todays_come_backs(households, friday_night)
    assert [r.household_id for r in rows] == ["h-morning-4", "h-morning-10", "h-evening-today", "h-evening"]
    assert [r.when for r in rows] == ["Sáng", "Sáng", "Tối · Hôm nay", "Tối"]
    # an hour later it is Saturday in Vietnam: the weekend one and tomorrow's come in
    saturday = datetime(2026, 12, 4, 17, 30, tzinfo=UTC)
    assert [r.household_id for r in todays_come_backs(households, saturday)] == [
        "h-tomorrow", "h-morning-4", "h-morning-10", "h-evening-today", "h-evening", "h-weekend"]


def test_a_revisit_row_of_the_server_says_when_to_come_back() -> None:
    from field_app.views.models.dashboard import followup_card
    row = {"household_id": "h", "address": "Số 6, phố Lê Lợi", "hamlet": "Tổ 3", "visits": 1,
           "last_visit_at": "2026-12-03T10:00:00+07:00", "come_back": {"window": "evening", "on": "2026-12-05"}}
    assert followup_card("revisit", row, FRIDAY).lines[-1] == "Hẹn quay lại: Tối · Ngày mai"
    said_nothing = {**row, "come_back": None}
    assert len(followup_card("revisit", said_nothing, FRIDAY).lines) == 1
    older_server = {k: val for k, val in row.items() if k != "come_back"}
    assert len(followup_card("revisit", older_server, FRIDAY).lines) == 1
