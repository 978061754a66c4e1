"""The down road on screen (issue #15; docs/sync.md, "Down the same road"): on the leader's team
list, "Tạo tệp cho máy này" under a member hands over that phone's sealed file; on a phone's sync
screen, "Mở tệp từ tổ trưởng" opens it and the phone holds what its pull would have brought.
Wrong files (another phone's, a changed one, one after a lost one, an up bundle) get their own
sentence and change nothing."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import flet as ft

from campaign import relay as fmt
from campaign.ids import uuid7
from field_app.views.models.relay import short_id
from sync_server.services import team as teams
from sync_server.store.db import write_transaction

from ..store_support import state_of
from .harness import AppHarness, wait_for
from .test_leader import Team, a_visit, engine, on_sqlite, open_review, team  # noqa: F401
from .test_relay import pick, shared
from .volunteer import InProcessServer, in_process_server, open_app, shell_of  # noqa: F401

ADDRESS = "Số 41, ngõ Chợ Đồng Xuân Down"


@on_sqlite
def test_the_leader_makes_a_file_for_a_phone_that_only_that_phone_opens(team: Team, make_harness: Any,
                                                                       tmp_path: Path) -> None:
    from field_app.relay import accept_down

    a_visit(team)  # Anna's visit reaches the server; Bình has never synced
    h, _ = team.app(make_harness, tmp_path, width=360, height=640)
    open_review(h)
    h.click(h.get(key="review:team"))
    wait_for(h, lambda: h.exists(key=f"relay.down.make:{team.binh.device_id}"))
    assert not h.exists(key=f"relay.down.make:{team.leader.device_id}")  # not for itself
    button = h.get(key=f"relay.down.make:{team.binh.device_id}")
    assert button.text == "Tạo tệp cho máy này" and button["height"] >= 48
    h.method_results["Share.share_files"] = {"status": "success", "raw": "com.zing.zalo"}  # a phone
    h.click(button)
    wait_for(h, lambda: shared(h))
    [file] = shared(h)
    name, data = file["name"], bytes(file["data"])
    assert name.startswith(f"gocua-nhan-nho-{short_id(team.binh.device_id)}-") and name.endswith(".gocua")
    assert fmt.read_down(data)["device_id"] == team.binh.device_id
    assert ADDRESS.encode() not in data and "Lê Thị Hoa".encode() not in data  # the carrier reads nothing
    said = h.get(key=f"relay.down.made:{team.binh.device_id}")["value"]
    assert said.startswith(f"Đã tạo tệp {name} với ") and "chỉ máy ấy mở được" in said
    wait_for(h, lambda: h.exists(ft.Text, text=f"Đã chuyển tệp {name}."))
    before = state_of(team.binh)
    opened = accept_down(team.binh, data)
    assert opened.events > 0 and state_of(team.binh) != before
    assert any(e["data"].get("label") == "Lê Thị Hoa" for e in state_of(team.binh).values())


def _phone_team(server: InProcessServer) -> tuple[str, str]:
    hamlet = server.hamlet()
    team_id = f"t-{uuid7()[-8:]}"
    with write_transaction(server.engine) as conn:
        teams.create_team(conn, team_id, "Tổ 5", "10525", [hamlet])
    return hamlet, team_id


def _down(server: InProcessServer, leader: Any, device_id: str, **params: Any) -> bytes:
    answer = server.client.get("/api/v1/sync/relay-down", params={"device": device_id, **params},
                               headers=leader.headers)
    assert answer.status_code == 200, answer.text
    return bytes(answer.content)


def _enrolled_volunteer(make_harness: Any, server: InProcessServer, path: Path, team_id: str,
                        **kw: Any) -> AppHarness:
    h = open_app(make_harness, path, http=server.client, server_url=server.url, **kw)
    h.change(h.get(key="enrol.code"), server.code("volunteer", team=team_id))
    h.click(h.get(key="enrol.submit"))
    wait_for(h, lambda: h.exists(ft.NavigationBar))
    h.click(h.get(ft.NavigationBarDestination, text="Đồng bộ"))
    h.click(h.get(key="sync.now"))
    wait_for(h, lambda: h.get(key="sync.state")["value"] == "Đã đồng bộ xong")
    return h


def test_a_phone_opens_its_leader_s_file_and_refuses_the_wrong_ones(in_process_server: InProcessServer,
                                                                     make_harness: Any, tmp_path: Path) -> None:
    server = in_process_server
    hamlet, team_id = _phone_team(server)
    leader = server.enrol("leader", team=team_id)
    h = _enrolled_volunteer(make_harness, server, tmp_path / "phone", team_id, width=390, height=844)
    other = _enrolled_volunteer(make_harness, server, tmp_path / "other", team_id, width=360, height=640)
    store = shell_of(h).store
    wait_for(h, lambda: h.exists(key="relay.down.open"))
    assert h.get(key="relay.down.open").text == "Mở tệp từ tổ trưởng"
    lost = _down(server, leader, store.device_id)  # made, then lost on the way
    server.household(hamlet, ADDRESS, ("Đỗ Văn Down",))  # the server's news for the hamlet
    first = _down(server, leader, store.device_id, after=0, limit=1)  # a first page of a chain ...
    page = int(server.client.get("/api/v1/sync/relay-down", params={"device": store.device_id, "after": 0,
                                                                    "limit": 1}, headers=leader.headers)
               .headers["X-Gocua-Next"])
    later = _down(server, leader, store.device_id, after=page + 10_000)  # ... one after a lost page
    good = _down(server, leader, store.device_id)
    before = state_of(store)

    def opened(name: str, data: bytes) -> str:
        pick(h, "relay.down.open", name, data)
        wait_for(h, lambda: h.get(key="relay.down.opened")["value"] not in ("", previous[0]))
        previous[0] = h.get(key="relay.down.opened")["value"]
        return previous[0]

    previous = [""]
    other_file = _down(server, leader, shell_of(other).store.device_id)
    assert opened("khac.gocua", other_file) == "Tệp này dành cho máy khác, không phải máy này. Không nhận gì."
    at = good.index(b'"sealed":"') + 20  # one letter of the ciphertext changed, still a well-formed file
    changed = good[:at] + (b"B" if good[at:at + 1] != b"B" else b"C") + good[at + 1:]
    assert opened("sua.gocua", changed).startswith("Tệp không khớp chữ ký của máy chủ")
    assert opened("sau.gocua", later).startswith("Tệp này bắt đầu sau những thay đổi máy này chưa có")
    assert opened("la.txt", b"hello") == "Tệp này không phải tệp từ tổ trưởng của Gõ Cửa, hoặc đã bị hỏng."
    assert state_of(store) == before  # every refusal changed nothing
    assert opened("gocua-nhan-nho.gocua", good).startswith("Đã nhận ")
    assert any(e["data"].get("address") == ADDRESS for e in state_of(store).values())
    settled = state_of(store)
    assert opened("cu.gocua", lost) == "Tệp này không có gì mới: máy này đã có mọi thay đổi trong đó."
    assert opened("la.txt", b"{}").startswith("Tệp này không phải tệp từ tổ trưởng")  # (the box's words change)
    assert opened("dau.gocua", first) == "Tệp này không có gì mới: máy này đã có mọi thay đổi trong đó."
    assert state_of(store) == settled  # a stale or repeated file is harmless
