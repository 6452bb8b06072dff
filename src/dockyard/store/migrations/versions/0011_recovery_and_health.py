"""recovery and health: the work ledger's columns on work_items, health observations, runtime samples

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

LEDGER_COLUMNS = (
    ("operation_key", sa.String(length=80)),
    ("project_id", sa.String(length=40)),
    ("resource_id", sa.String(length=40)),
    ("deployment_id", sa.String(length=40)),
    ("server_id", sa.String(length=40)),
    ("domain_binding_id", sa.String(length=40)),
    ("certificate_id", sa.String(length=40)),
    ("phase", sa.String(length=40)),
    ("step", sa.String(length=80)),
    ("started_at", sa.String(length=32)),
    ("finished_at", sa.String(length=32)),
    ("error_code", sa.String(length=60)),
    ("error_category", sa.String(length=30)),
    ("retriable", sa.Boolean()),
    ("retry_of_work_id", sa.String(length=40)),
    ("safe_details", sa.JSON()),
)


def upgrade() -> None:
    with op.batch_alter_table("work_items", schema=None) as batch_op:
        for name, kind in LEDGER_COLUMNS:
            batch_op.add_column(sa.Column(name, kind, nullable=True))
        batch_op.create_index("ix_work_items_resource", ["resource_id", "id"], unique=False)
        batch_op.create_index("ix_work_items_deployment", ["deployment_id"], unique=False)
        batch_op.create_index("ix_work_items_status", ["status", "id"], unique=False)
    op.create_table(
        "health_observations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("resource_id", sa.String(length=40), nullable=False),
        sa.Column("observed_at", sa.String(length=32), nullable=False),
        sa.Column("overall", sa.String(length=20), nullable=False),
        sa.Column("runtime_lifecycle", sa.String(length=20), nullable=False),
        sa.Column("runtime_health", sa.String(length=20), nullable=False),
        sa.Column("latest_deployment_id", sa.String(length=40), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["resource_id"], ["resources.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_health_observations_resource", "health_observations", ["resource_id", "id"])
    op.create_table(
        "runtime_samples",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("resource_id", sa.String(length=40), nullable=False),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("environment_id", sa.String(length=40), nullable=False),
        sa.Column("server_id", sa.String(length=40), nullable=True),
        sa.Column("deployment_id", sa.String(length=40), nullable=True),
        sa.Column("runtime_kind", sa.String(length=20), nullable=True),
        sa.Column("observed_at", sa.String(length=32), nullable=False),
        sa.Column("cpu_percent", sa.Float(), nullable=True),
        sa.Column("memory_bytes", sa.BigInteger(), nullable=True),
        sa.Column("restarts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["resource_id"], ["resources.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_runtime_samples_resource", "runtime_samples", ["resource_id", "id"])
    op.create_index("ix_runtime_samples_observed", "runtime_samples", ["observed_at"])


def downgrade() -> None:
    op.drop_index("ix_runtime_samples_observed", table_name="runtime_samples")
    op.drop_index("ix_runtime_samples_resource", table_name="runtime_samples")
    op.drop_table("runtime_samples")
    op.drop_index("ix_health_observations_resource", table_name="health_observations")
    op.drop_table("health_observations")
    with op.batch_alter_table("work_items", schema=None) as batch_op:
        batch_op.drop_index("ix_work_items_status")
        batch_op.drop_index("ix_work_items_deployment")
        batch_op.drop_index("ix_work_items_resource")
        for name, _ in reversed(LEDGER_COLUMNS):
            batch_op.drop_column(name)
