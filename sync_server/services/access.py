"""Which commune a caller may report on, and what an audit row calls its scope.

Roles say which endpoints a device may call (api/deps.py, campaign.roles); this is the
second question, asked inside the use case: which commune. Officers see their
commune only; leaders (and volunteers) the commune their hamlets are in; admins any.
Hamlets are checked per row, through the caller's Scope.
"""
from __future__ import annotations

from sqlalchemy import Connection

from campaign.areas import is_commune_code
from campaign.order import natural_key
from campaign.roles import Capability, can

from ..store import entities
from ..store.devices import Scope
from .enrolment import Caller
from .errors import Forbidden, Invalid


def check_commune(who: Caller, commune: str, conn: Connection | None = None) -> None:
    """Forbidden outside the caller's commune. Officers and leaders: their device's commune.
    Anyone else without every commune (volunteers): their device's commune, or one where
    their scope holds a hamlet (asked of `conn`; without it, refused)."""
    role = who.device.role
    if can(role, Capability.ANY_COMMUNE):
        return
    if role in ("officer", "leader"):
        if who.device.commune not in (None, commune):
            raise Forbidden("forbidden", f"commune {commune} is outside this device's scope")
        return
    if who.device.commune == commune or who.scope.whole(commune):
        return
    if conn is None or not visible_hamlets(conn, commune, who.scope):
        raise Forbidden("forbidden", f"commune {commune} is outside this device's scope")


def known_commune(commune: str) -> None:
    """Invalid for a code that is not an official commune's."""
    if not is_commune_code(commune):
        raise Invalid("unknown_commune", f"{commune} is not an official commune code")


def checked_commune(who: Caller, commune: str, conn: Connection | None = None) -> None:
    """The report endpoints' check: an official commune, within the caller's, and a leader's
    device must know its commune."""
    known_commune(commune)
    check_commune(who, commune, conn)
    if who.device.role == "leader" and who.device.commune is None:
        raise Forbidden("forbidden", "this leader's device has no commune")


def scope_hamlets(conn: Connection, who: Caller | None, commune: str) -> list[str] | None:
    """What an audit row calls the scope: None for a whole commune, else the hamlets seen.
    `who` None: the command line, which sees everything."""
    if who is None or who.device.role in ("admin", "officer"):
        return None
    return list(visible_hamlets(conn, commune, who.scope))


def visible_hamlets(conn: Connection, commune: str, scope: Scope) -> dict[str, str]:
    """{hamlet id: name} of a commune that the scope may see, in natural order of their names
    ("Tổ 2" before "Tổ 10"), the order of every list of hamlets."""
    return visible_of(entities.hamlet_names(conn, commune), commune, scope)


def visible_of(names: dict[str, str], commune: str, scope: Scope) -> dict[str, str]:
    """visible_hamlets of a commune's {hamlet id: name}, read already."""
    seen = {h: name for h, name in names.items() if scope.allows(h, commune)}
    return dict(sorted(seen.items(), key=lambda kv: natural_key(kv[1])))
