"""log masked: whether a deployment log line had a secret hidden in it

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deployment_logs") as batch:
        batch.add_column(sa.Column("masked", sa.Boolean(), nullable=False, server_default=sa.text("false")))


def downgrade() -> None:
    with op.batch_alter_table("deployment_logs") as batch:
        batch.drop_column("masked")
