"""A covering index for one commune's totals: `totals (hamlet_id, metric, day, n)`.

Revision ID: 0005
Revises: 0004

From issue #16 (item 2) a commune's totals are summed in SQL, `GROUP BY hamlet_id,
metric` (or `day, metric`) over its hamlets' counters (store/totals.py
`sums_by_hamlet`, `sums_by_day`), instead of fetching each counter and summing in
Python. This index holds every column those queries read, in the order the first
groups by, so both backends answer from the index alone (PostgreSQL: an index-only
scan once the table is vacuumed) without a lookup per counter: the province bench's
commune (20 hamlets, ~3,900 counters) went from 11-12 ms to ~2.6 ms at the store.

Cost: one index build over the totals (249 k counters on the bench's province: a
few seconds), and one more index entry to update per counter a push changes.
No data changes.
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_totals_hamlet_metric", "totals", ["hamlet_id", "metric", "day", "n"])


def downgrade() -> None:
    op.drop_index("ix_totals_hamlet_metric", table_name="totals")
