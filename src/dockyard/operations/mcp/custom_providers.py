"""Custom providers and their versions (the /mcp-api `custom-providers` and `custom-provider-versions`
documents): a version deploys at once like a custom server's; promoting one makes it the current
version of an environment, and of the provider for `production`."""

from sqlalchemy import select

from dockyard.domain.errors import Conflict
from dockyard.domain.ids import new_id
from dockyard.operations.catalog import operation
from dockyard.operations.context import Context
from dockyard.operations.mcp.common import filtered, in_range, page
from dockyard.operations.mcp.custom_server_models import (
    CreateCustomProvider,
    CreateCustomProviderVersion,
    CustomProviderOut,
    CustomProviderRef,
    CustomProviderVersionFilter,
    CustomProviderVersionList,
    CustomProviderVersionOut,
    CustomProviderVersionRef,
    PromoteVersion,
)
from dockyard.operations.mcp.custom_servers import (
    MCP,
    environments_of,
    load_custom,
    new_custom,
    new_version,
    version_out,
)
from dockyard.store import queries
from dockyard.store.mcp_tables import McpCustomEnvironment, McpCustomServer, McpCustomVersion, McpProvider


def _provider_out(ctx: Context, row: McpCustomServer) -> CustomProviderOut:
    return CustomProviderOut(
        id=row.id,
        name=row.name,
        description=row.description,
        provider_id=row.provider_id,
        environments=environments_of(ctx, row),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


@operation(
    "custom-providers.create",
    "POST",
    "/custom-providers",
    status_code=201,
    family=MCP,
    cli="mcp custom-providers create",
)
def create_custom_provider(ctx: Context, inp: CreateCustomProvider) -> CustomProviderOut:
    """Create a custom provider (with a `production` environment); add versions to deploy it."""
    return _provider_out(ctx, new_custom(ctx, "provider", inp.name, inp.description))


@operation(
    "custom-providers.show",
    "GET",
    "/custom-providers/{custom_provider_id}",
    family=MCP,
    cli="mcp custom-providers show",
)
def show_custom_provider(ctx: Context, inp: CustomProviderRef) -> CustomProviderOut:
    """Get a custom provider and its environments."""
    return _provider_out(ctx, load_custom(ctx, inp.custom_provider_id, "provider"))


@operation(
    "custom-provider-versions.create",
    "POST",
    "/custom-provider-versions",
    status_code=201,
    family=MCP,
    cli="mcp provider-versions create",
)
def create_custom_provider_version(
    ctx: Context, inp: CreateCustomProviderVersion
) -> CustomProviderVersionOut:
    """Create a version of a custom provider from a container image, a remote MCP server or a stdio command;
    it deploys at once (queued → deploying → deployment_succeeded / deployment_failed)."""
    custom = load_custom(ctx, inp.custom_provider_id, "provider")
    version, _ = new_version(ctx, custom, inp.from_, inp.config, inp.identifier)
    return version_out(ctx, version)


@operation(
    "custom-provider-versions.list",
    "GET",
    "/custom-provider-versions",
    family=MCP,
    cli="mcp provider-versions list",
)
def list_custom_provider_versions(
    ctx: Context, inp: CustomProviderVersionFilter
) -> CustomProviderVersionList:
    """List custom provider versions, newest first, with the document's filters."""
    stmt = select(McpCustomVersion).join(McpCustomServer).where(McpCustomServer.kind == "provider")
    stmt = filtered(stmt, McpCustomVersion.status, inp.status)
    stmt = filtered(stmt, McpCustomVersion.id, inp.id)
    stmt = filtered(stmt, McpCustomVersion.provider_id, inp.provider_id)
    stmt = filtered(stmt, McpCustomVersion.provider_version_id, inp.provider_version_id)
    stmt = filtered(stmt, McpCustomVersion.custom_id, inp.custom_provider_id)
    stmt = filtered(stmt, McpCustomVersion.deployment_id, inp.custom_provider_deployment_id)
    if inp.custom_provider_environment_id:
        stmt = stmt.where(
            McpCustomVersion.id.in_(
                select(McpCustomEnvironment.current_version_id).where(
                    McpCustomEnvironment.id.in_(inp.custom_provider_environment_id)
                )
            )
        )
    stmt = in_range(stmt, McpCustomVersion.created_at, inp, "created_at")
    stmt = in_range(stmt, McpCustomVersion.updated_at, inp, "updated_at")
    rows, pagination = page(ctx, stmt, McpCustomVersion.id, inp)
    return CustomProviderVersionList(items=[version_out(ctx, r) for r in rows], pagination=pagination)


@operation(
    "custom-provider-versions.show",
    "GET",
    "/custom-provider-versions/{custom_provider_version_id}",
    family=MCP,
    cli="mcp provider-versions show",
)
def show_custom_provider_version(ctx: Context, inp: CustomProviderVersionRef) -> CustomProviderVersionOut:
    """Get a custom provider version with its deployment (steps and logs) and environments."""
    row = queries.get_or_404(
        ctx.session, McpCustomVersion, inp.custom_provider_version_id, "custom_provider_version"
    )
    return version_out(ctx, row)


@operation(
    "custom-provider-versions.promote",
    "POST",
    "/custom-provider-versions/{custom_provider_version_id}/promote",
    family=MCP,
    cli="mcp provider-versions promote",
)
def promote_custom_provider_version(ctx: Context, inp: PromoteVersion) -> CustomProviderVersionOut:
    """Make a deployed version the current one of an environment (created when new); the provider follows."""
    row = queries.get_or_404(
        ctx.session, McpCustomVersion, inp.custom_provider_version_id, "custom_provider_version"
    )
    if row.status != "deployment_succeeded":
        raise Conflict(
            f"Version {row.id} is {row.status}; only a deployed version can be promoted.",
            code="version_not_deployed",
            next_action="Wait for its deployment to succeed, or create a new version.",
        )
    env = ctx.session.scalars(
        select(McpCustomEnvironment).where(
            McpCustomEnvironment.custom_id == row.custom_id, McpCustomEnvironment.name == inp.environment
        )
    ).first()
    if env is None:
        env = McpCustomEnvironment(
            id=new_id("custom_provider_environment"),
            custom_id=row.custom_id,
            name=inp.environment,
            created_at=ctx.now,
            updated_at=ctx.now,
        )
        ctx.session.add(env)
    env.current_version_id, env.updated_at = row.id, ctx.now
    if inp.environment == "production" and row.provider_id:
        provider = ctx.session.get(McpProvider, row.provider_id)
        provider.current_version_id, provider.updated_at = row.provider_version_id, ctx.now
    ctx.session.flush()
    return version_out(ctx, row)
