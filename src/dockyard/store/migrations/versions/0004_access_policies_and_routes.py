"""access policies and access routes (generated hostnames served by the edge)

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_policies",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("scope_key", sa.String(length=60), nullable=False),
        sa.Column("scope_kind", sa.String(length=20), nullable=False),
        sa.Column("server_id", sa.String(length=40), nullable=True),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("provider_key", sa.String(length=40), nullable=True),
        sa.Column("template_ref", sa.String(length=253), nullable=True),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scope_key"),
    )
    op.create_table(
        "access_routes",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("resource_id", sa.String(length=40), nullable=False),
        sa.Column("server_id", sa.String(length=40), nullable=False),
        sa.Column("hostname", sa.String(length=253), nullable=False),
        sa.Column("path_prefix", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["resource_id"], ["resources.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hostname"),
    )
    op.create_index("ix_access_routes_resource", "access_routes", ["resource_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_access_routes_resource", table_name="access_routes")
    op.drop_table("access_routes")
    op.drop_table("access_policies")
