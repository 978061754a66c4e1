"""Moves between hamlets filed under the hamlet left too: the `event_moves` table.

Revision ID: 0004
Revises: 0003

From this revision a push that moves a household (`household.updated` with a new
`hamlet_id`) writes one `event_moves` row, (move cursor, hamlet left, its commune,
household), in the push transaction, and pull walks it beside the events
(store/events.py `pull`; docs/sync.md, "Households that move"). This revision
creates the table and fills it for the moves already in the log.

How: the moves are found among the applied `household.created`/`updated` events
only, read once, ordered by household and cursor: each change of hamlet is a move
from the hamlet before it, as campaign/projection.py decides it. Nothing else is
replayed: a household's hamlet is decided by these two kinds alone. The commune is
the left hamlet's own (`entities.commune` of the hamlet).

Cost: one read of the event log (no index has the kind) and a sort of its
household events (a few per household); memory holds one household at a time and
the moves found. Not measured on the bench's province: it reads what 0003's walk
reads and sorts about as many rows, without 0003's rewrite of person bodies, so
expect less than 0003's figures (docs/reports.md, "Upgrading to revision 0003").
It runs in the migration's one transaction: an interrupted upgrade leaves 0003 as
it was.

What it cannot do: a device that pulled past a move before the upgrade has passed
its cursor and is not sent it again: the old hamlet's keeps the household, the new
hamlet's lacks its history, until enrolled afresh (docs/sync.md, "Households that
move"). Devices that had not pulled that far get the move (and the history) on
their next pull.
"""
import json
from typing import Any, Iterator

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

CHUNK = 500  # hamlets per IN (...): as store/events.py

# The columns this revision reads, as they stand at 0003 (not schema.py's, which may move on).
events = sa.table("events", sa.column("cursor"), sa.column("kind"), sa.column("entity"),
                  sa.column("status"), sa.column("body"))
entities = sa.table("entities", sa.column("id"), sa.column("type"), sa.column("commune"))
event_moves = sa.table("event_moves", sa.column("cursor"), sa.column("hamlet_id"), sa.column("commune"),
                       sa.column("household_id"))


def moves(conn: sa.Connection) -> Iterator[tuple[int, str, str]]:
    """(cursor, hamlet left, household) of every applied move in the log."""
    rows = conn.execute(sa.select(events.c.cursor, events.c.kind, events.c.entity, events.c.body).where(
        events.c.status == "applied", events.c.kind.in_(("household.created", "household.updated"))
    ).order_by(events.c.entity, events.c.cursor).execution_options(yield_per=5000))
    household: str | None = None
    where: str | None = None
    for cursor, kind, entity, body in rows:
        if entity != household:
            household, where = entity, None
        hamlet_id = json.loads(body)["data"].get("hamlet_id")
        if kind == "household.created":
            where = hamlet_id
        elif hamlet_id is not None and where is not None and hamlet_id != where:
            yield cursor, where, entity  # as campaign/projection.py's _household_updated
            where = hamlet_id


def upgrade() -> None:
    op.create_table(
        "event_moves",
        sa.Column("cursor", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hamlet_id", sa.String(36), nullable=False),
        sa.Column("commune", sa.String(5)),
        sa.Column("household_id", sa.String(36), nullable=False),
    )
    op.create_index("ix_event_moves_hamlet_cursor", "event_moves", ["hamlet_id", "cursor"])
    op.create_index("ix_event_moves_commune_cursor", "event_moves", ["commune", "cursor"])
    op.create_index("ix_event_moves_household", "event_moves", ["household_id", "cursor"])
    conn = op.get_bind()
    found = list(moves(conn))
    if not found:
        return
    hamlets = sorted({hamlet_id for _, hamlet_id, _ in found})
    communes: dict[str, Any] = {}
    for start in range(0, len(hamlets), CHUNK):
        communes.update(conn.execute(sa.select(entities.c.id, entities.c.commune).where(
            entities.c.id.in_(hamlets[start:start + CHUNK]), entities.c.type == "hamlet")).all())
    conn.execute(event_moves.insert(), [
        {"cursor": cursor, "hamlet_id": hamlet_id, "commune": communes.get(hamlet_id), "household_id": household}
        for cursor, hamlet_id, household in sorted(found)])


def downgrade() -> None:
    op.drop_index("ix_event_moves_household", table_name="event_moves")
    op.drop_index("ix_event_moves_commune_cursor", table_name="event_moves")
    op.drop_index("ix_event_moves_hamlet_cursor", table_name="event_moves")
    op.drop_table("event_moves")
