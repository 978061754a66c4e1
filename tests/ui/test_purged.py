"""After the retention purge: the app says the campaign is over, then offers the enrol form.

Against the real sync server in process (tests/ui/volunteer.py): the campaign of Phường Hải
Dương ends, `gocua-server purge` runs (its store functions), and the next sync of the device is
told `410 purged`. Every open session of the device (two browser tabs on one web-mode process)
leaves its screen for the message; the message comes back after a restart; "Đăng ký cho đợt
mới" shows the form, and a new code starts over.
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import flet as ft

from campaign.time import local_date, now
from field_app.signout import purge_notice
from sync_server.services import purge
from sync_server.store.db import read_transaction, write_transaction

from .harness import wait_for
from .test_volunteer_layout import check
from .volunteer import WARD, in_process_server, open_app, shell_of  # noqa: F401


def end_and_purge(in_process_server) -> None:  # type: ignore[no-untyped-def]
    """The campaign ended 40 days ago and kept its data 30: `gocua-server purge` is due."""
    ends = local_date(now()) - timedelta(days=40)
    answer = in_process_server.client.put(f"/api/v1/campaigns/{WARD}", headers=in_process_server.admin.headers, json={
        "name": "Chiến dịch 2026", "target_kind": "percent", "target_value": 80,
        "start": (ends - timedelta(days=90)).isoformat(), "deadline": (ends - timedelta(days=5)).isoformat(),
        "ends": ends.isoformat(), "retention_days": 30})
    assert answer.status_code == 200, answer.text
    with read_transaction(in_process_server.engine) as conn:
        [campaign] = purge.due(conn)
    with write_transaction(in_process_server.engine) as conn:
        assert purge.purge(conn, campaign).devices
    purge.compact(in_process_server.engine)


def test_the_message_then_the_enrol_form_in_every_tab(in_process_server, make_harness, tmp_path: Path) -> None:
    hamlet = in_process_server.hamlet()
    hid, (ba,) = in_process_server.household(hamlet, "Số 3, phố Quang Trung", ("Nguyễn Văn Ba",), "given")
    phone = tmp_path / "phone"
    h = open_app(make_harness, phone, http=in_process_server.client, server_url=in_process_server.url)
    h.change(h.get(key="enrol.code"), in_process_server.code("volunteer", hamlets=(hamlet,)))
    h.click(h.get(key="enrol.submit"))
    wait_for(h, lambda: h.exists(ft.NavigationBar))
    h.click(h.get(ft.NavigationBarDestination, text="Đồng bộ"))
    h.click(h.get(key="sync.now"))
    wait_for(h, lambda: shell_of(h).store.household(hid) is not None
             and h.get(key="sync.state")["value"] == "Đã đồng bộ xong")
    # a second tab of the same web-mode process, on a small phone
    other = open_app(make_harness, phone, http=in_process_server.client, width=360, height=640)
    assert shell_of(other).device is shell_of(h).device
    other.click(other.get(ft.NavigationBarDestination, text="Cài đặt"))
    other.click(other.get(key="settings.sign_out"))  # a dialog open when the purge arrives
    assert other.get(key="settings.sign_out_confirm").visible

    end_and_purge(in_process_server)
    shell_of(h).store.update_person(ba, vneid="l1_active")  # made after the purge: it can never be delivered
    h.click(h.get(key="sync.now"))

    wait_for(h, lambda: h.exists(key="purge.title"))
    assert h.get(key="purge.title")["value"] == "Chiến dịch đã kết thúc"
    body = h.get(key="purge.body")["value"]
    assert body.startswith("Chiến dịch ở Phường Hải Dương đã kết thúc và hết thời hạn lưu trữ; "
                           "dữ liệu cá nhân đã được xóa khỏi máy này vào "), body
    assert h.get(key="purge.dropped")["value"].startswith("1 thay đổi chưa kịp gửi cũng đã bị xóa")
    assert h.get(key="purge.server_at")["value"].startswith("Máy chủ đã xóa dữ liệu cá nhân của chiến dịch vào ")
    assert not h.exists(ft.NavigationBar) and not h.exists(key="enrol.code")
    check(h, "the purge notice")
    assert "Nguyễn Văn Ba" not in " ".join(h.texts()) and "Quang Trung" not in " ".join(h.texts())
    # the other tab, on another screen, was told as well
    wait_for(other, lambda: other.exists(key="purge.title"))
    assert not other.exists(ft.NavigationBar)
    assert not other.exists(key="settings.sign_out_confirm")  # the app's dialog went with the app
    check(other, "the purge notice at 360x640")
    store = shell_of(h).store
    assert not store.signed_in and store.household(hid) is None and purge_notice(store).dropped == 1

    # then the enrol screen, for new work, with a one-line reminder
    h.click(h.get(key="purge.continue"))
    assert h.exists(key="enrol.code") and h.exists(key="enrol.submit")
    assert h.get(key="enrol.purge_reminder").text.startswith(
        "Dữ liệu của chiến dịch ở Phường Hải Dương đã được xóa khỏi máy này vào ")
    assert h.get(key="enrol.server")["value"] == in_process_server.url  # the same server, for the next code
    check(h, "the enrol form after a purge")
    assert other.exists(key="purge.title")  # each tab reads it for itself

    # a restart tells it again
    h.close()
    other.close()
    again = open_app(make_harness, phone, http=in_process_server.client, language="en")
    assert again.get(key="purge.title")["value"] == "The campaign is over"
    assert again.get(key="purge.body")["value"].startswith("The campaign in Phường Hải Dương is over")
    again.click(again.get(key="purge.continue"))

    # a new code: new work, and the notice has been read
    again.change(again.get(key="enrol.code"), in_process_server.code("volunteer", hamlets=(hamlet,)))
    again.click(again.get(key="enrol.submit"))
    wait_for(again, lambda: again.exists(ft.NavigationBar))
    assert purge_notice(shell_of(again).store) is None
