"""The down road of the sealed relay (issue #15): each device's box key, and how far it pulled.

Revision ID: 0010
Revises: 0011 (numbers were handed out before the work; 0011 landed first, so 0010 follows it:
a database already at 0011 must not be taken for one past 0010)

`devices.box_key`: the X25519 public key the phone registered (at enrolment, or on its next
sync for phones enrolled before), base64url; null until it does. A leader's down bundle for
the phone is sealed to it (services/relay_down.py).
`devices.pulled_after`: the highest cursor the device asked to pull after when it caught up:
it holds every event of its scope up to there, so a down bundle for it starts there. Null
until its next pull. Additive only: nothing stored before changes.
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("devices", sa.Column("box_key", sa.String(64)))
    op.add_column("devices", sa.Column("pulled_after", sa.BigInteger))


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("pulled_after")
        batch.drop_column("box_key")
