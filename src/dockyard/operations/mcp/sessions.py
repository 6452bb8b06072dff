"""Gateway sessions and server runs. A session combines provider deployments behind one MCP endpoint
(`/mcp/<session id>`) guarded by a client secret; each deployment in it is a server session, and every
boot of its server is a server run (see hosting.gateway)."""

import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from dockyard.domain.errors import Conflict
from dockyard.domain.ids import new_id
from dockyard.operations.catalog import Family, operation
from dockyard.operations.context import Context
from dockyard.operations.mcp.common import filtered, page
from dockyard.operations.mcp.provider_models import CreateProviderDeployment
from dockyard.operations.mcp.providers import create_provider_deployment, load_deployment
from dockyard.operations.mcp.session_models import (
    ClientSecret,
    ConnectionUrls,
    CreateSession,
    McpInfo,
    RunLogList,
    RunLogOut,
    ServerDeploymentPreview,
    ServerPreview,
    ServerRunFilter,
    ServerRunList,
    ServerRunOut,
    ServerRunRef,
    ServerSessionPreview,
    SessionFilter,
    SessionList,
    SessionOut,
    SessionRef,
    Usage,
)
from dockyard.store import queries
from dockyard.store.mcp_tables import (
    McpCustomDeployment,
    McpCustomServer,
    McpCustomVersion,
    McpProvider,
    McpProviderDeployment,
    McpProviderVersion,
    McpRunLog,
    McpServerRun,
    McpServerSession,
    McpSession,
)

MCP = Family.MCP_API


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def usage(client: int, server: int) -> Usage:
    return Usage(
        total_productive_message_count=client + server,
        total_productive_client_message_count=client,
        total_productive_server_message_count=server,
    )


def _status(row: McpSession, now: str) -> str:
    return "expired" if row.status == "active" and row.expires_at <= now else row.status


def server_session_preview(row: McpServerSession) -> ServerSessionPreview:
    return ServerSessionPreview(
        id=row.id,
        status=row.status,
        mcp=McpInfo.model_validate(row.mcp or {}),
        usage=usage(row.client_message_count, row.server_message_count),
        refused_tool_call_count=row.refused_tool_call_count,
        namespace=row.namespace,
        provider_deployment_id=row.provider_deployment_id,
        session_id=row.session_id,
        created_at=row.created_at,
    )


def session_out(ctx: Context, row: McpSession, secret: str | None = None) -> SessionOut:
    base = f"{ctx.settings.public_url}/mcp/{row.id}"
    servers = ctx.session.scalars(
        select(McpServerSession).where(McpServerSession.session_id == row.id).order_by(McpServerSession.id)
    )
    return SessionOut(
        id=row.id,
        status=_status(row, ctx.now),  # type: ignore[arg-type]
        connection_url=base,
        connection_urls=ConnectionUrls(streamable_http=base, sse=f"{base}/sse"),
        client_secret=ClientSecret(secret=secret, expires_at=row.expires_at),
        server_sessions=[server_session_preview(s) for s in servers],
        usage=usage(row.client_message_count, row.server_message_count),
        metadata=row.meta,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _namespace(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:30] or "server"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    taken.add(candidate)
    return candidate


@operation("sessions.create", "POST", "/sessions", status_code=201, family=MCP, cli="mcp sessions create")
def create_session(ctx: Context, inp: CreateSession) -> SessionOut:
    """Open a gateway session over provider deployments: a connection URL and a client secret (shown once)."""
    servers = [serving_deployment(ctx, d) for d in dict.fromkeys(inp.custom_server_deployment_ids)]
    deployments = [load_deployment(ctx, d) for d in dict.fromkeys(inp.provider_deployment_ids)]
    deployments += [d for d in servers if d.id not in {dep.id for dep in deployments}]
    for dep in deployments:
        if dep.status != "active":
            raise Conflict(
                f"Provider deployment {dep.id} is {dep.status}.", code="provider_deployment_inactive"
            )
    secret = "dys_" + secrets.token_urlsafe(32)
    expires = datetime.fromisoformat(ctx.now.replace("Z", "+00:00")) + timedelta(seconds=inp.expires_in_s)
    row = McpSession(
        id=new_id("mcp_session"),
        status="active",
        secret_hash=secret_hash(secret),
        expires_at=expires.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        meta=inp.metadata,
        client_message_count=0,
        server_message_count=0,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    ctx.session.add(row)
    ctx.session.flush()
    taken: set[str] = set()
    for dep in deployments:
        provider = ctx.session.get(McpProvider, dep.provider_id)
        ctx.session.add(
            McpServerSession(
                id=new_id("server_session"),
                session_id=row.id,
                provider_deployment_id=dep.id,
                namespace=_namespace(provider.name, taken) if len(deployments) > 1 else None,
                status="active",
                mcp={"object": "mcp"},
                client_message_count=0,
                server_message_count=0,
                refused_tool_call_count=0,
                created_at=ctx.now,
                updated_at=ctx.now,
            )
        )
    ctx.session.flush()
    return session_out(ctx, row, secret)


def serving_deployment(ctx: Context, custom_server_deployment_id: str) -> McpProviderDeployment:
    """The provider deployment that serves a completed custom server deployment: pinned to the version
    it deployed, all tools; made on first use, reused after."""
    dep = queries.get_or_404(
        ctx.session, McpCustomDeployment, custom_server_deployment_id, "custom_server_deployment"
    )
    version = ctx.session.get(McpCustomVersion, dep.version_id)
    provider_version = (
        ctx.session.scalars(
            select(McpProviderVersion).where(McpProviderVersion.custom_version_id == dep.version_id)
        ).first()
        if version is not None
        else None
    )
    if dep.status != "completed" or provider_version is None:
        raise Conflict(
            f"Custom server deployment {dep.id} is {dep.status}: only a completed one can serve a session.",
            code="custom_server_deployment_not_ready",
            details={"custom_server_deployment_id": dep.id, "status": dep.status},
            next_action="Wait for it to complete, or deploy the server again and use the new deployment.",
        )
    pinned = ctx.session.scalars(
        select(McpProviderDeployment).where(
            McpProviderDeployment.provider_id == provider_version.provider_id,
            McpProviderDeployment.locked_version_id == provider_version.id,
            McpProviderDeployment.status == "active",
        )
    )
    for candidate in pinned:
        if (candidate.tool_filter or {"type": "allow_all"}) == {"type": "allow_all"}:
            return candidate
    custom = ctx.session.get(McpCustomServer, dep.custom_id)
    label = f"{custom.name if custom else 'server'} {version.identifier if version else ''}"
    made = create_provider_deployment(
        ctx,
        CreateProviderDeployment(
            name=label[:80].strip(),
            description=f"Serves custom server deployment {dep.id}",
            provider_id=provider_version.provider_id,
            locked_provider_version_id=provider_version.id,
        ),
    )
    return load_deployment(ctx, made.id)


@operation("sessions.list", "GET", "/sessions", family=MCP, cli="mcp sessions list")
def list_sessions(ctx: Context, inp: SessionFilter) -> SessionList:
    """List gateway sessions, newest first."""
    rows, pagination = page(
        ctx, filtered(select(McpSession), McpSession.status, inp.status), McpSession.id, inp
    )
    return SessionList(items=[session_out(ctx, r) for r in rows], pagination=pagination)


@operation("sessions.show", "GET", "/sessions/{session_id}", family=MCP, cli="mcp sessions show")
def show_session(ctx: Context, inp: SessionRef) -> SessionOut:
    """Get a session with its server sessions and usage (the client secret is not shown again)."""
    return session_out(ctx, queries.get_or_404(ctx.session, McpSession, inp.session_id, "mcp_session"))


@operation("sessions.delete", "DELETE", "/sessions/{session_id}", family=MCP, cli="mcp sessions close")
def close_session(ctx: Context, inp: SessionRef) -> SessionOut:
    """Close a session: its client secret stops working at once, its open connections and runs end."""
    row = queries.get_or_404(ctx.session, McpSession, inp.session_id, "mcp_session")
    row.status, row.updated_at = "closed", ctx.now
    ctx.session.flush()
    if ctx.services is not None:
        services, session_id = ctx.services, row.id
        ctx.after_commit.append(lambda: services.mcp_session_closed(session_id))
    return session_out(ctx, row)


# --- server runs -----------------------------------------------------------------------------------------


def run_out(ctx: Context, row: McpServerRun) -> ServerRunOut:
    srs = ctx.session.get(McpServerSession, row.server_session_id)
    dep = ctx.session.get(McpProviderDeployment, srs.provider_deployment_id)
    provider = ctx.session.get(McpProvider, dep.provider_id) if dep else None
    server = (
        ServerPreview(
            id=provider.id,
            name=provider.name,
            description=provider.description,
            created_at=provider.created_at,
            updated_at=provider.updated_at,
        )
        if provider
        else None
    )
    return ServerRunOut(
        id=row.id,
        type=row.type,  # type: ignore[arg-type]
        status=row.status,  # type: ignore[arg-type]
        server_version_id=row.provider_version_id,
        server=server,
        server_deployment=ServerDeploymentPreview(
            id=dep.id,
            name=dep.name,
            description=dep.description,
            metadata=dep.meta,
            created_at=dep.created_at,
            updated_at=dep.updated_at,
            server=server,
        )
        if dep and server
        else None,
        server_session=server_session_preview(srs),
        usage=usage(row.client_message_count, row.server_message_count),
        failure=row.failure,
        created_at=row.created_at,
        updated_at=row.updated_at,
        started_at=row.started_at,
        stopped_at=row.stopped_at,
    )


@operation("server-runs.list", "GET", "/server-runs", family=MCP, cli="mcp runs list")
def list_server_runs(ctx: Context, inp: ServerRunFilter) -> ServerRunList:
    """List server runs (every boot of a server for a session), newest first."""
    stmt = filtered(select(McpServerRun), McpServerRun.status, inp.status)
    stmt = filtered(stmt, McpServerRun.server_session_id, inp.server_session_id)
    if inp.session_id or inp.server_deployment_id:
        sessions = filtered(
            filtered(select(McpServerSession.id), McpServerSession.session_id, inp.session_id),
            McpServerSession.provider_deployment_id,
            inp.server_deployment_id,
        )
        stmt = stmt.where(McpServerRun.server_session_id.in_(sessions))
    rows, pagination = page(ctx, stmt, McpServerRun.id, inp)
    return ServerRunList(items=[run_out(ctx, r) for r in rows], pagination=pagination)


@operation("server-runs.show", "GET", "/server-runs/{server_run_id}", family=MCP, cli="mcp runs show")
def show_server_run(ctx: Context, inp: ServerRunRef) -> ServerRunOut:
    """Get a server run: status, times, server, deployment and server session previews, usage."""
    return run_out(ctx, queries.get_or_404(ctx.session, McpServerRun, inp.server_run_id, "server_run"))


@operation("server-runs.logs", "GET", "/server-runs/{server_run_id}/logs", family=MCP, cli="mcp runs logs")
def server_run_logs(ctx: Context, inp: ServerRunRef) -> RunLogList:
    """The log events of a server run: its stderr lines and the gateway's notes (last 1000)."""
    run = queries.get_or_404(ctx.session, McpServerRun, inp.server_run_id, "server_run")
    rows = ctx.session.scalars(
        select(McpRunLog).where(McpRunLog.run_id == run.id).order_by(McpRunLog.sequence.desc()).limit(1000)
    )
    return RunLogList(
        items=[
            RunLogOut(sequence=r.sequence, timestamp=r.timestamp, stream=r.stream, line=r.message)
            for r in reversed(list(rows))
        ]
    )
