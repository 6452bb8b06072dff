"""configuration variables of projects, environments and resources, and sealed secret values

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "secret_values",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("ciphertext", sa.Text(), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_secret_values_project", "secret_values", ["project_id", "id"])
    op.create_table(
        "config_variables",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("environment_id", sa.String(length=40), nullable=True),
        sa.Column("resource_id", sa.String(length=40), nullable=True),
        sa.Column("owner_id", sa.String(length=40), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=256), nullable=False),
        sa.Column("exposure", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("is_secret", sa.Boolean(), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("secret_value_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["environment_id"], ["environments.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["resource_id"], ["resources.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["secret_value_id"], ["secret_values.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ux_config_variables_identity",
        "config_variables",
        ["owner_id", "scope", "key", "exposure"],
        unique=True,
    )
    op.create_index("ix_config_variables_environment", "config_variables", ["environment_id"])
    op.create_index("ix_config_variables_resource", "config_variables", ["resource_id"])


def downgrade() -> None:
    op.drop_index("ix_config_variables_resource", table_name="config_variables")
    op.drop_index("ix_config_variables_environment", table_name="config_variables")
    op.drop_index("ux_config_variables_identity", table_name="config_variables")
    op.drop_table("config_variables")
    op.drop_index("ix_secret_values_project", table_name="secret_values")
    op.drop_table("secret_values")
