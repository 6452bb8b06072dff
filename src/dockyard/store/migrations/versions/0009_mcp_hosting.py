"""MCP hosting: custom servers/providers, versions, deployments, providers, configs, provider
deployments, gateway sessions, server sessions, server runs and their logs

Revision ID: 0009
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mcp_custom_servers",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("provider_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "mcp_sessions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.String(length=32), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("client_message_count", sa.Integer(), nullable=False),
        sa.Column("server_message_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "mcp_custom_environments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("custom_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("current_version_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["custom_id"], ["mcp_custom_servers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ux_mcp_custom_environments_name", "mcp_custom_environments", ["custom_id", "name"], unique=True
    )
    op.create_table(
        "mcp_custom_versions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("custom_id", sa.String(length=40), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("source", sa.JSON(), nullable=False),
        sa.Column("config_schema", sa.JSON(), nullable=True),
        sa.Column("transformer", sa.JSON(), nullable=False),
        sa.Column("deployment_id", sa.String(length=40), nullable=True),
        sa.Column("provider_id", sa.String(length=40), nullable=True),
        sa.Column("provider_version_id", sa.String(length=40), nullable=True),
        sa.Column("actor", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["custom_id"], ["mcp_custom_servers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_mcp_custom_versions_custom", "mcp_custom_versions", ["custom_id", "id"], unique=False)
    op.create_table(
        "mcp_providers",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("custom_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("current_version_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["custom_id"], ["mcp_custom_servers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "mcp_server_sessions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("session_id", sa.String(length=40), nullable=False),
        sa.Column("provider_deployment_id", sa.String(length=40), nullable=False),
        sa.Column("namespace", sa.String(length=80), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("mcp", sa.JSON(), nullable=False),
        sa.Column("client_message_count", sa.Integer(), nullable=False),
        sa.Column("server_message_count", sa.Integer(), nullable=False),
        sa.Column("refused_tool_call_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["mcp_sessions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_mcp_server_sessions_deployment", "mcp_server_sessions", ["provider_deployment_id"], unique=False
    )
    op.create_index(
        "ix_mcp_server_sessions_session", "mcp_server_sessions", ["session_id", "id"], unique=False
    )
    op.create_table(
        "mcp_custom_deployments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("custom_id", sa.String(length=40), nullable=False),
        sa.Column("version_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("creator_actor", sa.JSON(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("error", sa.JSON(), nullable=True),
        sa.Column("started_at", sa.String(length=32), nullable=True),
        sa.Column("ended_at", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["custom_id"], ["mcp_custom_servers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["version_id"], ["mcp_custom_versions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_mcp_custom_deployments_custom", "mcp_custom_deployments", ["custom_id", "id"], unique=False
    )
    op.create_table(
        "mcp_provider_configs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("provider_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("masked", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["provider_id"], ["mcp_providers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "mcp_provider_deployments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("provider_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("locked_version_id", sa.String(length=40), nullable=True),
        sa.Column("provider_config_id", sa.String(length=40), nullable=True),
        sa.Column("tool_filter", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["provider_id"], ["mcp_providers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_mcp_provider_deployments_provider",
        "mcp_provider_deployments",
        ["provider_id", "id"],
        unique=False,
    )
    op.create_table(
        "mcp_provider_versions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("provider_id", sa.String(length=40), nullable=False),
        sa.Column("custom_version_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.String(length=80), nullable=False),
        sa.Column("source", sa.JSON(), nullable=False),
        sa.Column("config_schema", sa.JSON(), nullable=True),
        sa.Column("transformer", sa.JSON(), nullable=False),
        sa.Column("discovery", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["provider_id"], ["mcp_providers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_mcp_provider_versions_provider", "mcp_provider_versions", ["provider_id", "id"], unique=False
    )
    op.create_table(
        "mcp_server_runs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("server_session_id", sa.String(length=40), nullable=False),
        sa.Column("provider_version_id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("failure", sa.JSON(), nullable=True),
        sa.Column("client_message_count", sa.Integer(), nullable=False),
        sa.Column("server_message_count", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.String(length=32), nullable=True),
        sa.Column("stopped_at", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["server_session_id"], ["mcp_server_sessions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_mcp_server_runs_server_session", "mcp_server_runs", ["server_session_id", "id"], unique=False
    )
    op.create_table(
        "mcp_run_logs",
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("timestamp", sa.String(length=32), nullable=False),
        sa.Column("stream", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["mcp_server_runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "sequence"),
    )


def downgrade() -> None:
    op.drop_table("mcp_run_logs")
    op.drop_index("ix_mcp_server_runs_server_session", table_name="mcp_server_runs")
    op.drop_table("mcp_server_runs")
    op.drop_index("ix_mcp_provider_versions_provider", table_name="mcp_provider_versions")
    op.drop_table("mcp_provider_versions")
    op.drop_index("ix_mcp_provider_deployments_provider", table_name="mcp_provider_deployments")
    op.drop_table("mcp_provider_deployments")
    op.drop_table("mcp_provider_configs")
    op.drop_index("ix_mcp_custom_deployments_custom", table_name="mcp_custom_deployments")
    op.drop_table("mcp_custom_deployments")
    op.drop_index("ix_mcp_server_sessions_session", table_name="mcp_server_sessions")
    op.drop_index("ix_mcp_server_sessions_deployment", table_name="mcp_server_sessions")
    op.drop_table("mcp_server_sessions")
    op.drop_table("mcp_providers")
    op.drop_index("ix_mcp_custom_versions_custom", table_name="mcp_custom_versions")
    op.drop_table("mcp_custom_versions")
    op.drop_index("ux_mcp_custom_environments_name", table_name="mcp_custom_environments")
    op.drop_table("mcp_custom_environments")
    op.drop_table("mcp_sessions")
    op.drop_table("mcp_custom_servers")
