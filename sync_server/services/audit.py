"""The audit log: who exported, viewed, imported or changed what, when, in what scope.

One row per action. `detail` says what was done (a list's name, a format, a
count of rows, an import's id) and never holds personal data: no names, no
addresses, no birth years. Rows are written in the transaction of what they
record where there is one (an import, a settings change); a read (a download,
a list page) writes its row in a short transaction of its own before the data
leaves the server (`log_read`).
"""
from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import Connection, Engine

from campaign.roles import Capability, can

from ..store import audit as store
from ..store.audit import AuditRow
from ..store.db import read_transaction, short_write_transaction
from . import clock
from .access import checked_commune, scope_hamlets
from .enrolment import Caller
from .errors import Invalid

CLI_ROLE = "cli"  # the server's command line: someone with the database in hand

ACTIONS = (
    "campaign.update",
    "team.settings",  # services/team_settings.py
    "export.totals.xlsx", "export.totals.csv",
    "export.walksheet.pdf",  # services/walksheet.py
    "followup.view", "followup.download",
    "duplicates.view",  # services/duplicates.py
    "conflicts.view",
    "roster.view", "export.roster.xlsx",  # services/sessions.py
    "device.sign_out",  # services/signout.py
    "device.enrol",  # an enrolment code, made in the app or by `gocua-server enroll`: services/members.py
    "import.check", "import.run", "import.failed",
    "retention.purge",  # services/purge.py
    "relay.down",  # services/relay_down.py: a down bundle made for a phone (which phone, never what)
)

__all__ = ["CLI_ROLE", "AuditRow", "entries", "log_read", "record"]


def record(conn: Connection, who: Caller | None, action: str, commune: str | None, *,
           hamlets: list[str] | None = None, detail: dict[str, Any] | None = None) -> int:
    """Add one row for `who` (None: the command line); `hamlets` None means the whole commune.
    Returns the row's id."""
    assert action in ACTIONS, action
    return store.insert(conn, at=clock.now_iso(), device_id=who.device.id if who else None,
                        role=who.device.role if who else CLI_ROLE, action=action, commune=commune,
                        hamlets=hamlets, detail=detail or {})


def log_read(engine: Engine, who: Caller | None, action: str, commune: str, detail: dict[str, Any],
             hamlets: list[str] | None = None) -> None:
    """One row for a read, in its own short transaction, before the data leaves the server.
    `hamlets`: the scope seen (scope_hamlets), when the caller has it already."""
    if hamlets is None and who is not None:
        with read_transaction(engine) as conn:
            hamlets = scope_hamlets(conn, who, commune)
    # not the server-wide write lock: an audit row assigns no cursor, so it need not wait
    # behind a long import on PostgreSQL
    with short_write_transaction(engine) as conn:
        record(conn, who, action, commune, hamlets=hamlets, detail=detail)


def entries(conn: Connection, who: Caller, commune: str | None, *, after: int = 0, limit: int = 100,
            order: Literal["oldest", "newest"] = "oldest", before: int | None = None,
            action: str | None = None) -> tuple[list[AuditRow], bool]:
    """A page of the log, oldest first (or newest first), and whether there is more.
    Officers read their commune's (`commune` required); admins any commune, or every one."""
    if commune is None:
        if not can(who.device.role, Capability.ANY_COMMUNE):
            raise Invalid("missing_commune", "give ?commune=CODE: officers read their commune's log")
    else:
        checked_commune(who, commune)
    return store.entries(conn, commune, after, limit, before=before, newest_first=order == "newest",
                         action=action)
