"""The leader's screens' logic (field_app/views/models/leader.py) on a real device
store: the review queue and its decisions, conflicts side by side and settling
them, the team's sync, quarantined events."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from campaign.ids import uuid7
from field_app.store import Store
from field_app.views.models import leader as model
from field_app.views.models.leader import LeaderModel, group_conflicts, held_events, sync_state

from ..store_support import add_hamlet, visit_of
from ..support import offline_store

WARD = "10525"
NOW = datetime(2026, 3, 10, 5, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = offline_store(tmp_path / "leader", role="leader", scope={"commune": WARD, "hamlets": []}, device="dev-lead")
    yield s
    s.close()


def a_household(store: Store, address: str = "Số 1, phố Lê Lợi") -> tuple[str, str, str]:
    hamlet = add_hamlet(store, WARD, "Tổ dân phố 2", "to_dan_pho")
    household = store.add_household(hamlet, address, consent="given")
    person = store.add_person(household, "Nguyễn Văn An", 1960)
    return hamlet, household, person


def test_the_queue_oldest_first_with_who_was_helped(store: Store) -> None:
    _, household, person = a_household(store)
    first = store.record_visit(household, "met", ["activation_help"], [person])
    store.record_visit(household, "not_home", [], [], note="Hẹn chiều mai")
    queue = LeaderModel(store).queue()
    assert queue.head == "Chờ duyệt: 2 lượt thăm" and queue.more is None
    met, away = queue.cards
    assert met.id == first
    assert (met.title, met.address) == ("Số 1, phố Lê Lợi", "Số 1, phố Lê Lợi")
    assert met.outcome == ("done", "Đã gặp") and away.outcome == ("revisit", "Không có nhà")
    assert met.actions == "Đã hỗ trợ: Hỗ trợ kích hoạt" and away.actions == "Chưa ghi hỗ trợ nào."
    assert met.helped == "Người được hỗ trợ: Nguyễn Văn An" and away.helped is None
    assert away.note == "Ghi chú: Hẹn chiều mai" and met.note is None
    assert met.by.startswith("Máy này (bạn) · ")


def test_a_long_queue_shows_the_oldest_and_says_how_many_wait(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model, "QUEUE_SHOWN", 2)
    _, household, _ = a_household(store)
    for _ in range(5):
        store.record_visit(household, "not_home")
    queue = LeaderModel(store).queue()
    assert len(queue.cards) == 2
    assert queue.more == "Đang hiện 2 lượt thăm cũ nhất; còn 3 lượt, sẽ hiện khi duyệt xong các lượt trên."


def test_a_decision_leaves_the_queue_and_a_refusal_says_why(store: Store) -> None:
    _, household, _ = a_household(store)
    visit = store.record_visit(household, "met")
    leader = LeaderModel(store)
    assert leader.decide(visit, "approved") is None
    decided = visit_of(store, visit)
    assert leader.queue().cards == [] and decided is not None and decided.review == "approved"
    assert [e["kind"] for e in store.pending()][-1] == "review.decided"
    failed = leader.decide(visit, "maybe")
    assert failed is not None and failed.startswith("Chưa ghi được quyết định: ")


def test_device_labels(store: Store) -> None:
    leader = LeaderModel(store)
    assert leader.device_label(None) == "Máy không rõ"
    assert leader.device_label("dev-lead") == "Máy này (bạn)"
    assert leader.device_label("0190f2a3-9c4b-7") == "Máy 0190F2"
    leader.roles = {"0190f2a3-9c4b-7": "volunteer"}
    assert leader.device_label("0190f2a3-9c4b-7") == "Tình nguyện viên · Máy 0190F2"
    assert leader.as_of() == "Máy này chưa đồng bộ lần nào: danh sách có thể chưa đủ."


def conflict(entity: str, field: str, *values: tuple[object, str, int], kind: str = "person") -> dict[str, object]:
    """A row of GET /conflicts as the server sends it."""
    return {"entity": entity, "type": kind, "field": field,
            "values": [{"value": value, "device_id": device, "version": version, "event": uuid7()}
                       for value, device, version in values]}


def test_conflicts_side_by_side_one_card_per_field(store: Store) -> None:
    _, household, person = a_household(store)
    store.update_person(person, card="cccd_chip")
    rows = [conflict(person, "card", ("cccd_chip", "dev-a", 3), ("none", "dev-b", 4)),
            conflict(person, "card", ("none", "dev-c", 5)),  # a third device, the same value as dev-b's
            conflict(household, "address", ("Số 1, phố Lê Lợi", "dev-a", 2), ("Số 1A, phố Lê Lợi", "dev-b", 3),
                     kind="household")]
    assert list(group_conflicts(rows)) == [(person, "card"), (household, "address")]
    leader = LeaderModel(store)
    found = leader.conflicts(rows)
    assert found is not None
    head, (card, address) = found
    assert head == "Cần chọn: 2"
    assert (card.field_label, card.about, card.settled) == ("Thẻ căn cước", "Nguyễn Văn An — Số 1, phố Lê Lợi", None)
    assert [(o.text, o.device, o.when, o.current) for o in card.options] == [
        ("CCCD gắn chip", "Máy DEVA", "Bản ghi số 3", True), ("Chưa có thẻ", "Máy DEVB", "Bản ghi số 4", False)]
    assert card.key == f"conflict:{person}:card"
    assert address.about == "Số 1, phố Lê Lợi" and [o.current for o in address.options] == [True, False]
    assert leader.describe(uuid7(), None) == "Chưa có trên máy này: hãy đồng bộ"


def test_settling_is_remembered_until_the_server_agrees(store: Store) -> None:
    _, _, person = a_household(store)
    rows = [conflict(person, "card", ("cccd_chip", "dev-a", 3), ("none", "dev-b", 4))]
    leader = LeaderModel(store)
    assert leader.settle(person, "card", "none") is None
    settled = store.person(person)
    assert settled is not None and settled.card == "none" and store.pending()[-1]["kind"] == "conflict.resolved"
    found = leader.conflicts(rows)
    assert found is not None and found[1][0].settled == "Đã chọn: Chưa có thẻ"
    assert leader.conflicts([]) is None  # the server has it: nothing left, nothing remembered
    assert leader.settled == {}


def test_how_recently_each_device_synced() -> None:
    def at(hours: float) -> str:
        return (NOW - timedelta(hours=hours)).isoformat()

    assert sync_state({"last_push_at": at(2), "last_pull_at": at(30)}, NOW) == ("done", NOW - timedelta(hours=2))
    assert sync_state({"last_push_at": at(30), "last_pull_at": None}, NOW)[0] == "revisit"
    assert sync_state({"last_push_at": None, "last_pull_at": None}, NOW) == ("problem", None)
    assert sync_state({"last_pull_at": at(24)}, NOW)[0] == "done", "24 hours is not yet stale"


def test_the_team(store: Store) -> None:
    devices = [{"device_id": "0190aaaa-1", "role": "volunteer", "acked_seq": 1234, "quarantined": 2,
                "last_push_at": (NOW - timedelta(minutes=5)).isoformat(), "last_pull_at": None},
               {"device_id": "dev-lead", "role": "leader", "acked_seq": 0, "quarantined": 0, "revoked": True}]
    leader = LeaderModel(store)
    member, me = leader.members(devices, NOW)
    assert leader.roles == {"0190aaaa-1": "volunteer", "dev-lead": "leader"}
    assert member.label == "Tình nguyện viên · Máy 0190AA"
    assert member.status == ("done", "Đồng bộ lần cuối: 5 phút trước")
    # plain words: when it last sent, what was held back; never an event number (issue #11, item 5)
    assert (member.sent, member.quarantined, member.quarantined_text, member.revoked) == \
        ("Gửi lên máy chủ lần cuối: 5 phút trước", 2, "Bị giữ lại: 2 thay đổi", False)
    assert me.label == "Máy này (bạn)" and me.status == ("problem", "Chưa đồng bộ lần nào") and me.revoked
    assert me.sent == "Chưa gửi gì lên máy chủ"


def test_quarantined_events_with_their_reasons() -> None:
    held = held_events([{"seq": 7, "kind": "visit.recorded", "reason": "forbidden: hamlet outside scope",
                         "received_at": None},
                        {"seq": 8, "kind": "made.up", "reason": "odd: something", "received_at": None}])
    assert [(e.seq, e.kind, e.when, e.reason, e.detail) for e in held] == [
        (7, "Ghi lượt thăm", "Thay đổi thứ 7 của máy · nhận chưa bao giờ", "Ngoài phạm vi hoặc quyền của máy này.",
         "forbidden: hamlet outside scope"),
        (8, "made.up", "Thay đổi thứ 8 của máy · nhận chưa bao giờ", None, "odd: something")]


def test_names_from_the_team_list_replace_device_ids_and_are_kept_offline(store: Store) -> None:
    """Issue #13, item 1: the team list's names label the review queue, conflicts and the team,
    and stay in the store (sealed) for the next session, offline."""
    leader = LeaderModel(store)
    devices = [{"device_id": "0190aaaa-1", "role": "volunteer", "name": "Nguyễn Thị Lan", "quarantined": 0},
               {"device_id": "0190bbbb-2", "role": "volunteer", "name": None, "quarantined": 0}]
    named, unnamed = leader.members(devices, NOW)
    assert named.label == "Nguyễn Thị Lan" and unnamed.label == "Tình nguyện viên · Máy 0190BB"
    later = LeaderModel(store)  # another session: no team list fetched yet
    assert later.device_label("0190aaaa-1") == "Nguyễn Thị Lan"
    raw = store.db.execute("SELECT value FROM meta WHERE key = 'device_names'").fetchone()[0]
    assert b"Lan" not in (raw if isinstance(raw, bytes) else raw.encode())  # a person's name: sealed like the other personal data


def test_the_conflicts_name_who_wrote_each_value_without_the_team_list_opened(store: Store) -> None:
    """Issue #13, item 2: fetching the conflicts asks for the team list; its names label the values
    (it kept only the roles: "Tình nguyện viên · Máy 0190AA" for a named volunteer)."""
    class Api:
        def conflicts(self, commune: str) -> list[dict]:
            return []

        def team_devices(self, commune: str | None = None) -> list[dict]:
            return [{"device_id": "0190aaaa-1", "role": "volunteer", "name": "Nguyễn Thị Lan"}]

    leader = LeaderModel(store)
    leader.fetch_conflicts(Api())  # type: ignore[arg-type]
    assert leader.device_label("0190aaaa-1") == "Nguyễn Thị Lan"
