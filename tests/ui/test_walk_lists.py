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


@on_sqlite
def test_households_picked_and_a_run_of_numbers_given_then_taken_back(team, make_harness, tmp_path) -> None:
    anna, binh = team.anna, team.binh
    ids = {a: anna.add_household(team.hamlet, a, "given") for a in
           ("Số 2, phố Lê Lợi", "Số 12, phố Lê Lợi", "Số 12A, phố Lê Lợi", "Số 14, ngõ 5, phố Lê Lợi",
            "Số 20, phố Lê Lợi", "Số 22, phố Lê Lợi", "Số 1, phố Trần Phú")}
    sync(anna, team.leader)

    def main(page: ft.Page) -> None:
        shell = build_app(page, role="leader", data_dir=tmp_path / "app")
        walk_lists.register(shell, leader.register(shell, store=team.leader))
        shell.render()

    h = make_harness(main, width=390, height=844)
    h.go("/review/walk")
    wait_for(h, lambda: h.exists(key="walk:give_selected"))
    assert h.get(key="walk:give_selected").disabled  # nothing picked yet
    # pick two households of phố Lê Lợi (the street picker's first) and give them to Bình
    h.update_props(h.get(key="walk:who"), {"value": binh.device_id})
    for address in ("Số 2, phố Lê Lợi", "Số 14, ngõ 5, phố Lê Lợi"):
        h.change(h.get(key=f"walk:pick:{ids[address]}"), True)
    assert h.get(key="walk:give_selected").text == "Giao 2 hộ đã chọn"
    h.click(h.get(key="walk:give_selected"))
    wait_for(h, lambda: h.exists(key=f"walk:holds:{binh.device_id}"))
    assert h.get(key=f"walk:holds:{binh.device_id}").text.endswith(": 2 hộ")

    # a run of numbers on the street itself: 12 to 20 takes 12, 12A and 20, not house 14 of ngõ 5
    way = h.get(key="walk:way")
    options = {o["text"]: o["key"] for o in way["options"]}
    assert set(options) == {"phố Lê Lợi (5 hộ)", "ngõ 5, phố Lê Lợi (1 hộ)", "phố Trần Phú (1 hộ)"}
    h.update_props(way, {"value": options["phố Lê Lợi (5 hộ)"]})
    h.update_props(h.get(key="walk:who"), {"value": anna.device_id})
    h.change(h.get(key="walk:from"), "mười hai")  # not a number: said, nothing given
    h.change(h.get(key="walk:to"), "Số 20")
    h.click(h.get(key="walk:give_range"))
    assert h.get(key="walk:range_said").text == "“mười hai” không phải số nhà. Ghi như: 12, 12A hoặc Số 12A."
    assert team.leader.households_search(team.hamlet).mine == 0
    assert not h.exists(key=f"walk:holds:{anna.device_id}")
    h.change(h.get(key="walk:from"), "số 12")
    h.click(h.get(key="walk:give_range"))
    wait_for(h, lambda: h.exists(key=f"walk:holds:{anna.device_id}"))
    held = {r.address: r.assigned_to for r in team.leader.households_search(team.hamlet, limit=100).rows}
    assert [a for a, who in held.items() if who == anna.device_id] == \
        ["Số 12, phố Lê Lợi", "Số 12A, phố Lê Lợi", "Số 20, phố Lê Lợi"]
    assert h.get(key="walk:pool").text == "Chưa giao: 2 hộ"

    # reassign one of Anna's to Bình, then take one of Bình's back to the pool: who holds what follows
    h.update_props(h.get(key="walk:who"), {"value": binh.device_id})
    h.change(h.get(key=f"walk:pick:{ids['Số 20, phố Lê Lợi']}"), True)
    h.click(h.get(key="walk:give_selected"))
    wait_for(h, lambda: h.get(key=f"walk:holds:{binh.device_id}").text.endswith(": 3 hộ"))
    assert h.get(key=f"walk:holds:{anna.device_id}").text.endswith(": 2 hộ")
    h.update_props(h.get(key="walk:who"), {"value": walk_lists.POOL})
    h.change(h.get(key=f"walk:pick:{ids['Số 2, phố Lê Lợi']}"), True)
    h.click(h.get(key="walk:give_selected"))
    wait_for(h, lambda: h.get(key="walk:pool").text == "Chưa giao: 3 hộ")
    assert h.get(key=f"walk:holds:{binh.device_id}").text.endswith(": 2 hộ")

    sync(team.leader, binh)  # Bình's phone opens on the two it holds now
    page = binh.households_search(team.hamlet)
    assert page.mine == 2
    assert {r.address for r in page.rows[:2]} == {"Số 14, ngõ 5, phố Lê Lợi", "Số 20, phố Lê Lợi"}
