"""Named volunteers: the name of the person holding each phone.

Revision ID: 0007
Revises: 0006

`enrolments.name` is written by `gocua-server enroll --name` (or the phone's
enrolment, when the code has none) and copied to `devices.name` when the code is
spent; a phone enrolled again keeps the name of the device it replaces. Both
nullable: devices enrolled before this revision have no name and show their id.
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("devices", sa.Column("name", sa.Text(), nullable=True))
    op.add_column("enrolments", sa.Column("name", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("enrolments") as batch:
        batch.drop_column("name")
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("name")
