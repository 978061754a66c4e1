"""Campaign settings, the audit log, and imports of target lists.

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("commune", sa.String(5), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("target_kind", sa.String(8), nullable=False),
        sa.Column("target_value", sa.Integer, nullable=False),
        sa.Column("start", sa.String(10), nullable=False),
        sa.Column("deadline", sa.String(10), nullable=False),
        sa.Column("ends", sa.String(10)),
        sa.Column("retention_days", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("device_id", sa.String(64)),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(48), nullable=False),
        sa.Column("commune", sa.String(5)),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("ix_audit_commune_id", "audit", ["commune", "id"])
    op.create_table(
        "imports",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("commune", sa.String(5), nullable=False),
        sa.Column("device_id", sa.String(64)),
        sa.Column("import_device_id", sa.String(64)),
        sa.Column("dry_run", sa.Integer, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("rows_total", sa.Integer, nullable=False),
        sa.Column("rows_done", sa.Integer, nullable=False),
        sa.Column("households", sa.Integer, nullable=False),
        sa.Column("people", sa.Integer, nullable=False),
        sa.Column("skipped", sa.Integer, nullable=False),
        sa.Column("errors", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("finished_at", sa.String(32)),
    )
    op.create_index("ix_imports_commune", "imports", ["commune", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_imports_commune", "imports")
    op.drop_table("imports")
    op.drop_index("ix_audit_commune_id", "audit")
    op.drop_table("audit")
    op.drop_table("campaigns")
