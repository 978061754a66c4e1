"""The leader's "new member" (Flet-free): the holder's name checked as the server checks it, the
server's enrolment code for a volunteer of the team, and what the screen shows and shares of it.
views/members.py draws it; the server's side is sync_server/services/members.py.

The name goes with the code: the phone that spends it gets that name (the server's
`enrol`), whatever is typed on its enrol screen, so the leader's spelling is the one the
team list, the review queue and the walk sheet show.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qs, urlparse

from campaign.text import HOLDER_NAME_MAX, holder_name
from campaign.time import VIETNAM
from field_app.i18n import t

from .words import parse_time

__all__ = ["MemberApi", "MemberCode", "checked_name", "member_code", "names_loopback", "share_text"]


class MemberApi(Protocol):
    """The server call of the screen (field_app/net/server_api.py `ServerApi`)."""

    def new_member(self, name: str, team: str | None = None) -> dict[str, Any]: ...


@dataclass(frozen=True)
class MemberCode:
    """A code made for a new member, as the screen shows it."""
    name: str
    code: str  # XXXX-XXXX-XXXX, read aloud or typed
    url: str  # gocua://enrol?…: the QR code's content, the link to send
    expires: str  # "Dùng một lần, trước 08:15 ngày 08/12/2026"
    local_only: bool = False  # the link names this machine (127.0.0.1): no other phone can open it

    @property
    def warning(self) -> str | None:
        return t("members.local_link") if self.local_only else None


def names_loopback(url: str) -> bool:
    """Whether an enrolment link's server is this machine ("localhost", 127.0.0.1, ::1): a server
    whose public address is not set names itself so, and another phone cannot reach that."""
    server = (parse_qs(urlparse(url).query).get("server") or [""])[0]
    host = urlparse(server).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def checked_name(text: str | None) -> tuple[str | None, str | None]:
    """(the name as it will be stored, None) or (None, why not in words): the server's rule
    (campaign.text.holder_name: NFC, trimmed, one line, at most HOLDER_NAME_MAX), checked
    before anything is sent."""
    if text is None or not text.strip():
        return None, t("members.name_required")
    try:
        return holder_name(text), None
    except ValueError as bad:
        if str(bad) == "too_long":
            return None, t("members.name_too_long", max=HOLDER_NAME_MAX)
        return None, t("members.name_bad")


def expires_text(iso: str) -> str:
    moment = parse_time(iso)
    if moment is None:
        return t("members.once")
    local = moment.astimezone(VIETNAM)
    return t("members.expires", time=local.strftime("%H:%M"), date=local.strftime("%d/%m/%Y"))


def member_code(api: MemberApi, name: str) -> MemberCode:
    """Ask the server for the code (blocking: run it off the event loop). Raises the net
    errors of server_api (Offline, Rejected …) for the screen to say in words."""
    answer = api.new_member(name)
    return MemberCode(answer["name"], answer["code"], answer["url"], expires_text(answer["expires_at"]),
                      names_loopback(answer["url"]))


def share_text(made: MemberCode) -> str:
    """What the leader sends the new member (Zalo, SMS): the code, the link, until when."""
    return t("members.share", name=made.name, code=made.code, url=made.url, expires=made.expires)
