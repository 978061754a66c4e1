"""The sealed relay's keys (issue #15): each device's signing key, and the server's own.

Revision ID: 0008
Revises: 0007

`devices.sign_key`: the Ed25519 public key the phone registered (at enrolment, or on
its next sync for phones enrolled before), base64url; null until it does.
`server_keys`: the server's key pairs, made once on first use (services/relay.py):
`seal` (X25519: bundles are encrypted to it) and `sign` (Ed25519: receipts are signed
with it). Additive only: nothing stored before changes.
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("devices", sa.Column("sign_key", sa.String(64)))
    op.create_table(
        "server_keys",
        sa.Column("name", sa.String(16), primary_key=True),
        sa.Column("private_key", sa.String(64), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("server_keys")
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("sign_key")
