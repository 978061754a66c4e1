"""The leader's new member, Flet-free: the name checked as the server checks it (nothing is sent
for a name the server would refuse), the server's answer in words, what is shared."""
from __future__ import annotations

from typing import Any

import pytest

from campaign.text import HOLDER_NAME_MAX
from field_app import i18n
from field_app.views.models.members import checked_name, expires_text, member_code, share_text


@pytest.mark.parametrize(("typed", "stored", "why"), [
    ("  Nguyễn Thi\u0323  Lan ", "Nguyễn Thị Lan", None),  # NFC, spaces trimmed and collapsed
    ("", None, "Nhập họ tên người giữ máy."),
    ("   ", None, "Nhập họ tên người giữ máy."),
    (None, None, "Nhập họ tên người giữ máy."),
    ("A" * (HOLDER_NAME_MAX + 1), None, f"Họ tên không quá {HOLDER_NAME_MAX} ký tự."),
    ("Lan\u0007", None, "Họ tên chỉ gồm chữ, số và dấu câu thông thường."),
])
def test_a_name_is_checked_before_anything_is_sent(typed: str | None, stored: str | None, why: str | None) -> None:
    assert checked_name(typed) == (stored, why)


class Api:
    def __init__(self) -> None:
        self.asked: list[str] = []

    def new_member(self, name: str, team: str | None = None) -> dict[str, Any]:
        self.asked.append(name)
        return {"code": "ABCD-EFGH-JKMN", "url": "gocua://enrol?server=http%3A%2F%2F10.0.0.2%3A8000&code=ABCD-EFGH-JKMN",
                "expires_at": "2026-12-08T01:15:00+00:00", "team": "t3", "name": name}


def test_the_code_is_shown_with_its_expiry_in_vietnams_time_and_shared_whole() -> None:
    api = Api()
    made = member_code(api, "Nguyễn Thị Lan")
    assert api.asked == ["Nguyễn Thị Lan"]
    assert (made.name, made.code) == ("Nguyễn Thị Lan", "ABCD-EFGH-JKMN")
    assert made.expires == "Dùng một lần, trước 08:15 ngày 08/12/2026"  # UTC+7
    shared = share_text(made)
    assert made.code in shared and made.url in shared and "Nguyễn Thị Lan" in shared
    assert expires_text("not a time") == "Dùng một lần"
    i18n.set_language("en")
    assert member_code(api, "Lan").expires == "Works once, before 08:15 on 08/12/2026"


@pytest.mark.parametrize(("server", "local"), [
    ("http://127.0.0.1:8000", True), ("http://localhost:8000", True), ("http://[::1]:8000", True),
    ("http://192.168.1.10:8000", False), ("https://gocua.example.vn", False)])
def test_a_link_naming_this_machine_is_flagged(server: str, local: bool) -> None:
    """A server without its public address set names itself 127.0.0.1: another phone cannot open
    that link, and the screen says so (the code still works, typed with a reachable address)."""
    from urllib.parse import urlencode

    from field_app.views.models.members import names_loopback

    url = "gocua://enrol?" + urlencode({"server": server, "code": "ABCD-EFGH-JKMN"})
    assert names_loopback(url) is local
    api = Api()
    api.new_member = lambda name, team=None: {"code": "ABCD-EFGH-JKMN", "url": url,  # type: ignore[method-assign]
                                              "expires_at": "2026-12-08T01:15:00+00:00", "name": name}
    made = member_code(api, "Lan")
    assert (made.warning is not None) is local
    assert made.warning is None or "127.0.0.1" in made.warning
