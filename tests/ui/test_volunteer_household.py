"""The household screen (consent first, people, outcomes, visits before), the
person screen (chips, not a form) and the add forms."""
from __future__ import annotations

from pathlib import Path

import flet as ft

from ..store_support import household_list
from .volunteer import Taps, add_household, device_store, enrolled_dir, open_app, shell_of

TWO = [
    {"label": "Nguyễn Văn An", "birth_year": 1958, "card": "cccd_chip", "vneid": "l1_approved"},
    {"label": "Trần Thị Hoà", "birth_year": 1987, "card": "cmnd_only", "vneid": "no_app"},
]


def events_since(store, seq: int) -> list[dict]:
    """This device's events after `seq` (all still unsent: these devices are offline)."""
    return [e for e in store.pending(limit=100_000) if e["seq"] > seq]


def open_household(make_harness, data: Path, hid: str, **kw):
    h = open_app(make_harness, data, route=f"/households/{hid}", **kw)
    assert [v["route"] for v in h.views] == ["/households", f"/households/{hid}"]
    return h


def test_names_stay_hidden_until_the_household_agrees(make_harness, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)
    hid, _ = add_household(data, "Số 12, ngõ 5, phố Lê Lợi", TWO)
    h = open_household(make_harness, data, hid)
    texts = " ".join(h.texts())
    assert "Nguyễn Văn An" not in texts and "Trần Thị Hoà" not in texts
    assert h.get(key="household.hidden")["value"] == "2 người. Tên chỉ hiện sau khi hộ đồng ý."
    assert h.get(key="outcome.met").disabled
    # nobody home needs no consent, and carries no help
    store = shell_of(h).store
    seq = store.last_seq
    h.click(h.get(key="outcome.not_home"))
    assert events_since(store, seq) == [], "when to come back is asked first"
    h.click(h.get(key="come_back.evening"))
    [visit] = events_since(store, seq)
    assert visit["kind"] == "visit.recorded"
    assert visit["data"]["outcome"] == "not_home" and visit["data"]["actions"] == [] == visit["data"]["people_helped"]
    assert visit["data"]["come_back"] == {"window": "evening", "on": None}
    assert h.get(key="household.status").text == "Cần quay lại"
    assert h.get(key=f"visit.{visit['entity']}").text.startswith("vừa xong · Không có nhà · Tối")
    h.click(h.get(key="consent.given"))
    assert h.exists(text="Nguyễn Văn An") and h.exists(text="Trần Thị Hoà")
    assert h.get(key="household.consent_state")["value"] == "Hộ đồng ý cung cấp thông tin"


def test_a_declined_household_shows_counts_never_names(make_harness, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)
    hid, _pids = add_household(data, "Số 14, ngõ 5, phố Lê Lợi", TWO)
    h = open_household(make_harness, data, hid)
    store = shell_of(h).store
    seq = store.last_seq
    h.click(h.get(key="consent.declined"))
    assert h.exists(ft.Text, text="Hộ từ chối cung cấp thông tin?")  # names are about to go: ask once
    h.click(h.get(key="decline.confirm"))
    kinds = [(e["kind"], e["data"]) for e in events_since(store, seq)]
    assert kinds == [("person.updated", {"label": "Người 1"}), ("person.updated", {"label": "Người 2"}),
                     ("household.updated", {"consent": "declined"})]
    texts = " ".join(h.texts())
    assert "Nguyễn" not in texts and "Hoà" not in texts
    assert h.exists(text="Người 1") and h.exists(text="Người 2")
    assert h.get(key="household.consent_state")["value"] == "Hộ từ chối: chỉ đếm số người, không ghi tên"
    # adding a person to a declined household: no name field to type in
    h.click(h.get(key="household.add_person"))
    assert h.get(key="add.label").disabled
    h.click(h.get(key="add.save_person"))
    assert h.route == f"/households/{hid}"
    assert h.exists(text="Người 3")


def test_the_person_screen_is_chips_and_help_joins_the_visit(make_harness, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)
    hid, (_an, hoa) = add_household(data, "Số 16, ngõ 5, phố Lê Lợi", TWO, consent="given")
    h = open_household(make_harness, data, hid)
    store = shell_of(h).store
    tap = Taps(h)
    h.click(h.get(key=f"person.{hoa}.open"))
    assert [v["route"] for v in h.views] == ["/households", f"/households/{hid}", f"/households/{hid}/people/{hoa}"]
    assert h.get(key="person.name")["value"] == "Trần Thị Hoà"
    # no text box among the statuses: every one is a chip
    for group in ("presence", "card", "vneid", "blockers", "help"):
        assert h.find(ft.Chip, where=lambda c, g=group: str(c.key).startswith(f"person.{g}."))
    assert h.get(key="person.card.cmnd_only")["selected"] is True
    seq = store.last_seq
    tap(h.get(key="person.card.applied_waiting"))
    tap(h.get(key="person.blockers.no_otp"))
    tap(h.get(key="person.blockers.sim_not_own"))
    tap(h.get(key="person.help.l1_help"))  # level-1 help leaves the account waiting for approval
    assert h.get(key="person.vneid.l1_pending")["selected"] is True
    assert h.get(key="person.vneid.no_app")["selected"] is False
    tap(h.get(key="person.save"))
    assert h.route == f"/households/{hid}"
    [update] = events_since(store, seq)
    assert update["kind"] == "person.updated" and update["entity"] == hoa
    assert update["data"] == {"card": "applied_waiting", "vneid": "l1_pending", "blockers": ["no_otp", "sim_not_own"]}
    # the help waits for the outcome, and the household says so
    assert h.get(key="household.draft")["value"].startswith("Đã chọn hỗ trợ cho 1 người (Hỗ trợ đăng ký mức 1)")
    assert h.get(key=f"person.{hoa}.help.l1_help")["selected"] is True
    tap(h.get(key="outcome.met"))
    [visit] = events_since(store, seq + 1)
    assert visit["data"]["actions"] == ["l1_help"] and visit["data"]["people_helped"] == [hoa]
    assert store.person(hoa).vneid == "l1_pending"
    assert tap.count == 6


def test_a_child_under_six_cannot_get_level_2(make_harness, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)
    hid, (kid,) = add_household(data, "Số 18, ngõ 5", [{"label": "Bé Na", "birth_year": 2023}], consent="given")
    h = open_app(make_harness, data, route=f"/households/{hid}/people/{kid}")
    assert h.get(key="person.vneid.l2_active").disabled
    assert not h.get(key="person.vneid.l1_active").disabled


def test_add_household_then_people(make_harness, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)
    h = open_app(make_harness, data, width=360, height=640)
    store = shell_of(h).store
    h.click(h.get(ft.NavigationBarDestination, text="Hộ dân"))
    h.click(h.get(key="households.add"))
    assert h.route == "/households/new"
    h.click(h.get(key="add.save"))
    assert h.get(key="add.address")["error"] == "Hãy nhập địa chỉ."
    h.change(h.get(key="add.address"), "  Số 20,   ngõ 7, phố  Hàng Bạc ")
    Taps(h)(h.get(key="add.consent.given"))
    h.click(h.get(key="add.save"))
    [household] = household_list(store)
    assert household.address == "Số 20, ngõ 7, phố Hàng Bạc" and household.consent == "given"
    assert h.route == f"/households/{household.id}"

    h.click(h.get(key="household.add_person"))
    assert h.get(key="add.birth_year")["keyboard_type"] == "number"
    assert h.get(key="add.label")["hint_text"] == "Để trống: Người 1"
    h.change(h.get(key="add.label"), "Phạm Thị Mai")
    h.change(h.get(key="add.birth_year"), "1899")
    h.click(h.get(key="add.save_next"))
    assert h.get(key="add.birth_year")["error"].startswith("Năm sinh 1899 không hợp lệ: năm sinh từ 1900 đến")
    h.change(h.get(key="add.birth_year"), "1975")
    Taps(h)(h.get(key="add.vneid.l2_active"))
    h.click(h.get(key="add.save_next"))  # saved, and an empty form for the next person
    assert h.route == f"/households/{household.id}/people/new"
    assert h.get(key="add.label")["hint_text"] == "Để trống: Người 2"
    Taps(h)(h.get(key="add.band.under_6"))  # an age band instead of a year
    h.click(h.get(key="add.save_person"))
    people = store.people(household.id)
    assert [(p.label, p.vneid) for p in people] == [("Phạm Thị Mai", "l2_active"), ("Người 2", "unknown")]
    assert people[0].birth_year == 1975 and 2019 <= people[1].birth_year <= 2030
    assert h.exists(text="Phạm Thị Mai") and h.exists(text="Người 2")


def test_a_returned_visit_shows_the_leaders_comment(make_harness, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)
    hid, (an, _) = add_household(data, "Số 22, ngõ 5", TWO, consent="given")
    with device_store(data) as store:
        visit = store.record_visit(hid, "met", ["activation_help"], [an])
        store.decide_review(visit, "returned", "Ông An chưa kích hoạt được, quay lại giúp")
    h = open_household(make_harness, data, hid)
    assert h.get(key="household.returned")["value"] == \
        "Tổ trưởng trả lại lượt thăm gần nhất: “Ông An chưa kích hoạt được, quay lại giúp”"
    assert "Bị trả lại: Ông An chưa kích hoạt được, quay lại giúp" in h.get(key=f"visit.{visit}").text
    assert h.get(key="household.status").text == "Bị trả lại"


def test_quick_help_is_offered_only_where_it_can_still_help(make_harness, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)
    hid, (done, approved, none) = add_household(data, "Số 30, ngõ 5", [
        {"label": "Lê Văn Xong", "birth_year": 1970, "card": "cccd_chip", "vneid": "l2_active"},
        {"label": "Lê Thị Duyệt", "birth_year": 1975, "card": "cccd_chip", "vneid": "l1_approved"},
        {"label": "Lê Văn Chưa", "birth_year": 1990, "card": "cccd_chip", "vneid": "no_app"},
    ], consent="given")
    h = open_household(make_harness, data, hid)
    offered = {pid: sorted(c["key"].rsplit(".", 1)[1] for c in h.find(ft.Chip)
                           if c.get("key", "").startswith(f"person.{pid}.help."))
               for pid in (done, approved, none)}
    assert offered == {done: [], approved: ["activation_help"],
                       none: ["activation_help", "installed_app", "l1_help"]}


def test_a_name_with_emoji_is_saved_as_typed(make_harness, tmp_path: Path) -> None:
    """The rule permits emoji in a name (campaign.events counts characters, not bytes): saved
    whole, never refused as "too long"."""
    data = enrolled_dir(tmp_path)
    hid, _ = add_household(data, "Số 32, ngõ 5", consent="given")
    h = open_app(make_harness, data, route=f"/households/{hid}/people/new")
    store = shell_of(h).store
    name = "Bà Tư 👵🏻 ❤️ 👨‍👩‍👧"
    h.change(h.get(key="add.label"), name)
    h.click(h.get(key="add.save_person"))
    assert [p.label for p in store.people(hid)] == [name]
    assert not h.exists(ft.Text, text_contains="quá dài")


def test_a_name_at_its_limit_says_the_rest_is_cut(make_harness, tmp_path: Path) -> None:
    from campaign.events import MAX_LABEL

    data = enrolled_dir(tmp_path)
    hid, _ = add_household(data, "Số 34, ngõ 5", consent="given")
    h = open_app(make_harness, data, route=f"/households/{hid}/people/new")
    field = h.get(key="add.label")
    assert field["max_length"] == MAX_LABEL and not field.get("helper")
    h.change(field, "A" * MAX_LABEL)  # what the field holds once the client has cut the rest
    assert h.get(key="add.label")["helper"] == f"Đã đủ {MAX_LABEL} ký tự: phần gõ thêm bị cắt, không được ghi."
    h.change(h.get(key="add.label"), "Nguyễn Văn An")
    assert not h.get(key="add.label").get("helper")
