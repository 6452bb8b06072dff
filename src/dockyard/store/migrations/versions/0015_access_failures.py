"""access failures: evidence of requests that did not reach an app through its route

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_failures",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("resource_id", sa.String(length=40), nullable=False),
        sa.Column("hostname", sa.String(length=253), nullable=True),
        sa.Column("path", sa.String(length=2048), nullable=False),
        sa.Column("captured_at", sa.String(length=32), nullable=False),
        sa.Column("expires_at", sa.String(length=32), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["resource_id"], ["resources.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_access_failures_resource", "access_failures", ["resource_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_access_failures_resource", table_name="access_failures")
    op.drop_table("access_failures")
