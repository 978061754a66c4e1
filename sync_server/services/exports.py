"""Exports of a commune's totals: the workbook (with the follow-up lists: personal data)
and the CSV. Every export is audited before its data leaves the server. The API
and `gocua-server export` call these; `who` None is the command line (every hamlet).
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from sqlalchemy import Engine

from campaign import areas
from campaign.time import now

from ..render import csv as render_csv
from ..render import xlsx as render_xlsx
from ..render.rows import CampaignTerms, WorkbookAbout, WorkbookMade
from ..store.db import read_transaction
from ..store.devices import Scope
from . import campaigns, followup
from .access import checked_commune, scope_hamlets
from .audit import CLI_ROLE, log_read
from .enrolment import Caller
from .reports import commune_totals


def _scope(who: Caller | None) -> Scope:
    return who.scope if who is not None else Scope(hamlets=None)


def totals_workbook(engine: Engine, who: Caller | None, commune: str, out: IO[bytes]) -> WorkbookMade:
    """The totals workbook (render/xlsx.py) into `out`, then its audit row (export.totals.xlsx,
    with its size in bytes)."""
    if who is not None:
        checked_commune(who, commune)
    scope = _scope(who)
    with read_transaction(engine) as conn:
        hamlets = scope_hamlets(conn, who, commune)
        table = commune_totals(conn, commune, "hamlet", scope).table()
        settings = campaigns.get(conn, commune)
        place = areas.commune(commune)
        terms = (CampaignTerms(settings.name, settings.target_kind, settings.target_value, settings.start,
                               settings.deadline, settings.ends) if settings else None)
        about = WorkbookAbout(commune, place.full_name, place.province, terms, scope.whole(commune), now(),
                              who.device.id if who else None, who.device.role if who else CLI_ROLE,
                              who.device.name if who else None)
        made = render_xlsx.totals_workbook(out, table, followup.everything(conn, commune, scope, followup.this_year()),
                                           about)
    log_read(engine, who, "export.totals.xlsx", commune,
             {"format": "xlsx", "bytes": out.tell(), **made.detail()}, hamlets)
    return made


def totals_csv(engine: Engine, who: Caller | None, commune: str) -> Iterator[str]:
    """The totals by hamlet as CSV text (render/csv.py), audited (export.totals.csv) first."""
    if who is not None:
        checked_commune(who, commune)
    with read_transaction(engine) as conn:
        table = commune_totals(conn, commune, "hamlet", _scope(who)).table()
    log_read(engine, who, "export.totals.csv", commune, {"format": "csv", "hamlets": len(table.rows)})
    return render_csv.totals(table)
