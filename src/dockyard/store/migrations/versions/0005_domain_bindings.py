"""domain bindings (custom domains of resources, verified by DNS, routed by the edge)

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "domain_bindings",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("environment_id", sa.String(length=40), nullable=False),
        sa.Column("resource_id", sa.String(length=40), nullable=False),
        sa.Column("server_id", sa.String(length=40), nullable=False),
        sa.Column("destination_id", sa.String(length=40), nullable=True),
        sa.Column("domain_name", sa.String(length=253), nullable=False),
        sa.Column("path_prefix", sa.String(length=200), nullable=False),
        sa.Column("proxy_kind", sa.String(length=20), nullable=False),
        sa.Column("tls_mode", sa.String(length=20), nullable=False),
        sa.Column("redirect_to", sa.String(length=253), nullable=True),
        sa.Column("redirect_status", sa.Integer(), nullable=False),
        sa.Column("certificate_policy", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("dns_observation", sa.JSON(), nullable=False),
        sa.Column("verification_attempt_count", sa.Integer(), nullable=False),
        sa.Column("last_verification_attempt_id", sa.String(length=40), nullable=True),
        sa.Column("verified_at", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["environment_id"], ["environments.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["resource_id"], ["resources.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("domain_name"),
    )
    op.create_index("ix_domain_bindings_resource", "domain_bindings", ["resource_id", "id"])
    op.create_index("ix_domain_bindings_project", "domain_bindings", ["project_id", "id"])
    op.create_index("ix_domain_bindings_environment", "domain_bindings", ["environment_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_domain_bindings_environment", table_name="domain_bindings")
    op.drop_index("ix_domain_bindings_project", table_name="domain_bindings")
    op.drop_index("ix_domain_bindings_resource", table_name="domain_bindings")
    op.drop_table("domain_bindings")
