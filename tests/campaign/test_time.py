"""Vietnam's time (campaign/time.py): UTC+7 all year, the local day and year of an instant."""
from datetime import UTC, datetime, timedelta

import pytest

from campaign import time as vn_time
from campaign import totals
from campaign.events import InvalidEvent

UTC = UTC


def test_a_day_in_vietnam_begins_at_five_in_the_afternoon_utc():
    assert vn_time.local_day("2026-11-27T16:59:59+00:00") == "2026-11-27"
    assert vn_time.local_day("2026-11-27T17:00:00+00:00") == "2026-11-28"


def test_the_local_day_does_not_depend_on_the_offset_the_instant_is_written_in():
    assert vn_time.local_day("2026-11-28T00:30:00+07:00") == vn_time.local_day("2026-11-27T17:30:00Z") \
        == vn_time.local_day("2026-11-27T12:30:00-05:00") == "2026-11-28"


def test_a_time_without_its_offset_has_no_local_day():
    with pytest.raises(InvalidEvent):
        vn_time.local_day("2026-11-27T09:30:00")


def test_the_local_date_of_an_aware_moment_is_vietnams():
    assert vn_time.local_date(datetime(2026, 11, 27, 18, 0, tzinfo=UTC)).isoformat() == "2026-11-28"


def test_the_new_year_comes_to_vietnam_seven_hours_before_utc():
    assert vn_time.local_year(datetime(2026, 12, 31, 17, 0, tzinfo=UTC)) == 2027
    assert vn_time.local_year(datetime(2026, 12, 31, 16, 59, tzinfo=UTC)) == 2026


@pytest.mark.parametrize("convert", [vn_time.local_date, vn_time.local_year])
def test_a_naive_moment_is_refused(convert):
    with pytest.raises(ValueError, match="no UTC offset"):
        convert(datetime(2026, 11, 27, 9, 30))


@pytest.mark.parametrize("month", range(1, 13))
def test_vietnam_keeps_utc_plus_seven_all_year(month):
    assert datetime(2026, month, 1, tzinfo=vn_time.VIETNAM).utcoffset() == timedelta(hours=7)


def test_now_is_an_aware_time_in_vietnam():
    assert vn_time.now().utcoffset() == timedelta(hours=7)


def test_the_totals_module_still_offers_the_zone_and_the_local_day_to_callers_being_moved():
    assert totals.VIETNAM is vn_time.VIETNAM
    assert totals.local_day is vn_time.local_day
