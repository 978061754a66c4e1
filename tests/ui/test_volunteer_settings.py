"""Settings: language, the VNeID install QR codes, the scam warning, sign-out
(sends first; offline it says how many events would be lost and asks again)."""
from __future__ import annotations

from pathlib import Path

import flet as ft

from field_app.views.qr import VNEID_LINKS, qr_matrix, qr_png, read_png_modules

from ..store_support import household_list
from .harness import wait_for
from .volunteer import Taps, add_household, enrolled_dir, in_process_server, open_app, shell_of  # noqa: F401


def open_settings(make_harness, data: Path, **kw):
    h = open_app(make_harness, data, **kw)
    h.click(h.get(ft.NavigationBarDestination, text="Cài đặt"))
    return h


def test_language_switch_is_remembered_on_the_device(make_harness, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)
    h = open_settings(make_harness, data)
    h.click(h.get(ft.Radio, text="English"))
    assert [d["label"] for d in h.find(ft.NavigationBarDestination)] == ["Home", "Households", "Sync", "Settings"]
    assert h.exists(ft.Text, text="Beware of scams")
    assert shell_of(h).store.setting("language") == "en"
    h.close()
    again = open_app(make_harness, data)  # the next start keeps it
    assert again.exists(ft.Text, text="Hello!")


def test_the_official_vneid_links_as_qr_codes(make_harness, tmp_path: Path) -> None:
    h = open_settings(make_harness, enrolled_dir(tmp_path), width=360, height=640)
    image = h.get(key="settings.vneid_qr")
    play = VNEID_LINKS["google_play"]
    assert play == "https://play.google.com/store/apps/details?id=com.vnid"
    assert image["src"] == qr_png(play)  # PNG bytes made in memory: no network
    assert read_png_modules(image["src"]) == qr_matrix(play), "the picture holds the link"
    assert h.get(key="settings.vneid_link")["value"] == play
    Taps(h)(h.get(key="settings.store.app_store"))
    apple = "https://apps.apple.com/vn/app/vneid/id1582750311"
    assert h.get(key="settings.vneid_link")["value"] == apple
    assert read_png_modules(h.get(key="settings.vneid_qr")["src"]) == qr_matrix(apple)


def test_the_scam_warning(make_harness, tmp_path: Path) -> None:
    h = open_settings(make_harness, enrolled_dir(tmp_path))
    warning = h.get(key="settings.scam").text
    assert "Cảnh giác lừa đảo" in warning
    assert "Không bao giờ hỏi, đọc hay ghi lại mã OTP, mật khẩu hoặc mã khóa (passcode)" in warning
    assert "Chỉ cài VNeID từ Google Play hoặc App Store" in warning
    assert "Công an không bao giờ gọi điện đòi tiền, mã OTP" in warning


def test_sign_out_offline_with_unsent_events_asks_again(make_harness, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)  # its server is unreachable
    add_household(data, "Số 1, phố Hoà Bình", [{"label": "Nguyễn Văn An"}])
    h = open_settings(make_harness, data)
    store = shell_of(h).store
    assert store.pending_count() == 3
    h.click(h.get(key="settings.sign_out"))
    assert h.exists(ft.Text, text="Đăng xuất khỏi máy này?")
    h.click(h.get(key="settings.sign_out_cancel"))
    assert store.signed_in
    h.click(h.get(key="settings.sign_out"))
    h.click(h.get(key="settings.sign_out_confirm"))
    wait_for(h, lambda: h.exists(key="settings.unsent_body"))
    assert h.exists(ft.Text, text="Còn 1 hộ, 1 người, 1 thay đổi khác chưa gửi được")
    body = h.get(key="settings.unsent_body")["value"]
    assert body.startswith("Không có mạng") and "1 hộ, 1 người, 1 thay đổi khác chưa gửi sẽ bị xóa vĩnh viễn" in body
    assert h.get(key="settings.unsent_discard").text == "Xóa 1 hộ, 1 người, 1 thay đổi khác chưa gửi và đăng xuất"
    assert store.signed_in and store.pending_count() == 3, "nothing is lost without a second yes"
    h.click(h.get(key="settings.unsent_stay"))
    assert store.signed_in
    h.click(h.get(key="settings.sign_out"))
    h.click(h.get(key="settings.sign_out_confirm"))
    wait_for(h, lambda: h.exists(key="settings.unsent_body"))
    h.click(h.get(key="settings.unsent_discard"))
    wait_for(h, lambda: h.exists(ft.Text, text="Đăng ký máy này"))
    assert not store.signed_in and household_list(store) == [] and store.pending_count() == 0
    assert not h.exists(ft.NavigationBar)


def test_sign_out_online_sends_first(in_process_server, make_harness, tmp_path: Path) -> None:
    hamlet = in_process_server.hamlet()
    volunteer = in_process_server.code("volunteer", hamlets=(hamlet,))
    h = open_app(make_harness, tmp_path / "phone", http=in_process_server.client, server_url=in_process_server.url)
    h.change(h.get(key="enrol.code"), volunteer)
    h.click(h.get(key="enrol.submit"))
    wait_for(h, lambda: h.exists(ft.NavigationBar))
    store = shell_of(h).store
    h.click(h.get(ft.NavigationBarDestination, text="Đồng bộ"))
    h.click(h.get(key="sync.now"))  # the hamlet arrives
    wait_for(h, lambda: store.hamlets())
    store.add_household(hamlet, "Số 9, phố Lý Thường Kiệt", "given")
    h.click(h.get(ft.NavigationBarDestination, text="Cài đặt"))
    h.click(h.get(key="settings.sign_out"))
    h.click(h.get(key="settings.sign_out_confirm"))
    wait_for(h, lambda: h.exists(ft.Text, text="Đăng ký máy này"))
    assert not store.signed_in
    [row] = in_process_server.totals()["rows"]
    assert row["households"] == 1, "the household reached the server before the purge"
