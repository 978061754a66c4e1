"""Times, numbers and failures in words (field_app/views/models/words.py)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from field_app.net.errors import Offline, Rejected, Revoked
from field_app.views.models.words import (
    code_label,
    day_text,
    error_text,
    failure_text,
    format_value,
    percent,
    relative_time,
    share_of,
)


def test_relative_time_in_vietnamese() -> None:
    now = datetime(2026, 3, 10, 5, 0, tzinfo=UTC)  # 12:00 in Vietnam

    def ago(**kw: float) -> str:
        return (now - timedelta(**kw)).isoformat()

    assert relative_time(None, now) == "chưa bao giờ"
    assert relative_time(ago(seconds=20), now) == "vừa xong"
    assert relative_time(ago(minutes=5), now) == "5 phút trước"
    assert relative_time(ago(hours=3), now) == "3 giờ trước"
    assert relative_time(ago(hours=30), now) == "hôm qua"
    assert relative_time(ago(days=4), now) == "4 ngày trước"
    assert relative_time(ago(days=60), now) == "09/01/2026"
    assert relative_time("2026-03-10T11:58:00+07:00", now) == "2 phút trước"
    assert format_value("card", "cccd_chip") == "CCCD gắn chip"
    assert format_value("blockers", ["no_otp", "old_device"]) == "Không nhận được OTP, Máy cũ"
    assert format_value("birth_year", None) == "(trống)"


def test_days_are_counted_on_vietnams_calendar() -> None:
    now = datetime(2026, 3, 11, 17, 30, tzinfo=UTC)  # 00:30 on the 12th in Vietnam
    assert relative_time("2026-03-10T16:00:00Z", now) == "2 ngày trước"  # 23:00 on the 10th there (UTC: the 10th)
    assert relative_time("2026-03-10T17:00:00Z", now) == "hôm qua"  # 00:00 on the 11th there


def test_values_and_codes_in_words() -> None:
    assert format_value("blockers", []) == "(không có)"
    assert format_value("birth_year", 1960) == "1960"
    assert format_value("card", "no_such_code") == "no_such_code"
    assert code_label("leader.kind", "visit.recorded") == "Ghi lượt thăm"
    assert code_label("leader.kind", "made.up") == "made.up"


def test_numbers_and_days() -> None:
    assert percent(0.8345) == "83,5 %" and percent(None) == "0,0 %"
    assert share_of(1, 4) == 0.25 and share_of(3, 0) == 0.0
    assert day_text("2027-01-28") == "28/01/2027" and day_text("2027-01-28T10:00:00+07:00") == "28/01/2027"
    assert day_text(None) == ""


def test_failures_in_words() -> None:
    assert error_text(Offline("timed out")) == \
        "Không có mạng hoặc máy chủ không trả lời. Dữ liệu vẫn an toàn trên máy."
    assert error_text(ValueError("bad")) == "Lỗi khi đồng bộ: bad"
    assert error_text(Revoked("gone"), lang="en") != error_text(Revoked("gone"))
    assert failure_text(Offline("timed out")) == \
        "Không kết nối được máy chủ. Số liệu tổng hợp lấy từ máy chủ nên cần có mạng."
    assert failure_text(Rejected("forbidden: not your commune", code="forbidden")) == \
        "Máy chủ từ chối: Việc này nằm ngoài quyền hoặc địa bàn của máy này."  # the code's sentence, not the detail
