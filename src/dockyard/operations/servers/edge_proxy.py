"""A server's edge proxy: which kind (none, nginx, caddy) on which ports, and bringing it up."""

from typing import Annotated, Any, Literal

from pydantic import Field, IPvAnyAddress

from dockyard.domain import lifecycle
from dockyard.domain.errors import Conflict
from dockyard.domain.ids import new_id
from dockyard.domain.model import CamelModel
from dockyard.edge.protocol import ALL_INTERFACES
from dockyard.operations.catalog import operation
from dockyard.operations.common import ServerId, TextSchema
from dockyard.operations.context import Context
from dockyard.operations.servers.handlers import load as load_server
from dockyard.work import queue

Port = Annotated[int, Field(ge=1, le=65535)]
BindAddress = Annotated[IPvAnyAddress, TextSchema(anyOf=[{"format": "ipv4"}, {"format": "ipv6"}])]


class ConfigureEdge(CamelModel):
    server_id: ServerId
    proxy_kind: Literal["none", "nginx", "caddy"]
    http_port: Port | None = Field(default=None, description="Default 80.")
    https_port: Port | None = Field(default=None, description="Default 443.")
    admin_port: Port | None = Field(
        default=None,
        description="Ignored: Caddy's admin API is a unix socket in the data dir, not a TCP port.",
    )
    bind_address: BindAddress | None = Field(
        default=None,
        description="The address the edge listens on: 0.0.0.0 (the default, every interface), "
        "127.0.0.1 to keep it on this machine, or one interface's address.",
    )


class EdgeState(CamelModel):
    kind: Literal["none", "nginx", "caddy"]
    status: Literal["pending", "starting", "ready", "failed", "disabled"]


class ConfiguredEdge(CamelModel):
    id: str
    edge_proxy: EdgeState


class BootstrapEdge(CamelModel):
    server_id: ServerId


class BootstrapAttempt(CamelModel):
    server_id: str
    attempt_id: str


@operation("servers.configure-edge-proxy", "POST", "/servers/{serverId}/edge-proxy/configuration")
def configure_edge(ctx: Context, inp: ConfigureEdge) -> ConfiguredEdge:
    """Choose the server's edge proxy (none, nginx, caddy) and its ports; bootstrap applies it."""
    server = load_server(ctx, inp.server_id)
    lifecycle.ensure_server_active(server.lifecycle_status, server.id)
    ports = [p for p in (inp.http_port, inp.https_port) if p is not None]
    if len(ports) != len(set(ports)):
        raise Conflict(
            "The edge's HTTP and HTTPS ports must differ.",
            code="edge_ports_conflict",
            next_action="Pick two different ports.",
        )
    state = dict(server.edge_proxy or {})
    state.pop("adminPort", None)  # recorded before the admin API became a unix socket
    previous = state.get("kind", "none")
    defaults = {"httpPort": 80, "httpsPort": 443, "bindAddress": ALL_INTERFACES}

    def listening() -> tuple[Any, ...]:  # what the edge listens on (a state from before a key: its default)
        return tuple(state.get(key) or default for key, default in defaults.items())

    before = (previous, *listening())
    state.update(
        kind=inp.proxy_kind,
        status="disabled" if inp.proxy_kind == "none" else "pending",
        httpPort=inp.http_port or state.get("httpPort") or 80,
        httpsPort=inp.https_port or state.get("httpsPort") or 443,
        bindAddress=str(inp.bind_address) if inp.bind_address else state.get("bindAddress") or ALL_INTERFACES,
    )
    server.edge_proxy = state
    if previous != "none" and before != (inp.proxy_kind, *listening()):
        old = {**state, "kind": previous}
        ctx.after_commit.append(lambda: _stop(ctx, old))  # the new kind or ports take over at bootstrap
    elif inp.proxy_kind != "none" and ctx.services is not None:
        from dockyard.edge.sync import sync_if_running

        services = ctx.services
        ctx.after_commit.append(lambda: sync_if_running(services, server.id))  # unchanged: re-apply now
    return ConfiguredEdge(id=server.id, edge_proxy=EdgeState(kind=inp.proxy_kind, status=state["status"]))


def _stop(ctx: Context, edge_proxy: dict) -> None:
    from dockyard.edge.sync import make

    edge = make(ctx.settings.data_dir, edge_proxy)
    if edge is not None:
        edge.stop()


@operation("servers.bootstrap-edge-proxy", "POST", "/servers/{serverId}/edge-proxy/bootstrap")
def bootstrap_edge(ctx: Context, inp: BootstrapEdge) -> BootstrapAttempt:
    """Start (or repair) the server's edge proxy and apply every route; the outcome is on the
    server's `edgeProxy` status."""
    server = load_server(ctx, inp.server_id)
    lifecycle.ensure_server_active(server.lifecycle_status, server.id)
    if not server.is_control_plane:
        raise Conflict(
            f"Server {server.id} is remote; so far edge proxies run on the control plane's own server.",
            code="edge_remote_unsupported",
            next_action="Bootstrap the edge of the `local` server.",
        )
    if (server.edge_proxy or {}).get("kind", "none") == "none":
        raise Conflict(
            f"Server {server.id} has no edge proxy configured.",
            code="edge_not_configured",
            next_action=f"dockyard servers configure-edge-proxy {server.id} --proxy-kind nginx",
        )
    state = dict(server.edge_proxy)
    state["status"] = "starting"
    server.edge_proxy = state
    from dockyard.edge.sync import bootstrap

    item = queue.enqueue(
        ctx.session,
        "proxy-bootstrap",
        server.id,
        ctx.now,
        operation_key="servers.bootstrap-edge-proxy",
        server_id=server.id,
    )
    services = ctx.services
    queue.run_after_commit(ctx, item, lambda: bootstrap(services, server.id))  # type: ignore[arg-type]
    return BootstrapAttempt(server_id=server.id, attempt_id=new_id("edge_attempt"))
