"""A team's settings (issue #13): the review's sample rate and the walk lists' lapse days.

Revision ID: 0009
Revises: 0008

`team_settings`: one row per team that changed them (services/team_settings.py); a team
without a row has the defaults (campaign/team_settings.py). Additive only.
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "team_settings",
        sa.Column("team_id", sa.String(64), primary_key=True),
        sa.Column("sample_every", sa.Integer(), nullable=False),
        sa.Column("lapse_days", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("team_settings")
