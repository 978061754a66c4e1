"""Come back later on the phone (issue #13, item 4): a date in the "Khi nào quay lại?" dialog when
the household said one, without a tap more for the common case (test_volunteer_tap_count.py); a
date in the past or too far ahead refused with a sentence and nothing written; today's come-backs
on the home, in the day's order, each opening its household.

"Today" is the store's clock's (the dialog and the home read it): the expected dates are computed
from the same clock, never from a fixed calendar."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import flet as ft

from campaign import come_back as rules
from campaign.time import local_date

from .volunteer import Taps, add_household, device_store, enrolled_dir, open_app, shell_of

ONE = [{"label": "Nguyễn Văn An", "birth_year": 1958, "card": "cccd_chip", "vneid": "l1_approved"}]


def _today(store) -> date:  # type: ignore[no-untyped-def]
    now = store.clock()
    return local_date(now if now.tzinfo is not None else now.astimezone())


def _since(store, seq: int) -> list[dict]:  # type: ignore[no-untyped-def]
    return [e for e in store.pending(limit=100_000) if e["seq"] > seq]


def _choose_date(h, key: str) -> None:  # type: ignore[no-untyped-def]
    dates = h.get(key="come_back.date")
    h.update_props(dates, {"value": key})
    h.event(dates, "select", key)


def _pick(h, day: date) -> None:  # type: ignore[no-untyped-def]
    """The calendar's OK on `day`: the client sets the value, fires change, closes the picker."""
    picker = h.find(ft.DatePicker)[-1]
    h.change(picker, f"{day.isoformat()}T00:00:00.000")
    h.update_props(picker, {"open": False})
    h.event(picker, "dismiss", False)


def test_a_date_is_given_in_the_same_dialog_and_a_refused_one_writes_nothing(make_harness, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)
    hid, _ = add_household(data, "Số 3, ngõ 7, phố Lê Lợi", ONE)
    h = open_app(make_harness, data, route=f"/households/{hid}", width=360, height=640)
    store = shell_of(h).store
    seq = store.last_seq
    today = _today(store)

    h.click(h.get(key="outcome.not_home"))
    dates = h.get(key="come_back.date")
    texts = [o["text"] for o in dates["options"]]
    assert texts[:3] == ["Chưa biết ngày", "Hôm nay", "Ngày mai"] and texts[-1] == "Ngày khác…"
    assert len(texts) == 1 + 7 + 1  # not known, seven days by name, the calendar

    # a date gone by (a calendar the client let through, or a day turned): refused, said, nothing written
    _choose_date(h, "other")
    assert str(h.get(ft.DatePicker)["first_date"]).startswith(today.isoformat())
    _pick(h, today - timedelta(days=1))
    message = h.get(key="come_back.message")
    assert message.visible and message["value"].startswith("Ngày hẹn") and "đã qua" in message["value"]
    h.click(h.get(key="come_back.morning"))
    assert _since(store, seq) == [] and h.exists(key="come_back.morning"), "the dialog stays, nothing written"
    # too far ahead: the same
    _choose_date(h, "other")
    _pick(h, today + timedelta(days=rules.MAX_DAYS_AHEAD + 1))
    assert "quá xa" in h.get(key="come_back.message")["value"]
    h.click(h.get(key="come_back.evening"))
    assert _since(store, seq) == []

    # tomorrow, then a time of day: recorded with the date
    _choose_date(h, "come_back.on.1")
    assert h.get(key="come_back.message")["value"] == "Hẹn ngày: Ngày mai. Chọn buổi để ghi lượt thăm."
    tap = Taps(h)
    tap(h.get(key="come_back.evening"))
    [visit] = _since(store, seq)
    assert visit["data"]["come_back"] == {"window": "evening", "on": (today + timedelta(days=1)).isoformat()}
    assert tap.count == 1 and not h.exists(key="come_back.evening")
    row = h.get(key=f"visit.{visit['entity']}").text
    assert "Không có nhà · Tối · Ngày mai" in row
    h.click(h.get(key=f"visit.{visit['entity']}"))  # the visit opened says it too
    assert h.get(key="visit.come_back")["value"] == "Hẹn quay lại: Tối · Ngày mai"


def test_the_home_shows_todays_come_backs_first_in_the_days_order(make_harness, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)
    homes = {name: add_household(data, address, ONE)[0] for name, address in (
        ("evening", "Số 2, phố Lê Lợi"), ("morning", "Số 8, phố Lê Lợi"), ("tomorrow", "Số 5, phố Lê Lợi"),
        ("unsaid", "Số 6, phố Lê Lợi"), ("dated evening", "Số 9, phố Lê Lợi"))}
    with device_store(data) as store:
        today = _today(store)
        for name, come_back in (("evening", {"window": "evening", "on": None}),
                                ("morning", {"window": "morning", "on": None}),
                                ("tomorrow", {"window": "morning", "on": (today + timedelta(days=1)).isoformat()}),
                                ("unsaid", None),
                                ("dated evening", {"window": "evening", "on": today.isoformat()})):
            store.record_visit(homes[name], "not_home", [], [], "", come_back)
    by_id = {hid: name for name, hid in homes.items()}
    for width, height in ((360, 640), (390, 844)):
        h = open_app(make_harness, data, width=width, height=height)
        card = h.get(key="home.come_backs")
        assert card.text.startswith("Hẹn quay lại hôm nay")
        rows = [c.key.removeprefix("home.come_back.") for c in h.find(where=lambda c: str(c.key or "").startswith(
            "home.come_back."))]
        # morning, then evening (dated today before undated); tomorrow's and the unsaid one are not today's
        assert [by_id[r] for r in rows] == ["morning", "dated evening", "evening"]
        assert "Số 9, phố Lê Lợi" in h.get(key=f"home.come_back.{homes['dated evening']}").text
        assert "Tối · Hôm nay" in h.get(key=f"home.come_back.{homes['dated evening']}").text
        # the card comes before the day's tiles
        texts = h.texts()
        assert texts.index("Hẹn quay lại hôm nay") < texts.index(h.get(key="home.today_label")["value"])
        h.click(h.get(key=f"home.come_back.{homes['morning']}"))
        assert h.route == f"/households/{homes['morning']}"

    # the revisit list: the same households, dated first (soonest), then by window, then those that said nothing
    h = open_app(make_harness, data, route="/households?filter=revisit", width=360, height=640)
    listed = [c.key.removeprefix("household.") for c in h.find(where=lambda c: str(c.key or "").count(".") == 1
                                                               and str(c.key or "").startswith("household."))]
    assert [by_id[r] for r in listed if r in by_id] == ["dated evening", "tomorrow", "morning", "evening", "unsaid"]
    assert h.get(key=f"household.{homes['tomorrow']}.come_back")["value"] == "Sáng · Ngày mai"
    assert not h.exists(key=f"household.{homes['unsaid']}.come_back")


def test_not_knowing_the_time_keeps_the_date_chosen(make_harness, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)
    hid, _ = add_household(data, "Số 5, ngõ 7, phố Lê Lợi", ONE)
    h = open_app(make_harness, data, route=f"/households/{hid}", width=360, height=640)
    store = shell_of(h).store
    seq = store.last_seq
    h.click(h.get(key="outcome.not_home"))
    _choose_date(h, "come_back.on.0")
    h.click(h.get(key="come_back.skip"))  # "Chưa biết": the time, not the date
    [visit] = _since(store, seq)
    assert visit["data"]["come_back"] == {"window": "any", "on": _today(store).isoformat()}
