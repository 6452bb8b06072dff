"""Servers: the machines (deployment targets) apps run on. `local` is the control plane's own."""

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StrictBool, StringConstraints
from sqlalchemy import select

from dockyard.domain import lifecycle
from dockyard.domain.errors import Conflict
from dockyard.domain.ids import new_id
from dockyard.domain.model import CamelModel
from dockyard.operations.catalog import NoInput, operation
from dockyard.operations.common import (
    DNS_LABEL,
    Blocker,
    CountOut,
    IdOut,
    Name,
    PageQuery,
    ReasonInput,
    ServerId,
    TextSchema,
)
from dockyard.operations.context import Context
from dockyard.probes import connectivity
from dockyard.startup import default_edge_proxy
from dockyard.store import queries
from dockyard.store.tables import Server

_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$"
)


def _valid_host(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        if _HOSTNAME.match(value):
            return value.lower()
    raise ValueError(f"{value[:60]!r} is not a hostname or an IP address")


HOST_SCHEMA = TextSchema(
    maxLength=253,
    anyOf=[{"pattern": f"^{DNS_LABEL}(\\.{DNS_LABEL})*$"}, {"format": "ipv4"}, {"format": "ipv6"}],
)
Host = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=253), AfterValidator(_valid_host), HOST_SCHEMA
]
ProviderKey = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
TargetKind = Literal["single-server", "docker-swarm"]
SshPort = Annotated[int, Field(ge=1, le=65535)]


class SkippedRouteOut(CamelModel):
    hostname: str
    path_prefix: str
    resource_id: str | None
    message: str


class EdgeProxyStatus(CamelModel):
    kind: Literal["none", "nginx", "caddy"]
    status: Literal["pending", "starting", "ready", "failed", "disabled"]
    last_attempt_at: str | None = None
    last_succeeded_at: str | None = None
    last_error_code: str | None = None
    last_error_message: str | None = None
    http_port: int | None = None
    https_port: int | None = None
    admin_port: int | None = None
    bind_address: str | None = Field(default=None, description="The address the edge listens on.")
    skipped_routes: list[SkippedRouteOut] = Field(
        default_factory=list, description="Routes the applied config left out (the others are served)."
    )


class Credential(CamelModel):
    kind: Literal["local-ssh-agent", "ssh-private-key"]
    credential_id: str | None = None
    credential_name: str | None = None
    username: str | None = None
    public_key_configured: bool = False
    private_key_configured: bool = False


class ServerOut(CamelModel):
    id: str
    name: str
    host: str
    port: int
    provider_key: str
    target_kind: TargetKind
    lifecycle_status: Literal["active", "inactive"]
    deactivated_at: str | None
    deactivation_reason: str | None
    edge_proxy: EdgeProxyStatus
    credential: Credential | None
    created_at: str

    @classmethod
    def of(cls, row: Server) -> "ServerOut":
        return cls.model_validate(row, from_attributes=True)


class ServerList(CamelModel):
    items: list[ServerOut]
    next_cursor: str | None = None


class StatusCount(CamelModel):
    status: str
    count: int


class ResourceRollup(CamelModel):
    total: int = 0
    deployed_resource_ids: list[str] = Field(default_factory=list)


class DeploymentRollup(CamelModel):
    total: int = 0
    status_counts: list[StatusCount] = Field(default_factory=list)
    latest_deployment_id: str | None = None
    latest_deployment_status: str | None = None


class DomainRollup(CamelModel):
    total: int = 0
    status_counts: list[StatusCount] = Field(default_factory=list)
    latest_domain_binding_id: str | None = None
    latest_domain_binding_status: str | None = None


class Rollups(CamelModel):
    resources: ResourceRollup
    deployments: DeploymentRollup
    domains: DomainRollup


class ServerShow(CamelModel):
    schema_version: str = "servers.show/v1"
    server: ServerOut
    rollups: Rollups | None
    generated_at: str


class ServerRef(CamelModel):
    server_id: ServerId


class ShowServer(ServerRef):
    include_rollups: StrictBool = True


class RegisterServer(CamelModel):
    name: Name
    host: Host
    provider_key: ProviderKey = "generic-ssh"
    port: SshPort = 22
    target_kind: TargetKind = "single-server"


class RenameServer(ServerRef):
    name: Name


class DeactivateServer(ServerRef, ReasonInput):
    pass


class ServerConfirmation(CamelModel):
    server_id: str = Field(description="The server's id, typed again to confirm the deletion.")


class DeleteServer(ServerRef):
    confirmation: ServerConfirmation


class ServerDeleteCheck(CamelModel):
    schema_version: str = "servers.delete-check/v1"
    server_id: str
    lifecycle_status: str
    eligible: bool
    blockers: list[Blocker]
    checked_at: str


class DraftServer(CamelModel):
    host: Host
    provider_key: ProviderKey = "generic-ssh"
    port: SshPort = 22
    name: Name | None = None


class DraftConnectivity(CamelModel):
    server: DraftServer


class CheckOut(CamelModel):
    name: str
    status: Literal["passed", "warning", "failed", "skipped"]
    message: str
    duration_ms: int
    metadata: dict[str, str]


class ConnectivityOut(CamelModel):
    server_id: str | None
    name: str | None
    host: str
    port: int
    provider_key: str
    checked_at: str
    status: Literal["healthy", "degraded", "unreachable"]
    checks: list[CheckOut]


def load(ctx: Context, server_id: str) -> Server:
    return queries.get_or_404(ctx.session, Server, server_id, "server")


def _ensure_name_free(ctx: Context, name: str, except_id: str | None = None) -> None:
    taken = ctx.session.scalar(select(Server.id).where(Server.name == name))
    if taken and taken != except_id:
        raise Conflict(
            f"A server named {name!r} is already registered.",
            code="server_name_conflict",
            details={"name": name, "serverId": taken},
            next_action="Choose another name: dockyard servers list shows the taken ones.",
        )


@operation("servers.count", "GET", "/servers/count")
def count_servers(ctx: Context, inp: NoInput) -> CountOut:
    """Count registered servers."""
    return CountOut(count=queries.count(ctx.session, Server))


@operation("servers.list", "GET", "/servers")
def list_servers(ctx: Context, inp: PageQuery) -> ServerList:
    """List servers, newest first."""
    rows, cursor = queries.keyset_page(ctx.session, select(Server), Server.id, inp.limit, inp.cursor)
    return ServerList(items=[ServerOut.of(r) for r in rows], next_cursor=cursor)


@operation("servers.register", "POST", "/servers", status_code=201)
def register_server(ctx: Context, inp: RegisterServer) -> IdOut:
    """Register a server (deployment target) reached over SSH."""
    _ensure_name_free(ctx, inp.name)
    row = Server(
        id=new_id("server"),
        name=inp.name,
        host=inp.host,
        port=inp.port,
        provider_key=inp.provider_key,
        target_kind=inp.target_kind,
        lifecycle_status="active",
        edge_proxy=default_edge_proxy(),
        credential=None,
        is_control_plane=False,
        created_at=ctx.now,
    )
    ctx.session.add(row)
    return IdOut(id=row.id)


@operation("servers.show", "GET", "/servers/{serverId}")
def show_server(ctx: Context, inp: ShowServer) -> ServerShow:
    """Read one server with its proxy status and usage rollups."""
    row = load(ctx, inp.server_id)
    rollups = Rollups(resources=ResourceRollup(), deployments=DeploymentRollup(), domains=DomainRollup())
    return ServerShow(
        server=ServerOut.of(row), rollups=rollups if inp.include_rollups else None, generated_at=ctx.now
    )


@operation("servers.rename", "POST", "/servers/{serverId}/rename")
def rename_server(ctx: Context, inp: RenameServer) -> IdOut:
    """Rename a server's display label; its identity stays."""
    row = load(ctx, inp.server_id)
    _ensure_name_free(ctx, inp.name, except_id=row.id)
    row.name = inp.name
    return IdOut(id=row.id)


@operation("servers.deactivate", "POST", "/servers/{serverId}/deactivate")
def deactivate_server(ctx: Context, inp: DeactivateServer) -> IdOut:
    """Mark a server inactive so it receives no new work."""
    row = load(ctx, inp.server_id)
    if row.lifecycle_status != "inactive":
        row.lifecycle_status, row.deactivated_at, row.deactivation_reason = "inactive", ctx.now, inp.reason
    return IdOut(id=row.id)


def _blockers(row: Server) -> list[lifecycle.Blocker]:
    return lifecycle.server_delete_blockers(row.lifecycle_status, row.id, row.is_control_plane)


@operation("servers.delete-check", "GET", "/servers/{serverId}/delete-check")
def server_delete_check(ctx: Context, inp: ServerRef) -> ServerDeleteCheck:
    """Preview whether a server can be deleted, and what blocks it."""
    row = load(ctx, inp.server_id)
    blockers = _blockers(row)
    return ServerDeleteCheck(
        server_id=row.id,
        lifecycle_status=row.lifecycle_status,
        eligible=not blockers,
        blockers=Blocker.of_all(blockers),
        checked_at=ctx.now,
    )


@operation("servers.delete", "DELETE", "/servers/{serverId}")
def delete_server(ctx: Context, inp: DeleteServer) -> IdOut:
    """Delete an inactive server once nothing blocks it; needs confirmation.serverId."""
    row = load(ctx, inp.server_id)
    lifecycle.ensure_confirmed(inp.confirmation.server_id, row.id, "serverId")
    lifecycle.refuse_if_blocked(
        _blockers(row),
        f"Server {row.id}",
        f"See dockyard servers delete-check {row.id}; deactivate it first.",
    )
    ctx.session.delete(row)
    return IdOut(id=row.id)


def _report(ctx: Context, server: Any, checks: list[connectivity.Check]) -> ConnectivityOut:
    return ConnectivityOut(
        server_id=getattr(server, "id", None),
        name=server.name,
        host=server.host,
        port=server.port,
        provider_key=server.provider_key,
        checked_at=ctx.now,
        status=connectivity.overall(checks),
        checks=[CheckOut.model_validate(c, from_attributes=True) for c in checks],
    )


@operation("servers.test-connectivity", "POST", "/servers/{serverId}/connectivity-tests")
def test_connectivity(ctx: Context, inp: ServerRef) -> ConnectivityOut:
    """Check that the control plane can reach and inspect a registered server."""
    row = load(ctx, inp.server_id)
    checks = (
        connectivity.check_local(ctx.settings.data_dir)
        if row.is_control_plane
        else connectivity.check_remote(ctx.settings.egress_policy(), row.host, row.port)
    )
    return _report(ctx, row, checks)


@operation("servers.test-draft-connectivity", "POST", "/servers/connectivity-tests")
def test_draft_connectivity(ctx: Context, inp: DraftConnectivity) -> ConnectivityOut:
    """Check a server before registering it."""
    return _report(
        ctx,
        inp.server,
        connectivity.check_remote(ctx.settings.egress_policy(), inp.server.host, inp.server.port),
    )
