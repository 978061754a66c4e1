"""A version per commune's counters: `totals_versions (commune, version)`.

Revision ID: 0015
Revises: 0010

Every write of the counters (a push's deltas, `recount --fix`) adds one to the version of
each commune whose counters it touched, in the same transaction (store/totals.py). GET
/totals keeps its answer per commune in each server process and reads this one row to know
whether the answer it holds is still the database's: one indexed read in place of a commune's
~1,000 sums (issue #16, one commune's totals p95 ≤ 5 ms). A commune without a row is at
version 0; rows are made by the first write, so none are needed here.
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "totals_versions",
        sa.Column("commune", sa.String(5), primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("totals_versions")
