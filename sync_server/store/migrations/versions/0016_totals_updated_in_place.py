"""PostgreSQL: the counters updated in place (HOT), their count `n` in no index.

Revision ID: 0016
Revises: 0015

A push adds its deltas to about a hundred counters (store/totals.py `add`), under the write
lock. On PostgreSQL an UPDATE writes a new version of the row, and when a column of any index
changes, a new entry in every index too; `n` was in both covering indexes (0005, 0011), so
each counter's update wrote three index entries and left three dead ones, and the counters'
indexes grew with every push until a vacuum. Without `n` in an index, and with room left on
each page (fillfactor 70), PostgreSQL updates the row on its own page and touches no index
(a heap-only tuple): the push's counters 4.8 -> 3.1 µs an event under the lock (issue #16,
in-process, the profile's 19,036 events). The reads that summed `n` from the covering
indexes read it from the rows now: one commune's ~1,000 counters by the primary key's
leading `hamlet_id`, the province's by one pass over the table (one commune's totals are
kept per commune by GET /totals anyway, services/reports.py).

SQLite keeps its covering indexes: it has no such update in place, each index of `n` costs
it one entry rewritten (a push's counters take ~1 µs an event there), and without them the
province breakdown read every counter from the table after the index (218 ms, 0011).
"""
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

FILLFACTOR = 70


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_totals_commune_metric", table_name="totals")
    op.drop_index("ix_totals_hamlet_metric", table_name="totals")
    op.create_index("ix_totals_commune_metric_keys", "totals", ["commune", "metric"])
    op.execute(f"ALTER TABLE totals SET (fillfactor = {FILLFACTOR})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE totals RESET (fillfactor)")
    op.drop_index("ix_totals_commune_metric_keys", table_name="totals")
    op.create_index("ix_totals_hamlet_metric", "totals", ["hamlet_id", "metric", "day", "n"])
    op.create_index("ix_totals_commune_metric", "totals", ["commune", "metric", "n"])
