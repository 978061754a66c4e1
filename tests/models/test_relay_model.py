"""The sealed relay's screen logic (field_app/views/models/relay.py), no Flet: "Gửi nhờ" seals
and settles nothing; a carrier's upload delivers once, says so in words, refuses a tampered or
misplaced file with a sentence and keeps nothing of it; a receipt carried back settles the visits,
and a wrong file changes nothing. Against the real server in process (SQLite, TestClient)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from campaign import relay as fmt
from field_app.net.server_api import ServerApi
from field_app.net.sync import SyncClient
from field_app.store import Work
from field_app.views.models import relay as model

from ..support import enrolled_store
from ..ui.volunteer import InProcessServer, in_process_server  # noqa: F401

ADDRESS = "Số 17, ngõ Hoa Sữa"
LABEL = "Đặng Thị Quỳnh Relay"


def _phones(server: InProcessServer, tmp_path: Path) -> tuple[Any, Any, str]:
    hamlet = server.hamlet()
    phone = enrolled_store(tmp_path / "phone.db", server.url, server.code("volunteer", hamlets=(hamlet,)),
                           http=server.client)
    SyncClient(phone, client=server.client).sync_once()  # the hamlet comes down; then out of reach
    carrier = enrolled_store(tmp_path / "carrier.db", server.url, server.code("volunteer", hamlets=(hamlet,)),
                             http=server.client)
    return phone, carrier, hamlet


def test_seal_carry_and_the_receipt_back(in_process_server: InProcessServer, tmp_path: Path) -> None:  # noqa: F811
    phone, carrier, hamlet = _phones(in_process_server, tmp_path)
    household = phone.add_household(hamlet, ADDRESS)
    phone.add_person(household, LABEL, 1990)
    phone.record_visit(household, "met", [], [])
    sealed = model.seal(phone)
    assert sealed is not None
    first, last = sealed.seq_from, sealed.seq_to
    assert sealed.filename == f"gocua-gui-nho-{model.short_id(phone.device_id)}-{first}-{last}.gocua"
    assert sealed.work == Work(visits=1, households=1, people=1)
    assert sealed.summary().startswith(f"Đã đóng gói 1 lượt thăm, 1 hộ, 1 người (thay đổi số {first} đến {last}) "
                                       "vào tệp ")
    assert phone.pending_count() == last - phone.acked_seq  # nothing settled by making it

    api = ServerApi(carrier, client=in_process_server.client)
    # the receipt step given the bundle: its own sentence, nothing changes
    wrong = model.take_receipt(phone, sealed.data)
    assert not wrong.ok and wrong.text.startswith("Đây là tệp gửi nhờ, không phải biên nhận")
    carried = model.carry(api, carrier, sealed.data)
    assert carried.ok, carried.text
    short = model.short_id(phone.device_id)
    assert carried.text.startswith(f"Máy chủ đã nhận {last - first + 1} thay đổi của Máy {short}.")
    assert carried.receipt is not None and carried.receipt_filename == f"gocua-bien-nhan-{short}-{last}.gocua"
    # carried twice: harmless, the same receipt
    again = model.carry(api, carrier, sealed.data)
    assert again.ok and again.receipt == carried.receipt
    # the upload step given the receipt: its own sentence
    misplaced = model.carry(api, carrier, carried.receipt)
    assert not misplaced.ok and misplaced.text.startswith("Đây là biên nhận, không phải tệp gửi nhờ")
    # another phone's receipt is not this one's
    other = model.take_receipt(carrier, carried.receipt)
    assert not other.ok and other.text == "Biên nhận này là của máy khác, không phải của máy này."
    # a receipt changed by one digit: refused, nothing settled
    forged = carried.receipt.replace(f'"acked_seq":{last}'.encode(), f'"acked_seq":{last - 1}'.encode())
    assert forged != carried.receipt
    bad = model.take_receipt(phone, forged)
    assert not bad.ok and bad.text.startswith("Biên nhận không khớp chữ ký của máy chủ")
    assert phone.pending_count() > 0
    taken = model.take_receipt(phone, carried.receipt)
    assert taken.ok and taken.text == "Máy chủ đã nhận 1 lượt thăm, 1 hộ, 1 người."
    assert phone.pending_count() == 0 and phone.acked_seq == last
    assert model.seal(phone) is None
    assert model.take_receipt(phone, carried.receipt).text.startswith("Biên nhận này không có gì mới")
    [row] = in_process_server.totals()["rows"]
    assert row["visited"] == 1


def test_a_tampered_bundle_is_refused_whole_in_words(in_process_server: InProcessServer,  # noqa: F811
                                                      tmp_path: Path) -> None:
    phone, carrier, hamlet = _phones(in_process_server, tmp_path)
    phone.add_household(hamlet, ADDRESS)
    sealed = model.seal(phone)
    assert sealed is not None
    header = fmt.read_bundle(sealed.data)
    sealed_field = header["sealed"]
    flipped = sealed_field[:10] + ("A" if sealed_field[10] != "A" else "B") + sealed_field[11:]
    tampered = sealed.data.replace(sealed_field.encode(), flipped.encode())
    api = ServerApi(carrier, client=in_process_server.client)
    refused = model.carry(api, carrier, tampered)
    assert not refused.ok and refused.receipt is None
    assert refused.text == (f"Máy chủ không nhận tệp của Máy {model.short_id(phone.device_id)}, không lưu gì "
                            "từ tệp: Tệp gửi nhờ bị hỏng hoặc đã bị sửa, nên không được nhận. "
                            "Hãy xin người gửi tạo tệp mới.")
    assert in_process_server.totals()["rows"][0]["households"] == 0
    junk = model.carry(api, carrier, b"not a bundle")
    assert not junk.ok and junk.text.startswith("Tệp này không phải tệp gửi nhờ của Gõ Cửa")


def test_a_phone_without_relay_keys_is_told_to_sync_once(tmp_path: Path) -> None:
    from ..support import offline_store

    phone = offline_store(tmp_path / "phone.db")
    with pytest.raises(Exception) as caught:
        model.seal(phone)
    assert model.seal_failure(caught.value) == "Máy này chưa có khoá gửi nhờ: cần đồng bộ trực tiếp một lần khi có mạng."


@pytest.mark.parametrize(("name", "first", "last"), [("3f2a9c10-aaaa-4bbb-8ccc-000000000001", 12, 40)])
def test_file_names(name: str, first: int, last: int) -> None:
    assert model.bundle_name(name, first, last) == "gocua-gui-nho-3F2A9C-12-40.gocua"
    assert model.receipt_name(name, last) == "gocua-bien-nhan-3F2A9C-40.gocua"


def test_a_leader_carrier_names_the_volunteer_and_a_long_wait_takes_two_files(
        in_process_server: InProcessServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    from sync_server.services import team as teams

    server = in_process_server
    hamlet = server.hamlet()
    with server.engine.begin() as conn:
        teams.create_team(conn, "t1", "Tổ t1", "10525", [hamlet])
    phone = enrolled_store(tmp_path / "phone.db", server.url,
                           server.code("volunteer", team="t1", name="Nguyễn Thị Lan"), http=server.client)
    SyncClient(phone, client=server.client).sync_once()
    leader = enrolled_store(tmp_path / "leader.db", server.url, server.code("leader", team="t1"), http=server.client)
    for n in range(3):
        phone.add_household(hamlet, f"Số {n + 1}, phố Hàng Bè")
    monkeypatch.setattr("field_app.relay.MAX_BATCH", 2)  # a file holds at most a push's worth
    sealed = model.seal(phone)
    assert sealed is not None and sealed.left == 1
    assert sealed.summary().endswith("Còn 1 thay đổi nữa chưa vào tệp này: gửi nhờ tiếp sau khi biên nhận "
                                     "của tệp này được gửi về.")
    api = ServerApi(leader, client=server.client)
    carried = model.carry(api, leader, sealed.data)
    assert carried.ok and carried.text.startswith("Máy chủ đã nhận 2 thay đổi của Nguyễn Thị Lan.")
    assert model.take_receipt(phone, carried.receipt or b"").ok
    rest = model.seal(phone)
    assert rest is not None and rest.left == 0 and rest.seq_from == sealed.seq_to + 1



def test_a_carrier_with_no_network_is_told_so_and_keeps_the_file_to_try_again(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from field_app.relay import new_sign_key, seal_bundle

    from ..support import offline_store

    server_key = fmt.b64(X25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
    raw = seal_bundle([{"seq": 1, "kind": "visit.recorded"}], "dev-b", new_sign_key().private, server_key)
    carrier = offline_store(tmp_path / "carrier.db")  # its server address has nobody listening
    carried = model.carry(ServerApi(carrier, timeout=2.0), carrier, raw)
    assert not carried.ok and carried.receipt is None
    assert carried.text == ("Chưa gửi được tệp: không kết nối được máy chủ. Tệp vẫn nằm ở chỗ bạn đã lưu; "
                            "thử lại khi có mạng.")


def test_without_the_receipt_the_phones_own_next_sync_settles_the_carried_visits(
        in_process_server: InProcessServer, tmp_path: Path) -> None:  # noqa: F811
    phone, carrier, hamlet = _phones(in_process_server, tmp_path)
    household = phone.add_household(hamlet, ADDRESS)
    phone.record_visit(household, "met", [], [])
    sealed = model.seal(phone)
    assert sealed is not None
    assert model.carry(ServerApi(carrier, client=in_process_server.client), carrier, sealed.data).ok
    assert phone.pending_count() > 0  # the receipt is lost on the way back
    SyncClient(phone, client=in_process_server.client).sync_once()  # the phone finds a signal
    assert phone.pending_count() == 0 and phone.acked_seq == sealed.seq_to and phone.quarantined() == []
    [row] = in_process_server.totals()["rows"]
    assert row["visited"] == 1  # once, not twice
