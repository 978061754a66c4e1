"""A covering index for the province breakdown: `totals (commune, metric, n)`.

Revision ID: 0011
Revises: 0009

The province by commune (services/reports.py `province_totals`, and the admin's commune
list) is one `GROUP BY commune, metric` over every counter of the province (store/totals.py
`sums_by_commune`). Through `ix_totals_commune (commune, hamlet_id)` SQLite read each of the
249 k counters from the table after the index: 218 ms in the 2026-12-05 run, past the
200 ms target. This index holds every column the query reads, in its grouping order, so
both backends answer from the index alone, without a sort (SQLite, 4 communes' 21 k
counters: 11.4 → 1.8 ms CPU). It replaces `ix_totals_commune`, whose leading column it
shares: no query looks counters up by (commune, hamlet), so a push still updates two
secondary indexes per counter, not three.
"""
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_totals_commune_metric", "totals", ["commune", "metric", "n"])
    op.drop_index("ix_totals_commune", table_name="totals")


def downgrade() -> None:
    op.create_index("ix_totals_commune", "totals", ["commune", "hamlet_id"])
    op.drop_index("ix_totals_commune_metric", table_name="totals")
