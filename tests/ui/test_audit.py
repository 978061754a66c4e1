"""The audit log screen against the real sync server in process (tests/ui/volunteer.py).

An officer views follow-up lists and exports the totals; each writes an audit row on the
server. An admin opens the log from Settings and sees them newest first, page by page, and
filters them; an officer sees their commune's; a volunteer is not offered the screen and, if
they open the route anyway, the server's 403 is said in words. Offline: a sentence and Retry.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import flet as ft
import pytest

from field_app.views import audit

from ..support import enrolled_store
from .harness import AppHarness, wait_for
from .test_volunteer_layout import check
from .volunteer import NOWHERE, WARD, device_store, in_process_server, open_app, shell_of  # noqa: F401


def enrolled(in_process_server: Any, path: Path, role: str, **scope: Any) -> Path:
    """A data dir enrolled at the in-process server (through its TestClient)."""
    enrolled_store(path, in_process_server.url, in_process_server.code(role, **scope),
                   http=in_process_server.client).close()
    return path


def officer_work(in_process_server: Any) -> list[str]:
    """An officer of Phường Hải Dương reads and exports: the actions, oldest first."""
    officer = in_process_server.enrol("officer", commune=WARD)
    done = []
    for path, params, action in [
        ("/api/v1/followup", {"list": "card_capture"}, "followup.view"),
        ("/api/v1/exports/totals.csv", {}, "export.totals.csv"),
        ("/api/v1/followup", {"list": "revisit"}, "followup.view"),
        ("/api/v1/followup", {"list": "activation", "format": "csv"}, "followup.download"),
        ("/api/v1/exports/totals.csv", {}, "export.totals.csv"),
        ("/api/v1/followup", {"list": "level2"}, "followup.view"),
    ]:
        answer = in_process_server.client.get(path, params={"commune": WARD, **params}, headers=officer.headers)
        assert answer.status_code == 200, answer.text
        done.append(action)
    return done


def entry_keys(h: AppHarness) -> list[int]:
    listed = h.get(key="audit.list")
    return [int(c.key.rsplit(".", 1)[1]) for c in listed.children() if str(c.key).startswith("audit.entry.")]


def open_from_settings(h: AppHarness) -> None:
    h.click(h.get(key="settings.audit"))
    assert h.route == audit.SETTINGS_ROUTE
    wait_for(h, lambda: not h.exists(key="audit.loading"))


def test_an_admin_sees_the_log_newest_first_and_pages(in_process_server, make_harness, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(audit, "PAGE", 4)  # six rows: two pages
    in_process_server.hamlet("Tổ dân phố 2")
    done = officer_work(in_process_server)
    admin = enrolled(in_process_server, tmp_path / "admin", "admin")
    h = open_app(make_harness, admin, http=in_process_server.client, route="/settings", width=360, height=640)
    open_from_settings(h)
    assert h.get(ft.AppBar).text.startswith("Nhật ký truy cập")

    first = entry_keys(h)
    assert len(first) == 4 and first == sorted(first, reverse=True)
    newest = h.get(key=f"audit.entry.{first[0]}").text
    for words in ("Xem danh sách theo dõi", "Danh sách: Cần đăng ký định danh mức 2", "Công an cấp xã · Máy ",
                  "Phường Hải Dương · toàn xã/phường", "vừa xong"):
        assert words in newest, (words, newest)
    second = h.get(key=f"audit.entry.{first[1]}").text
    assert "Xuất bảng tổng hợp (CSV)" in second and "CSV" in second
    assert h.exists(key="audit.more") and not h.exists(key="audit.end")

    h.click(h.get(key="audit.more"))
    wait_for(h, lambda: h.exists(key="audit.end"))
    everything = entry_keys(h)
    assert everything[:4] == first and len(everything) == len(done)
    assert everything == sorted(everything, reverse=True)  # older ones below, none twice
    assert not h.exists(key="audit.more")
    assert h.get(key="audit.end")["value"] == "Đã hiện hết: 6 mục."
    assert "Xem danh sách theo dõi" in h.get(key=f"audit.entry.{everything[-1]}").text  # the first thing done

    # filter by the kind of action: the server filters, the screen starts over
    kinds = h.get(key="audit.filter.action")
    h.update_props(kinds, {"value": "export"})
    h.event(kinds, "select", "export")
    wait_for(h, lambda: h.exists(key="audit.end"))
    exports = entry_keys(h)
    assert len(exports) == 2 and all("Xuất bảng tổng hợp" in h.get(key=f"audit.entry.{i}").text for i in exports)
    # and by commune: the ward's rows are there, another commune has none
    communes = h.get(key="audit.filter.commune")
    assert [o["text"] for o in communes["options"]] == ["Tất cả xã/phường", "Phường Hải Dương"]
    h.update_props(communes, {"value": "10813"})
    h.event(communes, "select", "10813")
    wait_for(h, lambda: h.exists(key="audit.empty"))
    assert entry_keys(h) == []
    assert shell_of(h).ui["audit.action"] == "export"

    # Back returns to Settings
    h.back()
    assert h.route == "/settings" and h.exists(key="settings.audit")


def test_an_officer_reads_their_commune_only(in_process_server, make_harness, tmp_path) -> None:
    in_process_server.hamlet("Tổ dân phố 4")
    officer_work(in_process_server)
    path = enrolled(in_process_server, tmp_path / "officer", "officer", commune=WARD)
    h = open_app(make_harness, path, http=in_process_server.client, route="/settings")
    open_from_settings(h)
    assert h.get(key="audit.filter.commune_fixed").text == "Nhật ký của Phường Hải Dương"
    assert not h.exists(key="audit.filter.commune")
    assert len(entry_keys(h)) == 6 and h.exists(key="audit.end")


def test_a_volunteer_is_not_offered_the_log_and_the_server_refuses_it(in_process_server, make_harness, tmp_path) -> None:
    hamlet = in_process_server.hamlet("Tổ dân phố 5")
    path = enrolled(in_process_server, tmp_path / "volunteer", "volunteer", hamlets=(hamlet,))
    h = open_app(make_harness, path, http=in_process_server.client, route="/settings")
    assert h.exists(key="settings.language") and not h.exists(key="settings.audit")
    h.go(audit.ROUTE)  # a typed or bookmarked link
    wait_for(h, lambda: h.exists(key="audit.error"))
    assert h.get(key="audit.error")["value"] == ("Máy này không được xem nhật ký truy cập: chỉ quản trị viên "
                                                  "và công an cấp xã xem được.")
    assert entry_keys(h) == [] and not h.exists(key="audit.more")


def test_offline_it_says_so_and_retry_works(in_process_server, make_harness, tmp_path) -> None:
    in_process_server.hamlet("Tổ dân phố 6")
    officer_work(in_process_server)
    path = enrolled(in_process_server, tmp_path / "admin", "admin")
    with device_store(path) as store:  # the server's address as the phone knows it: unreachable today
        token, device_id, scope = store.token, store.device_id, store.scope
        store.enrol(NOWHERE, device_id, token, "admin", scope)
    h = open_app(make_harness, path, route="/settings")
    open_from_settings(h)
    assert h.get(key="audit.error")["value"].startswith("Không kết nối được máy chủ. Nhật ký chỉ xem được khi có mạng")
    assert h.exists(key="audit.retry") and entry_keys(h) == []
    shell_of(h).store.enrol(in_process_server.url, device_id, token, "admin", scope)  # the network is back
    shell_of(h).device.http = in_process_server.client
    h.click(h.get(key="audit.retry"))
    wait_for(h, lambda: h.exists(key="audit.end") or h.exists(key="audit.more"))
    assert len(entry_keys(h)) == 6 and not h.exists(key="audit.error")


@pytest.mark.parametrize("width, height", [(390, 844), (360, 640)])
def test_the_screen_fits_a_phone_in_english(in_process_server, make_harness, tmp_path, width, height) -> None:
    in_process_server.hamlet("Tổ dân phố 8")
    officer_work(in_process_server)
    path = enrolled(in_process_server, tmp_path / "admin", "admin")
    h = open_app(make_harness, path, http=in_process_server.client, route="/settings", width=width, height=height,
                 language="en")
    open_from_settings(h)
    newest = h.get(key=f"audit.entry.{entry_keys(h)[0]}").text
    assert "Viewed a follow-up list" in newest and "List: Needs level-2 registration" in newest
    assert "Commune police · Device " in newest
    check(h, f"the audit log at {width}x{height}")
    h.go("/settings")
    check(h, "Settings with the audit tile")
