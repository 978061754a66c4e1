"""Campaign settings per commune: their rows."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select, update

from . import schema as t


@dataclass(frozen=True)
class CampaignRow:
    commune: str
    name: str
    target_kind: str  # people | percent
    target_value: int
    start: str  # ISO dates, Vietnam's calendar
    deadline: str
    ends: str | None
    retention_days: int
    updated_at: str


FIELDS = ("name", "target_kind", "target_value", "start", "deadline", "ends", "retention_days")


def get(conn: Connection, commune: str) -> CampaignRow | None:
    row = conn.execute(select(t.campaigns).where(t.campaigns.c.commune == commune)).first()
    return CampaignRow(*row) if row else None


def ended(conn: Connection) -> list[CampaignRow]:
    """The campaigns with an end date, by commune."""
    return [CampaignRow(*row) for row in conn.execute(
        select(t.campaigns).where(t.campaigns.c.ends.is_not(None)).order_by(t.campaigns.c.commune))]


def put(conn: Connection, row: CampaignRow) -> None:
    """Create or replace a commune's settings."""
    values = {f: getattr(row, f) for f in (*FIELDS, "updated_at")}
    done = conn.execute(update(t.campaigns).where(t.campaigns.c.commune == row.commune).values(**values))
    if done.rowcount == 0:
        conn.execute(t.campaigns.insert().values(commune=row.commune, **values))


def names(conn: Connection) -> dict[str, str]:
    """{commune: campaign name} of every campaign."""
    return {commune: name for commune, name in conn.execute(select(t.campaigns.c.commune, t.campaigns.c.name))}
