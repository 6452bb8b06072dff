"""Providers (what a deployed custom server/provider becomes), their configs and deployments.

A provider deployment is what sessions connect to: a provider pinned to a version or following the
current one, a config validated against that version's JSON Schema (sealed at rest, masked in
answers), and a tool filter the gateway applies to tools/list and tools/call alike.
"""

import json
from typing import Any

from sqlalchemy import or_, select

from dockyard.domain import mcp_config, mcp_tool_filters
from dockyard.domain.errors import Conflict, Invalid
from dockyard.domain.ids import new_id
from dockyard.hosting import sealing
from dockyard.operations.catalog import Family, operation
from dockyard.operations.context import Context
from dockyard.operations.mcp.common import McpPageQuery, filtered, in_range, page
from dockyard.operations.mcp.provider_models import (
    CreateProviderConfig,
    CreateProviderDeployment,
    DeleteProviderDeployment,
    ProviderConfigIn,
    ProviderConfigOut,
    ProviderConfigRef,
    ProviderDeploymentFilter,
    ProviderDeploymentList,
    ProviderDeploymentOut,
    ProviderDeploymentRef,
    ProviderList,
    ProviderOut,
    ProviderRef,
    ProviderVersionFilter,
    ProviderVersionList,
    ProviderVersionOut,
    ProviderVersionRef,
    ToolFilterOut,
    UpdateProviderDeployment,
)
from dockyard.store import queries
from dockyard.store.mcp_tables import (
    McpProvider,
    McpProviderConfig,
    McpProviderDeployment,
    McpProviderVersion,
    McpServerSession,
    McpSession,
)

MCP = Family.MCP_API


def version_out(row: McpProviderVersion, full: bool = False) -> ProviderVersionOut:
    found = row.discovery or {}
    extra: dict[str, Any] = {}
    if full:
        extra = {
            "server_info": found.get("server_info"),
            "capabilities": found.get("capabilities"),
            "tools": found.get("tools"),
            "prompts": found.get("prompts"),
            "resources": found.get("resources"),
            "config_schema": row.config_schema,
        }
    return ProviderVersionOut(
        id=row.id,
        version=row.version,
        provider_id=row.provider_id,
        name=f"Version {row.version}",
        metadata={},
        created_at=row.created_at,
        updated_at=row.updated_at,
        **extra,
    )


def load_provider(ctx: Context, provider_id: str) -> McpProvider:
    return queries.get_or_404(ctx.session, McpProvider, provider_id, "provider")


def _provider_out(ctx: Context, row: McpProvider) -> ProviderOut:
    current = ctx.session.get(McpProviderVersion, row.current_version_id) if row.current_version_id else None
    return ProviderOut(
        id=row.id,
        name=row.name,
        description=row.description,
        custom_provider_id=row.custom_id,
        current_version=version_out(current, full=True) if current else None,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


@operation("providers.list", "GET", "/providers", family=MCP, cli="mcp providers list")
def list_providers(ctx: Context, inp: McpPageQuery) -> ProviderList:
    """List providers (custom servers and providers with a deployed version)."""
    rows, pagination = page(ctx, select(McpProvider), McpProvider.id, inp)
    return ProviderList(items=[_provider_out(ctx, r) for r in rows], pagination=pagination)


@operation("providers.show", "GET", "/providers/{provider_id}", family=MCP, cli="mcp providers show")
def show_provider(ctx: Context, inp: ProviderRef) -> ProviderOut:
    """Get a provider with its current version: discovered tools, prompts, resources and config schema."""
    return _provider_out(ctx, load_provider(ctx, inp.provider_id))


@operation(
    "provider-versions.list",
    "GET",
    "/providers/{provider_id}/versions",
    family=MCP,
    cli="mcp providers versions",
)
def list_provider_versions(ctx: Context, inp: ProviderVersionFilter) -> ProviderVersionList:
    """List a provider's deployed versions, newest first."""
    provider = load_provider(ctx, inp.provider_id)
    stmt = select(McpProviderVersion).where(McpProviderVersion.provider_id == provider.id)
    rows, pagination = page(ctx, stmt, McpProviderVersion.id, inp)
    return ProviderVersionList(items=[version_out(r) for r in rows], pagination=pagination)


@operation(
    "provider-versions.show",
    "GET",
    "/provider-versions/{provider_version_id}",
    family=MCP,
    cli="mcp providers version",
)
def show_provider_version(ctx: Context, inp: ProviderVersionRef) -> ProviderVersionOut:
    """Get a provider version: what discovery found (tools, prompts, resources) and its config schema."""
    row = queries.get_or_404(ctx.session, McpProviderVersion, inp.provider_version_id, "provider_version")
    return version_out(row, full=True)


# --- configs --------------------------------------------------------------------------------------------


def _version_for(ctx: Context, provider: McpProvider, version_id: str | None) -> McpProviderVersion:
    wanted = version_id or provider.current_version_id
    if wanted is None:
        raise Conflict(
            f"Provider {provider.id} has no deployed version yet.",
            code="provider_not_deployed",
            next_action="Wait for its custom version's deployment to succeed.",
        )
    return queries.get_or_404(
        ctx.session, McpProviderVersion, wanted, "provider_version", provider_id=provider.id
    )


def new_config(
    ctx: Context, provider: McpProvider, version: McpProviderVersion, inp: ProviderConfigIn, where: str
) -> McpProviderConfig:
    """Validated against the version's schema (the error names the field), sealed, masked for answers."""
    mcp_config.validate(version.config_schema, inp.config, where)
    row_id = new_id("provider_config")
    row = McpProviderConfig(
        id=row_id,
        provider_id=provider.id,
        name=inp.name,
        description=inp.description,
        meta=inp.metadata,
        sealed=sealing.seal(ctx.settings.data_dir, json.dumps(inp.config), row_id),
        masked=mcp_config.masked(version.config_schema, inp.config),
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    ctx.session.add(row)
    ctx.session.flush()
    return row


def config_out(row: McpProviderConfig, preview: bool = False) -> ProviderConfigOut:
    return ProviderConfigOut(
        object="provider.config#preview" if preview else "provider.config",
        id=row.id,
        name=row.name,
        description=row.description,
        metadata=row.meta,
        provider_id=row.provider_id,
        config=None if preview else row.masked,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


@operation(
    "provider-configs.create",
    "POST",
    "/provider-configs",
    status_code=201,
    family=MCP,
    cli="mcp configs create",
)
def create_provider_config(ctx: Context, inp: CreateProviderConfig) -> ProviderConfigOut:
    """Store config for a provider, validated against its version's JSON Schema; secret fields are masked."""
    provider = load_provider(ctx, inp.provider_id)
    version = _version_for(ctx, provider, inp.provider_version_id)
    return config_out(new_config(ctx, provider, version, inp, "config"))


@operation(
    "provider-configs.show",
    "GET",
    "/provider-configs/{provider_config_id}",
    family=MCP,
    cli="mcp configs show",
)
def show_provider_config(ctx: Context, inp: ProviderConfigRef) -> ProviderConfigOut:
    """Get a provider config (secret values masked)."""
    return config_out(
        queries.get_or_404(ctx.session, McpProviderConfig, inp.provider_config_id, "provider_config")
    )


# --- deployments ----------------------------------------------------------------------------------------


def load_deployment(ctx: Context, deployment_id: str) -> McpProviderDeployment:
    return queries.get_or_404(ctx.session, McpProviderDeployment, deployment_id, "provider_deployment")


def deployment_out(ctx: Context, row: McpProviderDeployment) -> ProviderDeploymentOut:
    provider = ctx.session.get(McpProvider, row.provider_id)
    locked = ctx.session.get(McpProviderVersion, row.locked_version_id) if row.locked_version_id else None
    current_id = row.locked_version_id or provider.current_version_id
    current = ctx.session.get(McpProviderVersion, current_id) if current_id else None
    config = ctx.session.get(McpProviderConfig, row.provider_config_id) if row.provider_config_id else None
    return ProviderDeploymentOut(
        id=row.id,
        status=row.status,  # type: ignore[arg-type]
        is_default=row.is_default,
        name=row.name,
        description=row.description,
        metadata=row.meta,
        tool_filter=ToolFilterOut(**row.tool_filter),
        provider_id=row.provider_id,
        locked_version=version_out(locked) if locked else None,
        current_version=version_out(current) if current else None,
        default_config=config_out(config, preview=True) if config else None,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


@operation(
    "provider-deployments.create",
    "POST",
    "/provider-deployments",
    status_code=201,
    family=MCP,
    cli="mcp provider-deployments create",
)
def create_provider_deployment(ctx: Context, inp: CreateProviderDeployment) -> ProviderDeploymentOut:
    """Create a provider deployment: a version pin (or follow the current one), config and tool filter."""
    if inp.provider_config_id and inp.provider_config:
        raise Invalid(
            "Send either provider_config_id or provider_config, not both.",
            code="validation_failed",
            details={"field": "provider_config"},
            next_action="Keep one of the two fields.",
        )
    provider = load_provider(ctx, inp.provider_id)
    version = _version_for(ctx, provider, inp.locked_provider_version_id)
    tool_filter = mcp_tool_filters.normalize(inp.tool_filters)
    if inp.provider_config_id:
        config = queries.get_or_404(
            ctx.session, McpProviderConfig, inp.provider_config_id, "provider_config", provider_id=provider.id
        )
        mcp_config.validate(
            version.config_schema,
            json.loads(sealing.open_sealed(ctx.settings.data_dir, config.sealed, config.id)),
        )
    else:
        inline = inp.provider_config or ProviderConfigIn()
        if inline.name is None:
            inline = inline.model_copy(update={"name": inp.name})
        config = new_config(ctx, provider, version, inline, "provider_config")
    is_first = (
        ctx.session.scalars(
            select(McpProviderDeployment.id).where(McpProviderDeployment.provider_id == provider.id).limit(1)
        ).first()
        is None
    )
    row = McpProviderDeployment(
        id=new_id("provider_deployment"),
        provider_id=provider.id,
        name=inp.name,
        description=inp.description,
        meta=inp.metadata,
        status="active",
        is_default=is_first,
        locked_version_id=inp.locked_provider_version_id,
        provider_config_id=config.id,
        tool_filter=tool_filter,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    ctx.session.add(row)
    ctx.session.flush()
    return deployment_out(ctx, row)


@operation(
    "provider-deployments.list",
    "GET",
    "/provider-deployments",
    family=MCP,
    cli="mcp provider-deployments list",
)
def list_provider_deployments(ctx: Context, inp: ProviderDeploymentFilter) -> ProviderDeploymentList:
    """List provider deployments, newest first, with the document's filters."""
    stmt = select(McpProviderDeployment)
    stmt = filtered(stmt, McpProviderDeployment.id, inp.id)
    stmt = filtered(stmt, McpProviderDeployment.provider_id, inp.provider_id)
    stmt = filtered(stmt, McpProviderDeployment.status, inp.status)
    if inp.provider_version_id:
        following = select(McpProvider.id).where(McpProvider.current_version_id.in_(inp.provider_version_id))
        stmt = stmt.where(
            or_(
                McpProviderDeployment.locked_version_id.in_(inp.provider_version_id),
                McpProviderDeployment.locked_version_id.is_(None)
                & McpProviderDeployment.provider_id.in_(following),
            )
        )
    if inp.actor_id or inp.consumer_id or inp.identity_id or inp.identity_credential_id:
        stmt = stmt.where(
            McpProviderDeployment.id.is_(None)
        )  # no actors/consumers/identities here: nothing matches
    if inp.search:
        like = f"%{inp.search}%"
        stmt = stmt.where(
            or_(McpProviderDeployment.name.ilike(like), McpProviderDeployment.description.ilike(like))
        )
    stmt = in_range(stmt, McpProviderDeployment.created_at, inp, "created_at")
    stmt = in_range(stmt, McpProviderDeployment.updated_at, inp, "updated_at")
    rows, pagination = page(ctx, stmt, McpProviderDeployment.id, inp)
    return ProviderDeploymentList(items=[deployment_out(ctx, r) for r in rows], pagination=pagination)


@operation(
    "provider-deployments.show",
    "GET",
    "/provider-deployments/{provider_deployment_id}",
    family=MCP,
    cli="mcp provider-deployments show",
)
def show_provider_deployment(ctx: Context, inp: ProviderDeploymentRef) -> ProviderDeploymentOut:
    """Get a provider deployment."""
    return deployment_out(ctx, load_deployment(ctx, inp.provider_deployment_id))


@operation(
    "provider-deployments.update",
    "PATCH",
    "/provider-deployments/{provider_deployment_id}",
    family=MCP,
    cli="mcp provider-deployments update",
)
def update_provider_deployment(ctx: Context, inp: UpdateProviderDeployment) -> ProviderDeploymentOut:
    """Change name, description, metadata or tool filter (open sessions see a change within 2 s)."""
    row = load_deployment(ctx, inp.provider_deployment_id)
    sent = inp.model_fields_set
    if "name" in sent:
        row.name = inp.name
    if "description" in sent:
        row.description = inp.description
    if "metadata" in sent:
        row.meta = inp.metadata or {}
    if "tool_filters" in sent:
        row.tool_filter = mcp_tool_filters.normalize(inp.tool_filters)
    row.updated_at = ctx.now
    ctx.session.flush()
    return deployment_out(ctx, row)


@operation(
    "provider-deployments.delete",
    "DELETE",
    "/provider-deployments/{provider_deployment_id}",
    family=MCP,
    cli="mcp provider-deployments delete",
)
def delete_provider_deployment(ctx: Context, inp: DeleteProviderDeployment) -> ProviderDeploymentOut:
    """Delete a provider deployment (answers the deleted object, as the reference does).

    Refused while open sessions use it unless `force` is true.
    """
    row = load_deployment(ctx, inp.provider_deployment_id)
    in_use = ctx.session.scalars(
        select(McpSession.id)
        .join(McpServerSession, McpServerSession.session_id == McpSession.id)
        .where(
            McpServerSession.provider_deployment_id == row.id,
            McpSession.status == "active",
            McpSession.expires_at > ctx.now,
        )
        .distinct()
    ).all()
    if in_use and not inp.force:
        raise Conflict(
            f"Provider deployment {row.id} is used by {len(in_use)} open session(s).",
            code="provider_deployment_in_use",
            details={"session_ids": list(in_use)[:20]},
            next_action="Close those sessions first, or send force: true.",
        )
    deleted = deployment_out(ctx, row)
    ctx.session.delete(row)
    ctx.session.flush()
    return deleted
