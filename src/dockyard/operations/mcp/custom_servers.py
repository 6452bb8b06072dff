"""Custom MCP servers, and what custom providers share with them (mcp.custom_providers): create from a
stdio command, a container image or a remote URL; versions; deployments with steps. A deployment is
durable work (`mcp_deployment`, see hosting.deploy): the answer comes at once with status `queued`."""

import json
from typing import Any

from sqlalchemy import func, select

from dockyard.domain import mcp_config
from dockyard.domain.errors import not_found
from dockyard.domain.ids import new_id
from dockyard.hosting import sealing
from dockyard.operations.catalog import Family, operation
from dockyard.operations.context import Context
from dockyard.operations.mcp.common import McpPageQuery, actor, filtered, page
from dockyard.operations.mcp.custom_server_models import (
    ActorPreviewOut,
    CreateCustomServer,
    CreateCustomServerVersion,
    CustomProviderDeploymentOut,
    CustomProviderEnvironmentOut,
    CustomProviderVersionOut,
    CustomServerDeploymentFilter,
    CustomServerDeploymentList,
    CustomServerDeploymentOut,
    CustomServerDeploymentRef,
    CustomServerList,
    CustomServerOut,
    CustomServerRef,
    DeploymentCommitOut,
    From,
    StepOut,
    VersionConfigIn,
    VersionConfigOut,
    VersionEnvironmentOut,
)
from dockyard.store import queries
from dockyard.store.mcp_tables import (
    McpCustomDeployment,
    McpCustomEnvironment,
    McpCustomServer,
    McpCustomVersion,
)
from dockyard.work import queue

MCP = Family.MCP_API
KIND = {"server": "custom_server", "provider": "custom_provider"}


# --- creating a version and its deployment ----------------------------------------------------------


def _source(ctx: Context, version_id: str, src: From) -> dict[str, Any]:
    """The stored source; a registry password and remote headers are sealed for this version's row."""
    data = src.model_dump(exclude_none=True)
    data["type"] = {"container_image": "container", "remote_mcp_server": "remote"}.get(src.type, src.type)
    if data.pop("password", None) is not None:
        data["password_sealed"] = sealing.seal(ctx.settings.data_dir, src.password, version_id)
    headers = data.pop("headers", None)
    if headers:
        data["headers_sealed"] = sealing.seal(ctx.settings.data_dir, json.dumps(headers), version_id)
    env = data.pop("env", None)
    if env:  # a stdio server's or container's environment often holds its API keys
        data["env_sealed"] = sealing.seal(ctx.settings.data_dir, json.dumps(env), version_id)
        data["env_keys"] = sorted(env)
    return data


def _config(config: VersionConfigIn | None) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    if config is None:
        return None, {}
    if config.config_schema is not None:
        mcp_config.check_schema(config.config_schema)
    return config.config_schema, mcp_config.parse_transformer(config.transformer)


def new_version(
    ctx: Context, custom: McpCustomServer, src: From, config: VersionConfigIn | None, identifier: str | None
) -> tuple[McpCustomVersion, McpCustomDeployment]:
    """A queued version and its queued deployment, and the work item that deploys it (one transaction)."""
    schema, transformer = _config(config)
    kind = KIND[custom.kind]
    index = (
        ctx.session.scalar(
            select(func.max(McpCustomVersion.index)).where(McpCustomVersion.custom_id == custom.id)
        )
        or 0
    ) + 1
    version_id = new_id(f"{kind}_version")
    version = McpCustomVersion(
        id=version_id,
        custom_id=custom.id,
        index=index,
        identifier=identifier or f"v{index}",
        status="queued",
        source=_source(ctx, version_id, src),
        config_schema=schema,
        transformer=transformer,
        actor=actor(ctx),
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    deployment = McpCustomDeployment(
        id=new_id(f"{kind}_deployment"),
        custom_id=custom.id,
        version_id=version_id,
        status="queued",
        trigger="manual",
        creator_actor=actor(ctx),
        steps=[],
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    version.deployment_id = deployment.id
    ctx.session.add(version)
    ctx.session.flush()
    ctx.session.add(deployment)
    ctx.session.flush()
    queue.enqueue(ctx.session, "mcp_deployment", deployment.id, ctx.now)
    ctx.after_commit.append(ctx.svc.wake_worker)
    return version, deployment


def new_custom(ctx: Context, kind: str, name: str, description: str | None) -> McpCustomServer:
    row = McpCustomServer(
        id=new_id(KIND[kind]),
        kind=kind,
        name=name,
        description=description,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    ctx.session.add(row)
    ctx.session.flush()
    if kind == "provider":
        ctx.session.add(
            McpCustomEnvironment(
                id=new_id("custom_provider_environment"),
                custom_id=row.id,
                name="production",
                created_at=ctx.now,
                updated_at=ctx.now,
            )
        )
        ctx.session.flush()
    return row


# --- answers ------------------------------------------------------------------------------------------


def deployment_out(
    row: McpCustomDeployment, kind: str, provider_id: str | None = None
) -> CustomServerDeploymentOut:
    return CustomServerDeploymentOut(
        object=f"{KIND[kind]}.deployment",
        id=row.id,
        status=row.status,  # type: ignore[arg-type]
        trigger=row.trigger,  # type: ignore[arg-type]
        creator_actor=row.creator_actor,
        custom_server_id=row.custom_id,
        custom_server_version_id=row.version_id,
        provider_id=provider_id,
        error=row.error,
        created_at=row.created_at,
        updated_at=row.updated_at,
        started_at=row.started_at,
        ended_at=row.ended_at,
        steps=[StepOut.model_validate(s) for s in row.steps],
    )


def load_custom(ctx: Context, custom_id: str, kind: str) -> McpCustomServer:
    row = queries.get_or_404(ctx.session, McpCustomServer, custom_id, KIND[kind])
    if row.kind != kind:
        raise not_found(KIND[kind], custom_id)
    return row


def _server_out(ctx: Context, row: McpCustomServer) -> CustomServerOut:
    latest = ctx.session.scalars(
        select(McpCustomDeployment)
        .where(McpCustomDeployment.custom_id == row.id)
        .order_by(McpCustomDeployment.id.desc())
        .limit(1)
    ).first()
    current = ctx.session.scalars(
        select(McpCustomVersion.id)
        .where(McpCustomVersion.custom_id == row.id, McpCustomVersion.status == "deployment_succeeded")
        .order_by(McpCustomVersion.id.desc())
        .limit(1)
    ).first()
    return CustomServerOut(
        id=row.id,
        name=row.name,
        description=row.description,
        provider_id=row.provider_id,
        current_version_id=current,
        latest_deployment=deployment_out(latest, "server", row.provider_id) if latest else None,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def environments_of(ctx: Context, custom: McpCustomServer) -> list[CustomProviderEnvironmentOut]:
    envs = ctx.session.scalars(
        select(McpCustomEnvironment)
        .where(McpCustomEnvironment.custom_id == custom.id)
        .order_by(McpCustomEnvironment.id)
    )
    out = []
    for env in envs:
        current = (
            ctx.session.get(McpCustomVersion, env.current_version_id) if env.current_version_id else None
        )
        out.append(
            CustomProviderEnvironmentOut(
                id=env.id,
                name=env.name,
                custom_provider_id=custom.id,
                provider_id=custom.provider_id,
                current_custom_provider_version_id=env.current_version_id,
                current_provider_version_id=current.provider_version_id if current else None,
                created_at=env.created_at,
                updated_at=env.updated_at,
            )
        )
    return out


def _source_views(source: dict[str, Any]) -> dict[str, Any]:
    if source["type"] == "container":
        ref = source["image_ref"]
        image, _, tag = ref.rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (ref, "", "latest")
        return {
            "container_image": {
                "container_registry": ref.split("/", 1)[0] if "/" in ref else None,
                "container_image": image,
                "container_image_tag": tag,
                "username": source.get("username"),
            }
        }
    if source["type"] == "remote":
        return {
            "remote_mcp_server": {
                "url": source["url"],
                "transport": source.get("transport", "streamable_http"),
                "has_headers": bool(source.get("headers_sealed")),
            }
        }
    return {
        "stdio_command": {k: source.get(k) for k in ("command", "args", "cwd")}
        | {"env": source.get("env_keys", [])}  # the names only: the values are sealed
    }


def _provider_deployment_out(dep: McpCustomDeployment, row: McpCustomVersion) -> CustomProviderDeploymentOut:
    base = deployment_out(dep, "provider", row.provider_id)
    return CustomProviderDeploymentOut(
        **base.model_dump(),
        custom_provider_id=base.custom_server_id,
        custom_provider_version_id=base.custom_server_version_id,
        commit=DeploymentCommitOut(),
        immutable_bucket=None,
        actor=ActorPreviewOut.of(dep.creator_actor),
        scm_push=None,
    )


def version_out(ctx: Context, row: McpCustomVersion) -> CustomProviderVersionOut:
    custom = ctx.session.get(McpCustomServer, row.custom_id)
    dep = ctx.session.get(McpCustomDeployment, row.deployment_id) if row.deployment_id else None
    envs = [
        VersionEnvironmentOut(**e.model_dump(), environment=e)
        for e in environments_of(ctx, custom)
        if e.current_custom_provider_version_id == row.id
    ]
    config = (
        VersionConfigOut.model_validate(
            {
                "schema": {"type": "json_schema", "schema": row.config_schema or {}},
                "transformer": row.transformer,
            }
        )
        if row.config_schema is not None or row.transformer
        else None
    )
    return CustomProviderVersionOut(
        id=row.id,
        status=row.status,  # type: ignore[arg-type]
        config=config,
        index=row.index,
        identifier=row.identifier,
        deployment=_provider_deployment_out(dep, row) if dep else None,
        environments=envs,
        custom_provider_id=row.custom_id,
        provider_id=row.provider_id,
        provider_version_id=row.provider_version_id,
        actor=ActorPreviewOut.of(row.actor),
        created_at=row.created_at,
        updated_at=row.updated_at,
        **_source_views(row.source),
    )


# --- custom servers ------------------------------------------------------------------------------------


@operation(
    "custom-servers.create", "POST", "/custom-servers", status_code=201, family=MCP, cli="mcp servers create"
)
def create_custom_server(ctx: Context, inp: CreateCustomServer) -> CustomServerOut:
    """Register an MCP server (stdio command, container image or remote URL) and deploy its first version."""
    row = new_custom(ctx, "server", inp.name, inp.description)
    new_version(ctx, row, inp.from_, inp.config, None)
    return _server_out(ctx, row)


@operation("custom-servers.list", "GET", "/custom-servers", family=MCP, cli="mcp servers list")
def list_custom_servers(ctx: Context, inp: McpPageQuery) -> CustomServerList:
    """List custom MCP servers."""
    rows, pagination = page(
        ctx, select(McpCustomServer).where(McpCustomServer.kind == "server"), McpCustomServer.id, inp
    )
    return CustomServerList(items=[_server_out(ctx, r) for r in rows], pagination=pagination)


@operation(
    "custom-servers.show", "GET", "/custom-servers/{custom_server_id}", family=MCP, cli="mcp servers show"
)
def show_custom_server(ctx: Context, inp: CustomServerRef) -> CustomServerOut:
    """Get a custom MCP server with its latest deployment."""
    return _server_out(ctx, load_custom(ctx, inp.custom_server_id, "server"))


@operation(
    "custom-server-deployments.list",
    "GET",
    "/custom-servers/{custom_server_id}/deployments",
    family=MCP,
    cli="mcp deployments list",
)
def list_custom_server_deployments(
    ctx: Context, inp: CustomServerDeploymentFilter
) -> CustomServerDeploymentList:
    """List the deployments of a custom server, newest first, with their steps."""
    custom = load_custom(ctx, inp.custom_server_id, "server")
    stmt = filtered(
        select(McpCustomDeployment).where(McpCustomDeployment.custom_id == custom.id),
        McpCustomDeployment.version_id,
        inp.version_id,
    )
    rows, pagination = page(ctx, stmt, McpCustomDeployment.id, inp)
    return CustomServerDeploymentList(
        items=[deployment_out(r, "server", custom.provider_id) for r in rows], pagination=pagination
    )


@operation(
    "custom-server-deployments.show",
    "GET",
    "/custom-servers/{custom_server_id}/deployments/{custom_server_deployment_id}",
    family=MCP,
    cli="mcp deployments show",
)
def show_custom_server_deployment(ctx: Context, inp: CustomServerDeploymentRef) -> CustomServerDeploymentOut:
    """Get a custom server deployment: status, trigger, actor and steps with their logs."""
    custom = load_custom(ctx, inp.custom_server_id, "server")
    row = queries.get_or_404(
        ctx.session,
        McpCustomDeployment,
        inp.custom_server_deployment_id,
        "custom_server_deployment",
        custom_id=custom.id,
    )
    return deployment_out(row, "server", custom.provider_id)


@operation(
    "custom-servers.deploy",
    "POST",
    "/custom-servers/{custom_server_id}/versions",
    status_code=201,
    family=MCP,
    cli="mcp servers deploy",
)
def create_custom_server_version(ctx: Context, inp: CreateCustomServerVersion) -> CustomServerDeploymentOut:
    """Add a version to a custom server (a new command, image or URL) and deploy it."""
    custom = load_custom(ctx, inp.custom_server_id, "server")
    _, deployment = new_version(ctx, custom, inp.from_, inp.config, inp.identifier)
    return deployment_out(deployment, "server", custom.provider_id)
