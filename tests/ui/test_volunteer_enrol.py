"""Enrol screen, against the real sync server (in process) and a dead address."""
from __future__ import annotations

from pathlib import Path

import flet as ft

from field_app.app_state import parse_enrolment

from .harness import wait_for
from .volunteer import in_process_server, open_app, shell_of  # noqa: F401  (in_process_server is a fixture)


def enrol_screen(h) -> None:
    assert h.top_view["route"] == "/enrol"
    assert not h.exists(ft.NavigationBar), "no tabs before enrolment"
    assert h.exists(ft.Text, text="Đăng ký máy này")


def test_a_fresh_install_shows_only_the_enrol_screen(make_harness, tmp_path: Path) -> None:
    h = open_app(make_harness, tmp_path / "new", width=360, height=640, server_url="http://10.0.0.5:8000")
    enrol_screen(h)
    assert h.get(key="enrol.server")["value"] == "http://10.0.0.5:8000"  # from --server
    h.go("/households")  # a deep link cannot get around it
    enrol_screen(h)
    # the language can be switched before anything else
    h.click(h.get(key="enrol.language"))
    assert h.exists(ft.Text, text="Enrol this phone")
    assert h.get(key="enrol.submit")["content"] == "Enrol"


def test_a_good_code_enrols_and_the_hamlet_arrives(in_process_server, make_harness, tmp_path: Path) -> None:
    hamlet = in_process_server.hamlet("Tổ dân phố 7")
    in_process_server.household(hamlet, "Số 3, ngõ 2, phố Quang Trung", ("Nguyễn Văn Ba", "Lê Thị Tư"))
    code = in_process_server.code("volunteer", hamlets=(hamlet,))
    h = open_app(make_harness, tmp_path / "phone", http=in_process_server.client, autosync=True,
                 server_url=in_process_server.url)
    h.change(h.get(key="enrol.code"), code.lower().replace("-", " "))  # case and spaces do not matter
    h.click(h.get(key="enrol.submit"))
    wait_for(h, lambda: h.exists(ft.NavigationBar))
    store = shell_of(h).store
    assert store.signed_in and store.role == "volunteer" and store.server_url == in_process_server.url
    assert [d["label"] for d in h.find(ft.NavigationBarDestination)] == ["Trang chủ", "Hộ dân", "Đồng bộ", "Cài đặt"]
    # the background sync pulls the hamlet and its household; home updates itself
    wait_for(h, lambda: h.exists(key="home.role") and "Tổ dân phố 7" in h.get(key="home.role")["value"])
    assert h.get(key="home.left")["value"] == "1"


def test_the_qr_link_fills_the_server_and_enrols(in_process_server, make_harness, tmp_path: Path) -> None:
    hamlet = in_process_server.hamlet()
    code = in_process_server.code("volunteer", hamlets=(hamlet,))
    link = f"gocua://enrol?server={in_process_server.url}&code={code}"
    h = open_app(make_harness, tmp_path / "phone", http=in_process_server.client)
    h.method_results["Clipboard.get"] = link
    h.click(h.get(key="enrol.paste"))
    assert h.get(key="enrol.server")["value"] == in_process_server.url
    h.click(h.get(key="enrol.submit"))
    wait_for(h, lambda: h.exists(ft.NavigationBar))


def test_a_deep_link_fills_the_form(make_harness, tmp_path: Path) -> None:
    """The phone's camera app opens gocua://enrol?server=…&code=… in the app."""
    h = open_app(make_harness, tmp_path / "phone",
                 route="/enrol?server=http%3A%2F%2F10.1.2.3%3A8000&code=ABCD-EFGH-JKMN")
    assert h.get(key="enrol.code")["value"] == "ABCD-EFGH-JKMN"
    assert h.get(key="enrol.server")["value"] == "http://10.1.2.3:8000"


def test_used_unknown_and_expired_codes_say_so(in_process_server, make_harness, tmp_path: Path) -> None:
    hamlet = in_process_server.hamlet()
    used = in_process_server.code("volunteer", hamlets=(hamlet,))
    in_process_server.client.post("/api/v1/enroll", json={"code": used})
    expired = in_process_server.code("volunteer", hamlets=(hamlet,), hours=-1)
    h = open_app(make_harness, tmp_path / "phone", http=in_process_server.client, server_url=in_process_server.url)
    for code, words in ((used, "Mã này đã được dùng. Xin tổ trưởng một mã mới."),
                        ("ABCD-EFGH-JKMN", "Mã đăng ký không đúng. Kiểm tra lại từng ký tự."),
                        (expired, "Mã này đã hết hạn. Xin tổ trưởng một mã mới."),
                        ("", "Hãy nhập mã đăng ký.")):
        h.change(h.get(key="enrol.code"), code)
        h.click(h.get(key="enrol.submit"))
        wait_for(h, lambda words=words: h.exists(key="enrol.error") and h.get(key="enrol.error_text")["value"] == words)
        enrol_screen(h)
    assert not shell_of(h).store.signed_in


def test_no_network_is_a_clear_error(make_harness, tmp_path: Path) -> None:
    h = open_app(make_harness, tmp_path / "phone", server_url="http://127.0.0.1:9")
    h.change(h.get(key="enrol.code"), "ABCD-EFGH-JKMN")
    h.click(h.get(key="enrol.submit"))
    wait_for(h, lambda: h.exists(key="enrol.error"))
    assert h.get(key="enrol.error_text")["value"].startswith("Không kết nối được máy chủ http://127.0.0.1:9.")
    assert not h.get(key="enrol.submit").disabled, "the volunteer can try again"
    h.change(h.get(key="enrol.server"), "not a url at all")
    h.click(h.get(key="enrol.submit"))
    wait_for(h, lambda: "Địa chỉ máy chủ không hợp lệ" in h.get(key="enrol.error_text")["value"])


def test_parse_enrolment() -> None:
    assert parse_enrolment(" abcd-efgh jkmn ").code == "ABCD-EFGHJKMN"
    link = parse_enrolment("gocua://enrol?server=http%3A%2F%2F192.168.1.10%3A8000%2F&code=ABCD-EFGH-JKMN")
    assert (link.server, link.code) == ("http://192.168.1.10:8000", "ABCD-EFGH-JKMN")
    assert parse_enrolment("ABCD-EFGH-JKMN").server is None


def test_the_name_typed_at_enrolment_is_kept_and_said(in_process_server, make_harness, tmp_path: Path) -> None:
    """Issue #13, item 1: the holder's name goes with the code; the answer's name is kept."""
    hamlet = in_process_server.hamlet()
    h = open_app(make_harness, tmp_path / "phone", http=in_process_server.client, server_url=in_process_server.url,
                 width=360, height=640)
    h.change(h.get(key="enrol.code"), in_process_server.code("volunteer", hamlets=(hamlet,)))
    h.change(h.get(key="enrol.name"), "x" * 61)  # what the field would stop: the rule still holds
    h.click(h.get(key="enrol.submit"))
    wait_for(h, lambda: h.get(key="enrol.error")["visible"])
    assert "tối đa 60 ký tự" in h.get(key="enrol.error_text")["value"]
    h.change(h.get(key="enrol.name"), "  Trần Thị  Mai ")
    h.click(h.get(key="enrol.submit"))
    wait_for(h, lambda: h.exists(ft.NavigationBar))
    assert shell_of(h).store.holder_name == "Trần Thị Mai"
    assert h.exists(ft.Text, text_contains="Tình nguyện viên · Trần Thị Mai")  # the snack bar


def test_a_code_made_with_a_name_names_the_phone(in_process_server, make_harness, tmp_path: Path) -> None:
    hamlet = in_process_server.hamlet()
    code = in_process_server.code("volunteer", hamlets=(hamlet,), name="Đỗ Văn Hùng")
    h = open_app(make_harness, tmp_path / "phone", http=in_process_server.client, server_url=in_process_server.url)
    h.change(h.get(key="enrol.code"), code)
    h.click(h.get(key="enrol.submit"))
    wait_for(h, lambda: h.exists(ft.NavigationBar))
    assert shell_of(h).store.holder_name == "Đỗ Văn Hùng"
