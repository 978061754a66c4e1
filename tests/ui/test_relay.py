"""The sealed relay on the sync screen (issue #15), through the real server in process: the
volunteer's "Gửi nhờ" hands the sealed file to the save dialog and keeps its visits pending; a
carrier picks the file, uploads it, is told whose visits were delivered and saves the receipt;
the carrier's data directory holds nothing of the bundle; the receipt opened on the volunteer's
phone settles the visits ("Đã gửi hết"). Wrong files get their own sentence and change nothing."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import flet as ft

from campaign import relay as fmt
from field_app.views.models.relay import short_id

from .harness import AppHarness, wait_for
from .volunteer import InProcessServer, in_process_server, open_app, shell_of  # noqa: F401

ADDRESS = "Số 23, hẻm Bồ Đề Relay"
LABEL = "Vương Thị Thuý Relay"
NOTE_TEXT = "Hẹn chiều thứ Bảy quay lại"


def enrolled(make_harness: Any, server: InProcessServer, path: Path, hamlet: str, **kw: Any) -> AppHarness:
    h = open_app(make_harness, path, http=server.client, server_url=server.url, **kw)
    h.change(h.get(key="enrol.code"), server.code("volunteer", hamlets=(hamlet,)))
    h.click(h.get(key="enrol.submit"))
    wait_for(h, lambda: h.exists(ft.NavigationBar))
    return h


def saved(h: AppHarness) -> list[dict[str, Any]]:
    """What went to the save dialog (a desktop's; a browser's download)."""
    return [call["args"] for call in h.invocations if call["name"] == "save_file"]


def shared(h: AppHarness) -> list[dict[str, Any]]:
    """The files handed to a phone's share sheet, each {"name", "data", ...}."""
    return [file for call in h.invocations if call["name"] == "share_files" for file in call["args"]["files"]]


def pick(h: AppHarness, key: str, name: str, data: bytes) -> None:
    """The person chooses `name` in the file dialog the button `key` opens."""
    h.method_results["FilePicker.pick_files"] = [{"id": 1, "name": name, "size": len(data), "bytes": list(data)}]
    h.click(h.get(key=key))


def files_hold(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_send_through_someone_carry_and_the_receipt_back(in_process_server: InProcessServer,
                                                         make_harness: Any, tmp_path: Path) -> None:
    server = in_process_server
    hamlet = server.hamlet()
    volunteer = enrolled(make_harness, server, tmp_path / "volunteer", hamlet, width=360, height=640)
    volunteer.click(volunteer.get(ft.NavigationBarDestination, text="Đồng bộ"))
    volunteer.click(volunteer.get(key="sync.now"))
    wait_for(volunteer, lambda: volunteer.get(key="sync.state")["value"] == "Đã đồng bộ xong")
    store = shell_of(volunteer).store
    household = store.add_household(hamlet, ADDRESS, "given")
    person = store.add_person(household, LABEL, 1988)
    store.record_visit(household, "met", ["activation_help"], [person], note=NOTE_TEXT)
    shell_of(volunteer).render()
    wait_for(volunteer, lambda: volunteer.exists(key="relay.send"))
    # a phone: the share sheet (Zalo, Bluetooth, e-mail …)
    volunteer.method_results["Share.share_files"] = {"status": "success", "raw": "com.zing.zalo"}
    volunteer.click(volunteer.get(key="relay.send"))
    wait_for(volunteer, lambda: shared(volunteer))
    [file] = shared(volunteer)
    bundle = {"file_name": file["name"], "src_bytes": bytes(file["data"])}
    data: bytes = bundle["src_bytes"]
    header = fmt.read_bundle(data)
    first, last = header["seq_from"], header["seq_to"]
    device = short_id(store.device_id)
    assert bundle["file_name"] == f"gocua-gui-nho-{device}-{first}-{last}.gocua"
    assert LABEL.encode() not in data and ADDRESS.encode() not in data
    wait_for(volunteer, lambda: volunteer.exists(ft.Text, text=f"Đã chuyển tệp {bundle['file_name']}."))
    assert volunteer.get(key="relay.sealed")["value"].startswith(
        f"Đã đóng gói 1 lượt thăm, 1 hộ, 1 người (thay đổi số {first} đến {last}) vào tệp {bundle['file_name']}.")
    assert volunteer.get(key="sync.pending")["value"] == "Chờ gửi: 1 lượt thăm, 1 hộ, 1 người"  # until the receipt

    # the carrier (another enrolled app) takes the file to the server
    carrier_dir = tmp_path / "carrier"
    carrier = enrolled(make_harness, server, carrier_dir, hamlet, platform="linux")  # a laptop: the save dialog
    carrier.click(carrier.get(ft.NavigationBarDestination, text="Đồng bộ"))
    pick(carrier, "relay.carry", bundle["file_name"], data)
    wait_for(carrier, lambda: carrier.exists(key="relay.save_receipt"))
    assert carrier.get(key="relay.carried")["value"] == (
        f"Máy chủ đã nhận {last - first + 1} thay đổi của Máy {device}. "
        "Gửi lại cùng tệp lần nữa cũng không sao: không bị tính hai lần.")
    [row] = server.totals()["rows"]
    assert row["visited"] == 1 and row["actions"].get("activation_help") == 1
    carrier.method_results["FilePicker.save_file"] = lambda args: "/home/leader/" + args["file_name"]
    carrier.click(carrier.get(key="relay.save_receipt"))
    wait_for(carrier, lambda: saved(carrier))
    [receipt] = saved(carrier)
    assert receipt["file_name"] == f"gocua-bien-nhan-{device}-{last}.gocua"
    # the carrier kept nothing of the bundle: not the file, not a personal field, in no file of its data dir
    for needle in (data, header["sealed"].encode(), LABEL.encode(), ADDRESS.encode(), NOTE_TEXT.encode()):
        assert files_hold(carrier_dir, needle) == []
    assert files_hold(tmp_path / "volunteer", header["sealed"].encode()) == []  # not kept by its maker either

    # a wrong file on each side: its sentence, nothing changes
    pick(carrier, "relay.carry", "bien-nhan.gocua", receipt["src_bytes"])
    wait_for(carrier, lambda: carrier.get(key="relay.carried")["value"].startswith("Đây là biên nhận"))
    pick(volunteer, "relay.open_receipt", bundle["file_name"], data)
    wait_for(volunteer, lambda: volunteer.get(key="relay.receipt")["value"].startswith("Đây là tệp gửi nhờ"))
    assert store.pending_count() == last - store.acked_seq > 0

    # back on the volunteer's phone: the receipt settles the visits
    pick(volunteer, "relay.open_receipt", receipt["file_name"], receipt["src_bytes"])
    wait_for(volunteer, lambda: volunteer.get(key="sync.pending")["value"] == "Đã gửi hết")
    assert volunteer.get(key="relay.receipt")["value"] == "Máy chủ đã nhận 1 lượt thăm, 1 hộ, 1 người."
    assert store.pending_count() == 0 and store.acked_seq == last
    assert not volunteer.exists(key="relay.sealed")  # "they stay pending" no longer true: gone
    assert not volunteer.exists(key="relay.send")  # nothing left to send


def test_a_tampered_file_is_refused_in_words(in_process_server: InProcessServer,
                                             make_harness: Any, tmp_path: Path) -> None:
    server = in_process_server
    hamlet = server.hamlet()
    carrier = enrolled(make_harness, server, tmp_path / "carrier", hamlet)
    carrier.click(carrier.get(ft.NavigationBarDestination, text="Đồng bộ"))
    pick(carrier, "relay.carry", "anh.jpg", b"\xff\xd8\xff\xe0 not a bundle")
    wait_for(carrier, lambda: carrier.exists(key="relay.carried"))
    assert carrier.get(key="relay.carried")["value"] == "Tệp này không phải tệp gửi nhờ của Gõ Cửa, hoặc đã bị hỏng."
    assert not carrier.exists(key="relay.save_receipt")


def test_nothing_pending_no_send_button(in_process_server: InProcessServer,
                                        make_harness: Any, tmp_path: Path) -> None:
    hamlet = in_process_server.hamlet()
    h = enrolled(make_harness, in_process_server, tmp_path / "phone", hamlet)
    h.click(h.get(ft.NavigationBarDestination, text="Đồng bộ"))
    assert not h.exists(key="relay.send")
    assert h.exists(key="relay.open_receipt") and h.exists(key="relay.carry")
