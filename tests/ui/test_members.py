"""The leader's "new member" screen against a real server: a name typed, a code made for a
volunteer of the team, the phone that spends it carries the name; a name the server would
refuse is refused on the screen with nothing sent; offline, the screen says so and keeps the name."""
from __future__ import annotations

from typing import Any

import flet as ft

from field_app.app import build_app
from field_app.app_state import parse_enrolment
from field_app.net.errors import Offline
from field_app.net.server_api import ServerApi
from field_app.views import leader, members
from field_app.views.qr import qr_matrix, read_png_modules

from ..support import enrolled_store
from .harness import wait_for
from .test_leader import engine, on_sqlite, open_review, sync, team

__all__ = ["engine", "team"]


def app(team: Any, make_harness: Any, tmp_path: Any, *, api: Any = None, width: float = 390, height: float = 844):
    def main(page: ft.Page) -> None:
        shell = build_app(page, role="leader", data_dir=tmp_path / "app")
        screens = leader.register(shell, store=team.leader, api=api)
        members.register(shell, screens)
        shell.render()

    return make_harness(main, width=width, height=height)


@on_sqlite
def test_a_named_code_for_the_team_and_the_phone_that_spends_it_carries_the_name(team, make_harness,
                                                                                 tmp_path) -> None:
    h = app(team, make_harness, tmp_path, width=360, height=640)
    open_review(h)
    h.click(h.get(key="review:members"))
    assert h.route == "/review/members"
    h.click(h.get(key="members:make"))  # no name yet: said on the field, nothing sent
    assert h.get(key="members:name")["error"] == "Nhập họ tên người giữ máy."
    assert not h.exists(key="members:made")

    h.change(h.get(key="members:name"), "  Nguyễn Thị   Lan ")
    assert not h.get(key="members:name").get("error")  # typing clears the complaint
    h.click(h.get(key="members:make"))
    wait_for(h, lambda: h.exists(key="members:code"))
    code = h.get(key="members:code").text
    link = h.get(key="members:link").text
    assert h.get(key="members:for").text == "Mã đăng ký cho Nguyễn Thị Lan"
    assert link.startswith("gocua://enrol?") and code in link and "Dùng một lần, trước" in h.get(key="members:made").text
    qr = h.control(h.get(key="members:qr"))
    assert read_png_modules(qr.src) == qr_matrix(link)  # type: ignore[attr-defined]  # the QR holds the link
    assert h.get(key="members:name").get("value") in ("", None)  # ready for the next member
    # the test server's address is 127.0.0.1: no other phone can open that link, and the screen says so
    assert "chỉ mở được trên chính máy chủ" in h.get(key="members:made").text

    parsed = parse_enrolment(link)  # the camera app's link, pasted on the new member's enrol screen
    assert (parsed.server, parsed.code) == (team.server.url, code)
    lan = enrolled_store(tmp_path / "lan", parsed.server, parsed.code)
    assert (lan.role, lan.holder_name) == ("volunteer", "Nguyễn Thị Lan")
    sync(lan, team.leader)
    names = {d["device_id"]: d.get("name") for d in ServerApi(team.leader).team_devices()}
    assert names[lan.device_id] == "Nguyễn Thị Lan"
    assert "sự kiện" not in " ".join(h.texts())


class OfflineApi:
    def new_member(self, name: str, team: str | None = None) -> dict[str, Any]:
        raise Offline("no route to host")

    def __getattr__(self, name: str) -> Any:  # the other leader calls are not asked here
        raise AttributeError(name)


@on_sqlite
def test_offline_the_screen_says_so_and_keeps_the_name(team, make_harness, tmp_path) -> None:
    h = app(team, make_harness, tmp_path, api=OfflineApi())
    h.go("/review/members")
    h.change(h.get(key="members:name"), "Trần Văn Bình")
    h.click(h.get(key="members:make"))
    wait_for(h, lambda: h.exists(key="members:failed"))
    assert "Không kết nối được máy chủ" in h.get(key="members:failed").text
    assert h.get(key="members:name")["value"] == "Trần Văn Bình"
    assert not h.get(key="members:make").disabled


@on_sqlite
def test_the_review_queue_names_who_recorded_a_visit_without_opening_the_team_list(team, make_harness,
                                                                                   tmp_path) -> None:
    """Issue #13, item 2: the queue said "Máy 0190F2" until the leader had opened the team list."""
    lan = enrolled_store(tmp_path / "lan", team.server.url, team.server.code("volunteer", team=team.id,
                                                                              name="Nguyễn Thị Lan"))
    sync(lan)
    household = lan.add_household(team.hamlet, "Số 5, phố Lê Lợi", "given")
    visit = lan.record_visit(household, "not_home")
    sync(lan, team.leader)
    assert lan.device_id not in team.leader.device_names()  # nothing has told the leader's phone yet
    h = app(team, make_harness, tmp_path)
    open_review(h)
    wait_for(h, lambda: "Nguyễn Thị Lan" in h.get(key=f"visit:{visit}").text)
    assert "Máy " not in h.get(key=f"visit:{visit}").text
    assert team.leader.device_names()[lan.device_id] == "Nguyễn Thị Lan"  # kept for the queue offline
