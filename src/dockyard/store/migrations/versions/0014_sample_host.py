"""runtime samples carry the machine's reading (load, memory, disk, inodes, network)

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runtime_samples") as batch:
        batch.add_column(sa.Column("host", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runtime_samples") as batch:
        batch.drop_column("host")
