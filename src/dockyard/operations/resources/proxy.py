"""`GET /resources/{id}/proxy-configuration`: the routes of a resource and the edge config they render to."""

from typing import Any, Literal

from pydantic import Field, StrictBool
from sqlalchemy import select

from dockyard.domain.model import CamelModel
from dockyard.operations.catalog import operation
from dockyard.operations.common import DeploymentId, ResourceId
from dockyard.operations.context import Context
from dockyard.operations.resources.handlers import load as load_resource
from dockyard.store.tables import AccessRoute, Deployment, Server


class ProxyQuery(CamelModel):
    resource_id: ResourceId
    deployment_id: DeploymentId | None = None
    route_scope: Literal["planned", "latest", "effective"] = "effective"
    include_diagnostics: StrictBool = True


class ProxyRoute(CamelModel):
    hostname: str
    scheme: Literal["http", "https"] = "http"
    url: str
    path_prefix: str
    tls_mode: Literal["auto", "disabled"] = "disabled"
    target_port: int | None
    source: str
    route_behavior: Literal["serve", "redirect"] = "serve"
    redirect_to: str | None = None
    redirect_status: int | None = None


class Section(CamelModel):
    id: str
    title: str
    format: str
    language: str
    readonly: bool = True
    redacted: bool = False
    content: str
    source: Literal["provider-rendered"] = "provider-rendered"


class ProxyWarning(CamelModel):
    code: str
    message: str
    details: dict[str, str] = Field(default_factory=dict)


class ProxyConfiguration(CamelModel):
    resource_id: str
    deployment_id: str | None
    provider_key: str
    route_scope: str
    status: Literal["not-configured", "planned", "applied", "failed"]
    generated_at: str
    last_applied_deployment_id: str | None
    stale: bool
    routes: list[ProxyRoute]
    sections: list[Section]
    warnings: list[ProxyWarning] = Field(default_factory=list)
    diagnostics: dict[str, Any] | None = None


@operation("resources.proxy-configuration", "GET", "/resources/{resourceId}/proxy-configuration")
def proxy_configuration(ctx: Context, inp: ProxyQuery) -> ProxyConfiguration:
    """Preview the edge routes of a resource and the proxy configuration they generate."""
    from dockyard.edge.process import renderable
    from dockyard.edge.protocol import Route
    from dockyard.edge.sync import make, routed_url

    resource = load_resource(ctx, inp.resource_id)
    live = ctx.session.scalar(
        select(Deployment)
        .where(Deployment.resource_id == resource.id, Deployment.status == "succeeded")
        .order_by(Deployment.id.desc())
        .limit(1)
    )
    server = ctx.session.get(Server, live.server_id) if live else None
    edge_state = (server.edge_proxy or {}) if server else {}
    kind = edge_state.get("kind", "none")
    rows = list(
        ctx.session.scalars(
            select(AccessRoute).where(AccessRoute.resource_id == resource.id).order_by(AccessRoute.hostname)
        )
    )
    port = ctx.svc.runtime.front_port(resource.id)
    routes = [
        ProxyRoute(
            hostname=r.hostname,
            url=routed_url(r.hostname, edge_state, r.path_prefix),
            path_prefix=r.path_prefix,
            target_port=port,
            source=r.source,
        )
        for r in rows
    ]
    edge = make(ctx.settings.data_dir, edge_state) if kind != "none" else None
    sections = []
    # Without a front port nothing is rendered; the routes' hostnames and prefixes are still checked.
    upstream = port or 1
    good, skipped = renderable(
        [Route(r.hostname, upstream, r.path_prefix, resource_id=resource.id) for r in rows]
    )
    if edge is not None and port is not None:
        rendered = edge.render(good)
        language = "nginx" if kind == "nginx" else "json"
        sections.append(
            Section(
                id=f"{kind}-config",
                title=f"{kind} configuration",
                format=language,
                language=language,
                content=rendered,
            )
        )
    warnings = [
        ProxyWarning(
            code="route-skipped",
            message=f"The edge leaves this route out: {r.message}",
            details={"hostname": r.hostname, "pathPrefix": r.path_prefix},
        )
        for r in skipped
    ]
    if kind == "none":
        warnings.append(
            ProxyWarning(
                code="edge-not-configured",
                message="The server has no edge proxy; the app answers on its direct port.",
            )
        )
    status = (
        "not-configured"
        if kind == "none" or not rows
        else ("applied" if edge_state.get("status") == "ready" and not skipped else "failed")
    )
    return ProxyConfiguration(
        resource_id=resource.id,
        deployment_id=inp.deployment_id or (live.id if live else None),
        provider_key=kind,
        route_scope=inp.route_scope,
        status=status,  # type: ignore[arg-type]
        generated_at=ctx.now,
        last_applied_deployment_id=live.id if live else None,
        stale=False,
        routes=routes,
        sections=sections,
        warnings=warnings,
        diagnostics={"providerKey": kind, "routeCount": len(routes), "edgeStatus": edge_state.get("status")}
        if inp.include_diagnostics
        else None,
    )
