"""The sync spine: devices, enrolments, teams, the event log, projection, conflicts, totals.

Revision ID: 0001
Revises:
"""
from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("commune", sa.String(5), nullable=False),
    )
    op.create_table(
        "team_hamlets",
        sa.Column("team_id", sa.String(64), primary_key=True),
        sa.Column("hamlet_id", sa.String(36), primary_key=True),
    )
    op.create_table(
        "devices",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("team_id", sa.String(64)),
        sa.Column("commune", sa.String(5)),
        sa.Column("hamlets", sa.Text, nullable=False),
        sa.Column("enrolled_at", sa.String(32), nullable=False),
        sa.Column("revoked_at", sa.String(32)),
        sa.Column("acked_seq", sa.BigInteger, nullable=False),
        sa.Column("last_push_at", sa.String(32)),
        sa.Column("last_pull_at", sa.String(32)),
    )
    op.create_table(
        "enrolments",
        sa.Column("code_hash", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("team_id", sa.String(64)),
        sa.Column("commune", sa.String(5)),
        sa.Column("hamlets", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
        sa.Column("used_at", sa.String(32)),
        sa.Column("device_id", sa.String(64)),
    )
    op.create_table(
        "events",
        sa.Column("cursor", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("entity", sa.String(36), nullable=False),
        sa.Column("hamlet_id", sa.String(36)),
        sa.Column("commune", sa.String(5)),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("received_at", sa.String(32), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.UniqueConstraint("device_id", "seq", name="uq_events_device_seq"),
    )
    op.create_index("ix_events_hamlet_cursor", "events", ["hamlet_id", "cursor"])
    op.create_index("ix_events_commune_cursor", "events", ["commune", "cursor"])
    op.create_table(
        "entities",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("hamlet_id", sa.String(36)),
        sa.Column("parent_id", sa.String(36)),
        sa.Column("commune", sa.String(5)),
        sa.Column("version", sa.BigInteger),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_index("ix_entities_parent", "entities", ["parent_id"])
    op.create_index("ix_entities_commune_type", "entities", ["commune", "type"])
    op.create_index("ix_entities_hamlet_type", "entities", ["hamlet_id", "type"])
    op.create_table(
        "conflicts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("entity", sa.String(36), nullable=False),
        sa.Column("field", sa.String(40), nullable=False),
        sa.Column("hamlet_id", sa.String(36)),
        sa.Column("commune", sa.String(5)),
        sa.Column("earlier", sa.Text, nullable=False),
        sa.Column("later", sa.Text, nullable=False),
        sa.Column("opened_cursor", sa.BigInteger, nullable=False),
        sa.Column("resolved_cursor", sa.BigInteger),
    )
    op.create_index("ix_conflicts_commune_open", "conflicts", ["commune", "resolved_cursor"])
    op.create_index("ix_conflicts_entity", "conflicts", ["entity", "field"])
    op.create_table(
        "totals",
        sa.Column("hamlet_id", sa.String(36), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("metric", sa.String(48), primary_key=True),
        sa.Column("commune", sa.String(5), nullable=False),
        sa.Column("n", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_totals_commune", "totals", ["commune", "hamlet_id"])


def downgrade() -> None:
    for table in ("totals", "conflicts", "entities", "events", "enrolments", "devices",
                  "team_hamlets", "teams"):
        op.drop_table(table)
