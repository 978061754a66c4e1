"""The harness itself, on small apps: it must see exactly what a client sees."""
from __future__ import annotations

import asyncio

import flet as ft
import pytest

from .harness import AppCrashed, AppHarness


def counter_app(page: ft.Page) -> None:
    count = ft.Text("0", key="count")

    def plus(e: ft.ControlEvent) -> None:
        count.value = str(int(count.value) + 1)

    page.add(
        count,
        ft.Button("Thêm", key="plus", on_click=plus),
        ft.Button("Tắt", key="off", disabled=True, on_click=plus),
        ft.Text("không bấm được", key="plain"),
    )


def test_click_sends_a_small_patch(make_harness) -> None:
    h: AppHarness = make_harness(counter_app)
    assert h.get(key="count")["value"] == "0"
    before = len(h.messages)
    h.click(h.get(ft.Button, text="Thêm"))
    h.click(h.get(key="plus"))
    assert h.get(key="count")["value"] == "2"
    patches = [body for action, body in h.messages[before:] if action == "PATCH_CONTROL"]
    assert patches, "auto-update after the handler sent the change"
    # a value change travels as a small replace op, not a re-sent tree
    assert all(len(p["patch"]) <= 3 for p in patches)


def test_click_refuses_what_a_person_could_not_tap(make_harness) -> None:
    h = make_harness(counter_app)
    with pytest.raises(AssertionError, match="disabled"):
        h.click(h.get(key="off"))
    with pytest.raises(AssertionError, match="no on_click"):
        h.click(h.get(key="plain"))
    with pytest.raises(AssertionError, match="no control matches"):
        h.get(ft.Button, text="Không có")


def test_text_field_change_updates_python_value_then_fires(make_harness) -> None:
    seen: list[str] = []

    def app(page: ft.Page) -> None:
        echo = ft.Text("", key="echo")
        field = ft.TextField(label="Tên", key="name", on_change=lambda e: seen.append(e.data))

        def show(e: ft.ControlEvent) -> None:
            echo.value = f"Chào {field.value}"

        page.add(field, echo, ft.Button("Xem", on_click=show))

    h = make_harness(app)
    field = h.get(ft.TextField, text="Tên")
    h.change(field, "Nguyễn Thị Hoà")
    assert seen == ["Nguyễn Thị Hoà"]
    assert h.control(field).value == "Nguyễn Thị Hoà"
    h.click(h.get(ft.Button, text="Xem"))
    assert h.get(key="echo")["value"] == "Chào Nguyễn Thị Hoà"


def test_background_change_without_update_never_reaches_the_client(make_harness) -> None:
    def app(page: ft.Page) -> None:
        quiet = ft.Text("cũ", key="quiet")
        loud = ft.Text("cũ", key="loud")

        async def later() -> None:
            await asyncio.sleep(0.01)
            quiet.value = "mới"  # forgot quiet.update()
            loud.value = "mới"
            loud.update()

        page.add(quiet, loud, ft.Button("Chạy", on_click=lambda e: page.run_task(later)))

    h = make_harness(app)
    h.click(h.get(ft.Button, text="Chạy"))
    assert h.get(key="loud")["value"] == "mới"
    assert h.get(key="quiet")["value"] == "cũ"
    assert h.control(h.get(key="quiet")).value == "mới"  # Python side only


def test_app_exceptions_fail_the_test(make_harness) -> None:
    def app(page: ft.Page) -> None:
        def boom(e: ft.ControlEvent) -> None:
            raise ValueError("hỏng rồi")

        page.add(ft.Button("Hỏng", on_click=boom))

    h = make_harness(app)
    with pytest.raises(AppCrashed, match="hỏng rồi"):
        h.click(h.get(ft.Button, text="Hỏng"))


def test_client_method_answers(make_harness) -> None:
    def app(page: ft.Page) -> None:
        pasted = ft.Text("", key="pasted")

        async def paste(e: ft.ControlEvent) -> None:
            pasted.value = await ft.Clipboard().get()

        page.add(pasted, ft.Button("Dán", on_click=paste))

    h = make_harness(app)
    h.method_results["Clipboard.get"] = "0912 — không lưu số điện thoại!"
    h.click(h.get(ft.Button, text="Dán"))
    assert h.get(key="pasted")["value"] == "0912 — không lưu số điện thoại!"
    assert [i["name"] for i in h.invocations] == ["get"]


def test_dialogs_are_on_screen_only_while_open(make_harness) -> None:
    def app(page: ft.Page) -> None:
        dialog = ft.AlertDialog(
            title=ft.Text("Xác nhận"),
            actions=[ft.TextButton("Đóng", on_click=lambda e: page.pop_dialog())],
        )
        page.add(ft.Button("Mở", on_click=lambda e: page.show_dialog(dialog)))

    h = make_harness(app)
    assert not h.exists(ft.Text, text="Xác nhận")
    h.click(h.get(ft.Button, text="Mở"))
    assert h.exists(ft.Text, text="Xác nhận")
    h.click(h.get(ft.TextButton, text="Đóng"))
    assert not h.exists(ft.Text, text="Xác nhận")


def test_components_mode(make_harness) -> None:
    """Declarative @ft.component apps (hooks + the session's update
    scheduler) work too."""

    @ft.component
    def Counter() -> ft.Control:
        count, set_count = ft.use_state(0)
        return ft.Column(
            [
                ft.Text(f"Đã gõ {count} cửa", key="count"),
                ft.Button("Gõ", on_click=lambda e: set_count(count + 1)),
            ]
        )

    h = make_harness(lambda page: page.render(Counter))
    assert h.get(key="count")["value"] == "Đã gõ 0 cửa"
    h.click(h.get(ft.Button, text="Gõ"))
    h.click(h.get(ft.Button, text="Gõ"))
    assert h.get(key="count")["value"] == "Đã gõ 2 cửa"


def test_a_crash_in_main_fails_at_start(make_harness) -> None:
    def app(page: ft.Page) -> None:
        raise RuntimeError("main hỏng")

    with pytest.raises(AppCrashed, match="main hỏng"):
        make_harness(app)
