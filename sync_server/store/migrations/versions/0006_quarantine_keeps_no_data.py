"""Quarantined events keep no data: their stored body becomes the quarantine record.

Revision ID: 0006
Revises: 0005

From issue #12 (M2, M3) a refused event is stored as its envelope (id, device, seq,
kind, entity, at; texts cut to 64 characters), the SHA-256 of its canonical form
and its reason's code: `campaign.events.quarantine_record`, never its data. This
revision cuts down the quarantined events stored before: each body becomes the
record of what it held (`quarantine_line`, the very line the receipt digest now
counts for a quarantined event, so receipts agree after the upgrade) and each
reason its code. No table changes.

Cost: one read of the quarantined events (no index has the status: one scan of
the log) and a rewrite of each, CHUNK at a time. Quarantined events are few
(refusals); the scan is what costs, about as 0004's. It runs in the migration's one
transaction. The old bodies cannot be brought back: downgrade changes nothing.

The rule is imported from campaign/ on purpose, not copied: the record must be
what the devices compute for their receipts.
"""
import sqlalchemy as sa
from alembic import op

from campaign.events import quarantine_line, quarantine_record

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CHUNK = 500  # events read and rewritten at a time

# The columns this revision reads and writes, as they stand at 0005.
events = sa.table("events", sa.column("cursor"), sa.column("status"), sa.column("reason"), sa.column("body"))


def upgrade() -> None:
    conn = op.get_bind()
    cursors = list(conn.execute(sa.select(events.c.cursor).where(events.c.status == "quarantined")
                                .order_by(events.c.cursor)).scalars())
    for start in range(0, len(cursors), CHUNK):  # a refused body may be megabytes: CHUNK in memory at a time
        changed = []
        for cursor, reason, body in conn.execute(sa.select(events.c.cursor, events.c.reason, events.c.body).where(
                events.c.cursor.in_(cursors[start:start + CHUNK]))):
            try:
                record = quarantine_line(body)
            except ValueError:  # never written so, but if it were: nothing of it is kept but its digest
                record = quarantine_record({}, body)
            code = (reason or "").split(":", 1)[0].strip()[:40]
            if record != body or code != reason:
                changed.append({"b_cursor": cursor, "b_body": record, "b_reason": code})
        if changed:
            conn.execute(sa.update(events).where(events.c.cursor == sa.bindparam("b_cursor")).values(
                body=sa.bindparam("b_body"), reason=sa.bindparam("b_reason")), changed)


def downgrade() -> None:
    """Nothing to do: the data is gone, and 0005's code reads these records as it read any body."""
