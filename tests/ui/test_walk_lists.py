"""The leader's walk lists screen against a real server: a street given to a volunteer reaches
their phone under "Của tôi"; the hamlet split across the team; who holds what."""
from __future__ import annotations

from typing import Any

import flet as ft

from field_app.app import build_app
from field_app.views import leader, walk_lists

from .harness import wait_for
from .test_leader import engine, on_sqlite, open_review, sync, team

__all__ = ["engine", "team"]


@on_sqlite
def test_a_street_given_to_a_volunteer_and_the_hamlet_split(team, make_harness, tmp_path) -> None:
    anna = team.anna
    ids = {a: anna.add_household(team.hamlet, a, "given") for a in
           ("Số 2, phố Lê Lợi", "Số 4, phố Lê Lợi", "Số 1, phố Trần Phú", "Số 3, phố Trần Phú")}
    sync(anna, team.leader)
    def main(page: ft.Page) -> None:
        shell = build_app(page, role="leader", data_dir=tmp_path / "app")
        walk_lists.register(shell, leader.register(shell, store=team.leader))
        shell.render()

    h = make_harness(main, width=360, height=640)
    open_review(h)
    h.click(h.get(key="review:walk"))
    assert h.route == "/review/walk"
    wait_for(h, lambda: h.exists(key="walk:give"))
    assert h.get(key="walk:pool").text == "Chưa giao: 4 hộ"
    who, street = h.get(key="walk:who"), h.get(key="walk:street")
    assert {o["text"] for o in street["options"]} == {"phố Lê Lợi (2 hộ)", "phố Trần Phú (2 hộ)"}
    h.update_props(who, {"value": anna.device_id})
    h.update_props(street, {"value": "pho tran phu"})
    h.click(h.get(key="walk:give"))
    wait_for(h, lambda: h.exists(key=f"walk:holds:{anna.device_id}"))
    assert h.get(key=f"walk:holds:{anna.device_id}").text.endswith(": 2 hộ")
    assert h.get(key="walk:pool").text == "Chưa giao: 2 hộ"

    sync(team.leader, anna)  # the leader's assignments reach Anna's phone
    page = anna.households_search(team.hamlet)
    assert page.mine == 2
    assert [r.address for r in page.rows[:2]] == ["Số 1, phố Trần Phú", "Số 3, phố Trần Phú"]

    # split across the team: Anna and Bình get a stretch each, nobody left in the pool
    h.click(h.get(key="walk:split"))
    wait_for(h, lambda: h.get(key="walk:pool").text == "Chưa giao: 0 hộ")
    held = {d: h.get(key=f"walk:holds:{d}").text for d in (anna.device_id, team.binh.device_id)}
    assert all(text.endswith(": 2 hộ") for text in held.values())
    assert set(ids.values()) == {r.id for r in team.leader.households_search(team.hamlet).rows}
    assert "sự kiện" not in " ".join(h.texts())


@on_sqlite
def test_the_walk_sheet_is_printed_from_the_screen(team, make_harness, tmp_path) -> None:
    team.anna.add_household(team.hamlet, "Số 9, phố Lê Lợi", "given")
    sync(team.anna, team.leader)
    saved: dict[str, Any] = {}

    async def save_file(file_name: str, src_bytes: bytes, **kw: Any) -> str:
        saved.update(name=file_name, data=src_bytes)
        return f"/tmp/{file_name}"

    def main(page: ft.Page) -> None:
        shell = build_app(page, role="leader", data_dir=tmp_path / "app")
        walk = walk_lists.register(shell, leader.register(shell, store=team.leader))
        walk.downloads.file_picker().save_file = save_file  # type: ignore[method-assign]
        shell.render()

    h = make_harness(main, width=390, height=844)
    h.go("/review/walk")
    wait_for(h, lambda: h.exists(key="walk:print"))
    h.click(h.get(key="walk:print"))
    wait_for(h, lambda: "data" in saved)
    assert saved["name"].endswith(".pdf") and saved["data"].startswith(b"%PDF")
