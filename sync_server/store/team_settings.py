"""A team's settings (the review's sample rate, the walk lists' lapse days): their rows."""
from __future__ import annotations

from sqlalchemy import Connection, select, update

from campaign.team_settings import TeamSettings

from . import schema as t


def get(conn: Connection, team_id: str) -> TeamSettings | None:
    """The team's settings as stored; None when it never changed them."""
    row = conn.execute(select(t.team_settings.c.sample_every, t.team_settings.c.lapse_days)
                       .where(t.team_settings.c.team_id == team_id)).first()
    return TeamSettings(row.sample_every, row.lapse_days) if row else None


def put(conn: Connection, team_id: str, settings: TeamSettings, at: str) -> None:
    values = {"sample_every": settings.sample_every, "lapse_days": settings.lapse_days, "updated_at": at}
    done = conn.execute(update(t.team_settings).where(t.team_settings.c.team_id == team_id).values(**values))
    if done.rowcount == 0:
        conn.execute(t.team_settings.insert().values(team_id=team_id, **values))


def team_of_hamlets(conn: Connection, hamlets: list[str]) -> str | None:
    """The team that works these hamlets (the first by id when several do); None when none."""
    if not hamlets:
        return None
    return conn.execute(select(t.team_hamlets.c.team_id).where(t.team_hamlets.c.hamlet_id.in_(hamlets))
                        .order_by(t.team_hamlets.c.team_id).limit(1)).scalar()
