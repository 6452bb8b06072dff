"""Tables of MCP hosting (the /mcp-api family): custom servers and providers, their versions,
deployments and environments; providers, configs and provider deployments; sessions and server runs.
Registered on the same metadata as dockyard.store.tables (dockyard.store imports both)."""

from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dockyard.store.tables import ID, TS, Base


class McpCustomServer(Base):
    """A custom MCP server (`csv_`, kind "server") or custom provider (`cpr_`, kind "provider")."""

    __tablename__ = "mcp_custom_servers"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str | None] = mapped_column(Text)
    provider_id: Mapped[str | None] = mapped_column(ID)
    created_at: Mapped[str] = mapped_column(TS)
    updated_at: Mapped[str] = mapped_column(TS)


class McpCustomVersion(Base):
    """A version of a custom server/provider: where it comes from (stdio command, container image,
    remote URL), its config schema and transformer. Registry passwords are sealed (hosting.sealing)."""

    __tablename__ = "mcp_custom_versions"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    custom_id: Mapped[str] = mapped_column(ForeignKey("mcp_custom_servers.id", ondelete="CASCADE"))
    index: Mapped[int] = mapped_column(Integer)
    identifier: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(24))
    source: Mapped[dict[str, Any]] = mapped_column(JSON)
    config_schema: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    transformer: Mapped[dict[str, Any]] = mapped_column(JSON)
    deployment_id: Mapped[str | None] = mapped_column(ID)
    provider_id: Mapped[str | None] = mapped_column(ID)
    provider_version_id: Mapped[str | None] = mapped_column(ID)
    actor: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[str] = mapped_column(TS)
    updated_at: Mapped[str] = mapped_column(TS)
    __table_args__ = (Index("ix_mcp_custom_versions_custom", "custom_id", "id"),)


class McpCustomDeployment(Base):
    """One deployment of a custom version: status, trigger, and steps with timestamped log lines."""

    __tablename__ = "mcp_custom_deployments"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    custom_id: Mapped[str] = mapped_column(ForeignKey("mcp_custom_servers.id", ondelete="CASCADE"))
    version_id: Mapped[str] = mapped_column(ForeignKey("mcp_custom_versions.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    trigger: Mapped[str] = mapped_column(String(20))
    creator_actor: Mapped[dict[str, Any]] = mapped_column(JSON)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    started_at: Mapped[str | None] = mapped_column(TS)
    ended_at: Mapped[str | None] = mapped_column(TS)
    created_at: Mapped[str] = mapped_column(TS)
    updated_at: Mapped[str] = mapped_column(TS)
    __table_args__ = (Index("ix_mcp_custom_deployments_custom", "custom_id", "id"),)


class McpCustomEnvironment(Base):
    """An environment of a custom provider with its current version (`cpenv_`)."""

    __tablename__ = "mcp_custom_environments"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    custom_id: Mapped[str] = mapped_column(ForeignKey("mcp_custom_servers.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    current_version_id: Mapped[str | None] = mapped_column(ID)
    created_at: Mapped[str] = mapped_column(TS)
    updated_at: Mapped[str] = mapped_column(TS)
    __table_args__ = (Index("ux_mcp_custom_environments_name", "custom_id", "name", unique=True),)


class McpProvider(Base):
    """A provider: what a custom server/provider becomes once a version deployed (`pro_`)."""

    __tablename__ = "mcp_providers"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    custom_id: Mapped[str] = mapped_column(ForeignKey("mcp_custom_servers.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str | None] = mapped_column(Text)
    current_version_id: Mapped[str | None] = mapped_column(ID)
    created_at: Mapped[str] = mapped_column(TS)
    updated_at: Mapped[str] = mapped_column(TS)


class McpProviderVersion(Base):
    """A deployed version of a provider: how to launch it and what discovery found (`prv_`)."""

    __tablename__ = "mcp_provider_versions"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("mcp_providers.id", ondelete="CASCADE"))
    custom_version_id: Mapped[str] = mapped_column(ID)
    version: Mapped[str] = mapped_column(String(80))
    source: Mapped[dict[str, Any]] = mapped_column(JSON)
    config_schema: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    transformer: Mapped[dict[str, Any]] = mapped_column(JSON)
    discovery: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[str] = mapped_column(TS)
    updated_at: Mapped[str] = mapped_column(TS)
    __table_args__ = (Index("ix_mcp_provider_versions_provider", "provider_id", "id"),)


class McpProviderConfig(Base):
    """User config for a provider (`pcf_`): sealed as a whole; `masked` is what answers show."""

    __tablename__ = "mcp_provider_configs"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("mcp_providers.id", ondelete="CASCADE"))
    name: Mapped[str | None] = mapped_column(String(80))
    description: Mapped[str | None] = mapped_column(Text)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON)
    sealed: Mapped[str] = mapped_column(Text)
    masked: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[str] = mapped_column(TS)
    updated_at: Mapped[str] = mapped_column(TS)


class McpProviderDeployment(Base):
    """A configured instance of a provider sessions connect to (`pde_`)."""

    __tablename__ = "mcp_provider_deployments"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("mcp_providers.id", ondelete="CASCADE"))
    name: Mapped[str | None] = mapped_column(String(80))
    description: Mapped[str | None] = mapped_column(Text)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    locked_version_id: Mapped[str | None] = mapped_column(ID)
    provider_config_id: Mapped[str | None] = mapped_column(ID)
    tool_filter: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[str] = mapped_column(TS)
    updated_at: Mapped[str] = mapped_column(TS)
    __table_args__ = (Index("ix_mcp_provider_deployments_provider", "provider_id", "id"),)


class McpSession(Base):
    """A gateway session (`ses_`): the deployments it combines and the hash of its client secret."""

    __tablename__ = "mcp_sessions"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[str] = mapped_column(TS)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON)
    client_message_count: Mapped[int] = mapped_column(Integer, default=0)
    server_message_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[str] = mapped_column(TS)
    updated_at: Mapped[str] = mapped_column(TS)


class McpServerSession(Base):
    """One deployment within a session (`srs_`): its MCP client/server info and usage."""

    __tablename__ = "mcp_server_sessions"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("mcp_sessions.id", ondelete="CASCADE"))
    provider_deployment_id: Mapped[str] = mapped_column(ID)
    namespace: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(16))
    mcp: Mapped[dict[str, Any]] = mapped_column(JSON)
    client_message_count: Mapped[int] = mapped_column(Integer, default=0)
    server_message_count: Mapped[int] = mapped_column(Integer, default=0)
    refused_tool_call_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[str] = mapped_column(TS)
    updated_at: Mapped[str] = mapped_column(TS)
    __table_args__ = (
        Index("ix_mcp_server_sessions_session", "session_id", "id"),
        Index("ix_mcp_server_sessions_deployment", "provider_deployment_id"),
    )


class McpServerRun(Base):
    """One boot of a server for a server session (`srr_`): hosted process/container or proxied remote."""

    __tablename__ = "mcp_server_runs"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    server_session_id: Mapped[str] = mapped_column(ForeignKey("mcp_server_sessions.id", ondelete="CASCADE"))
    provider_version_id: Mapped[str] = mapped_column(ID)
    type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    failure: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    client_message_count: Mapped[int] = mapped_column(Integer, default=0)
    server_message_count: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[str | None] = mapped_column(TS)
    stopped_at: Mapped[str | None] = mapped_column(TS)
    created_at: Mapped[str] = mapped_column(TS)
    updated_at: Mapped[str] = mapped_column(TS)
    __table_args__ = (Index("ix_mcp_server_runs_server_session", "server_session_id", "id"),)


class McpRunLog(Base):
    """A log event of a server run: its stderr lines and the gateway's own notes."""

    __tablename__ = "mcp_run_logs"
    run_id: Mapped[str] = mapped_column(
        ForeignKey("mcp_server_runs.id", ondelete="CASCADE"), primary_key=True
    )
    sequence: Mapped[int] = mapped_column(Integer, primary_key=True)
    timestamp: Mapped[str] = mapped_column(TS)
    stream: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
