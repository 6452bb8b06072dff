"""`GET /resources/{id}/proxy-configuration`: the routes of a resource and the edge config they render to.

Dockyard keeps no history of routes: an `AccessRoute` row is the route as it is now, with the time it
was made. So `planned` is every route the resource has now (and the generated one it would get),
`latest` is the routes on the server of its latest succeeded deployment, and `deployment-snapshot`
is the routes that existed on that deployment's server when it finished (a route removed since is
not shown; a certificate is the one active now, if it was made before then).
"""

from dataclasses import dataclass

from sqlalchemy import select

from dockyard.domain.errors import Invalid, NotFound
from dockyard.operations.catalog import operation
from dockyard.operations.context import Context
from dockyard.operations.resources.handlers import load as load_resource
from dockyard.operations.resources.proxy_models import (
    SNAPSHOT,
    AppliedRouteContext,
    ProxyConfiguration,
    ProxyDiagnostics,
    ProxyQuery,
    ProxyRoute,
    ProxyWarning,
    Section,
    TlsRoute,
)
from dockyard.operations.resources.route_intent import diagnostic_id
from dockyard.store.tables import AccessRoute, Certificate, Deployment, DomainBinding, Resource, Server


@dataclass(frozen=True)
class _Row:
    """A route as a scope shows it (`route_id` None: the generated route, not made yet)."""

    route_id: str | None
    hostname: str
    path_prefix: str
    source: str
    created_at: str | None


@dataclass(frozen=True)
class _View:
    deployment: Deployment | None  # whose routes these are (None: planned)
    server: Server | None
    rows: list[_Row]
    kind: str  # the edge's proxy kind then
    routed: bool  # the edge applied these routes for the deployment
    observed_at: str | None


def _row(r: AccessRoute) -> _Row:
    return _Row(r.id, r.hostname, r.path_prefix, r.source, r.created_at)


def _deployments(ctx: Context, resource_id: str, succeeded: bool) -> Deployment | None:
    query = select(Deployment).where(Deployment.resource_id == resource_id)
    if succeeded:
        query = query.where(Deployment.status == "succeeded")
    return ctx.session.scalar(query.order_by(Deployment.id.desc()).limit(1))


def _routes_on(ctx: Context, resource_id: str, server_id: str, until: str | None = None) -> list[_Row]:
    query = select(AccessRoute).where(
        AccessRoute.resource_id == resource_id, AccessRoute.server_id == server_id
    )
    if until is not None:
        query = query.where(AccessRoute.created_at <= until)
    return [_row(r) for r in ctx.session.scalars(query.order_by(AccessRoute.hostname))]


def _latest(ctx: Context, resource_id: str, live: Deployment | None) -> _View:
    server = ctx.session.get(Server, live.server_id) if live else None
    if live is None or server is None:
        return _View(live, server, [], "none", False, None)
    state = server.edge_proxy or {}
    kind = state.get("kind", "none")
    routed = kind != "none" and state.get("status") == "ready"
    rows = _routes_on(ctx, resource_id, server.id)
    return _View(live, server, rows, kind, routed, state.get("lastSucceededAt") if routed else None)


def _planned(ctx: Context, resource: Resource) -> _View:
    """Every route of the resource on the server it deploys to, and the generated one it would get there."""
    from dockyard.edge.sync import GENERATED, planned_hostname

    newest = _deployments(ctx, resource.id, succeeded=False)
    server_id = newest.server_id if newest else None
    if server_id is None:
        server_id = ctx.session.scalar(
            select(AccessRoute.server_id).where(AccessRoute.resource_id == resource.id).limit(1)
        )
    server = ctx.session.get(Server, server_id) if server_id else None
    if server is None:
        return _View(None, None, [], "none", False, None)
    kind = (server.edge_proxy or {}).get("kind", "none")
    rows = _routes_on(ctx, resource.id, server.id)
    if kind != "none" and not any(r.source == GENERATED for r in rows):
        hostname = planned_hostname(ctx.session, resource, server)
        if hostname is not None:
            rows = sorted([*rows, _Row(None, hostname, "/", GENERATED, None)], key=lambda r: r.hostname)
    return _View(None, server, rows, kind, False, None)


def _snapshot(ctx: Context, resource_id: str, deployment: Deployment) -> _View:
    """The routes the deployment's switch applied: those on its server when it finished."""
    from dockyard.edge.sync import GENERATED

    server = ctx.session.get(Server, deployment.server_id)
    until = deployment.finished_at or ctx.now
    rows = _routes_on(ctx, resource_id, deployment.server_id, until)
    state = deployment.runtime_state or {}
    kind = state.get("proxyKind") or "none"
    # The switch records the routed URL only when the edge was ready and served the generated route.
    evidence = state.get("routedUrl") is not None or not any(r.source == GENERATED for r in rows)
    routed = deployment.status == "succeeded" and kind != "none" and evidence
    return _View(deployment, server, rows, kind, routed, deployment.finished_at if routed else None)


def _list_deployments(resource_id: str) -> str:
    return (
        f"List the resource's deployments to find one: dockyard deployments list --resource-id {resource_id}"
    )


def _chosen_deployment(ctx: Context, resource_id: str, inp: ProxyQuery) -> Deployment | None:
    """The deployment deployment-snapshot reads; refuses a deploymentId any other scope would ignore."""
    if inp.route_scope != SNAPSHOT:
        if inp.deployment_id is not None:
            raise Invalid(
                f"deploymentId shows one deployment's routes, with routeScope={SNAPSHOT} only.",
                code="proxy_configuration_scope_mismatch",
                details={
                    "errors": [{"field": "deploymentId", "message": f"with routeScope={SNAPSHOT} only"}]
                },
                next_action=f"Ask again with routeScope={SNAPSHOT}, or without deploymentId.",
            )
        return None
    if inp.deployment_id is None:
        raise Invalid(
            f"routeScope={SNAPSHOT} shows the routes of one deployment: name it with deploymentId.",
            code="deployment_id_required",
            details={
                "errors": [{"field": "deploymentId", "message": f"required with routeScope={SNAPSHOT}"}]
            },
            next_action=_list_deployments(resource_id),
        )
    deployment = ctx.session.get(Deployment, inp.deployment_id)
    if deployment is None or deployment.resource_id != resource_id:
        raise NotFound(
            f"Resource {resource_id} has no deployment with id {inp.deployment_id!r}.",
            code="deployment_not_found",
            details={"id": inp.deployment_id, "resourceId": resource_id},
            next_action=_list_deployments(resource_id),
        )
    return deployment


def _diagnostic_id(route: _Row, deployment_id: str | None) -> str:
    return diagnostic_id(route.route_id or route.hostname + route.path_prefix, deployment_id)


@operation("resources.proxy-configuration", "GET", "/resources/{resourceId}/proxy-configuration")
def proxy_configuration(ctx: Context, inp: ProxyQuery) -> ProxyConfiguration:
    """Preview the edge routes of a resource and the proxy configuration they generate."""
    from dockyard.edge.process import renderable
    from dockyard.edge.protocol import Route
    from dockyard.edge.sync import BOUND, make, routed_url, tls_files

    resource = load_resource(ctx, inp.resource_id)
    chosen = _chosen_deployment(ctx, resource.id, inp)
    live = _deployments(ctx, resource.id, succeeded=True)
    latest = _latest(ctx, resource.id, live)
    if inp.route_scope == "latest":
        view = latest
    elif chosen is not None:
        view = _snapshot(ctx, resource.id, chosen)
    else:
        view = _planned(ctx, resource)
    edge_state = dict((view.server.edge_proxy or {}) if view.server else {})
    edge_state["kind"] = view.kind
    rows = view.rows

    bindings = {
        b.domain_name: b
        for b in ctx.session.scalars(select(DomainBinding).where(DomainBinding.resource_id == resource.id))
    }
    until = view.deployment.finished_at if chosen is not None and view.deployment else None
    certificates: dict[str, Certificate] = {}
    for cert in ctx.session.scalars(
        select(Certificate)
        .where(Certificate.domain_binding_id.in_([b.id for b in bindings.values()]))
        .where(Certificate.status == "active")
        .order_by(Certificate.id)
    ):
        if until is None or cert.created_at <= until:
            certificates[cert.domain_binding_id] = cert  # the newest active one wins, as on the edge

    def binding_of(r: _Row) -> DomainBinding | None:
        return bindings.get(r.hostname) if r.source == BOUND else None

    def certificate_of(r: _Row) -> Certificate | None:
        binding = binding_of(r)
        return certificates.get(binding.id) if binding else None

    port = ctx.svc.runtime.front_port(resource.id)
    # Without a front port nothing is rendered; the routes' hostnames and prefixes are still checked.
    upstream = port or 1
    candidates = []
    for r in rows:
        binding, cert = binding_of(r), certificate_of(r)
        tls = tls_files(ctx.settings.data_dir, cert.id, cert.fingerprint) if cert else None
        redirect = binding.redirect_to if binding else None
        candidates.append(Route(r.hostname, upstream, r.path_prefix, tls, redirect, resource.id))
    good, skipped = renderable(candidates)
    edge_skipped = {  # what the edge's last apply left out (recorded by edge.sync)
        (s["hostname"], s["pathPrefix"])
        for s in ((latest.server.edge_proxy or {}) if latest.server else {}).get("skippedRoutes", [])
        if s.get("resourceId") == resource.id
    }
    left_out = {(s.hostname, s.path_prefix) for s in skipped} | (edge_skipped if view is latest else set())

    deployment = view.deployment
    applied_by = {  # route id -> when the edge applied it for the latest succeeded deployment
        r.route_id: max(live.finished_at or "", r.created_at or "")
        for r in latest.rows
        if live is not None and latest.routed and (r.hostname, r.path_prefix) not in left_out | edge_skipped
    }

    def context(r: _Row) -> AppliedRouteContext:
        binding = binding_of(r)
        shown_by, applied_at, observed_at = deployment, None, None
        if view is latest or view.deployment is None:  # planned: the applied context of a route live now
            if r.route_id in applied_by:
                shown_by, applied_at, observed_at = live, applied_by[r.route_id], latest.observed_at
        elif view.routed and (r.hostname, r.path_prefix) not in left_out:
            applied_at, observed_at = deployment.finished_at if deployment else None, view.observed_at
        deployment_id = shown_by.id if shown_by else None
        return AppliedRouteContext(
            resource_id=resource.id,
            deployment_id=deployment_id,
            domain_binding_id=binding.id if binding else None,
            server_id=view.server.id if view.server else None,
            destination_id=(shown_by.destination_id if shown_by else None)
            or (binding.destination_id if binding else None)
            or resource.destination_id,
            route_id=r.route_id,
            diagnostic_id=_diagnostic_id(r, deployment_id),
            route_source=r.source,  # type: ignore[arg-type]
            hostname=r.hostname,
            path_prefix=r.path_prefix,
            proxy_kind=view.kind,  # type: ignore[arg-type]
            provider_key=view.kind,
            applied_at=applied_at,
            observed_at=observed_at,
        )

    routes = []
    for r in rows:
        binding, cert = binding_of(r), certificate_of(r)
        redirect = binding.redirect_to if binding else None
        routes.append(
            ProxyRoute(
                hostname=r.hostname,
                scheme="https" if cert else "http",
                url=routed_url(r.hostname, edge_state, r.path_prefix, tls=cert is not None),
                path_prefix=r.path_prefix,
                tls_mode=binding.tls_mode if binding else "disabled",  # type: ignore[arg-type]
                target_port=port,
                source=r.source,  # type: ignore[arg-type]
                route_behavior="redirect" if redirect else "serve",
                redirect_to=redirect,
                redirect_status=binding.redirect_status if binding and redirect else None,
                applied_route_context=context(r),
            )
        )

    edge = make(ctx.settings.data_dir, edge_state) if view.kind != "none" else None
    sections = []
    if edge is not None and port is not None:
        language = "nginx" if view.kind == "nginx" else "json"
        sections.append(
            Section(
                id=f"{view.kind}-config",
                title=f"{view.kind} configuration",
                format=language,
                language=language,
                content=edge.render(good),
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
    if view.kind == "none":
        warnings.append(
            ProxyWarning(
                code="edge-not-configured",
                message="The server has no edge proxy; the app answers on its direct port.",
            )
        )
    elif chosen is not None and chosen.status != "succeeded":
        warnings.append(
            ProxyWarning(
                code="deployment-not-applied",
                message=f"Deployment {chosen.id} is {chosen.status}: its routes were never applied for it.",
                details={"deploymentId": chosen.id, "status": chosen.status},
            )
        )

    if view.kind == "none" or not rows:
        status = "not-configured"
    elif view.deployment is None or view.deployment.status != "succeeded":
        status = "planned"
    else:
        status = "applied" if view.routed and not left_out else "failed"
    serving = {(r.hostname, r.path_prefix) for r in latest.rows if r.route_id in applied_by}
    shown = {(r.hostname, r.path_prefix) for r in rows}
    if view.kind == "none":
        stale = False
    elif view is latest or view.deployment is None:
        stale = _planned_keys(ctx, resource, view) != serving
    else:
        stale = (live is None or view.deployment.id != live.id) or shown != serving

    return ProxyConfiguration(
        resource_id=resource.id,
        deployment_id=deployment.id if deployment else None,
        provider_key=view.kind,
        route_scope=inp.route_scope,
        status=status,  # type: ignore[arg-type]
        generated_at=ctx.now,
        last_applied_deployment_id=live.id if live and latest.routed else None,
        stale=stale,
        routes=routes,
        sections=sections,
        warnings=warnings,
        diagnostics=_diagnostics(resource, view, routes, bindings, certificates, edge_state, inp, port)
        if inp.include_diagnostics
        else None,
    )


def _planned_keys(ctx: Context, resource: Resource, view: _View) -> set[tuple[str, str]]:
    planned = view if view.deployment is None else _planned(ctx, resource)
    return {(r.hostname, r.path_prefix) for r in planned.rows}


def _tls_route(route: ProxyRoute, binding: DomainBinding | None, cert: Certificate | None) -> TlsRoute:
    automation = "acme-http-01" if binding and binding.certificate_policy == "auto" else "disabled"
    details = {"domainBindingId": binding.id} if binding else {}
    if cert is not None:
        details |= {"certificateId": cert.id, **({"expiresAt": cert.expires_at} if cert.expires_at else {})}
        message = f"Served over HTTPS with the {cert.source} certificate {cert.id}."
    elif binding is None:
        message = "A generated route: served over HTTP only."
    elif binding.tls_mode == "disabled":
        message = "TLS is disabled for this domain binding: served over HTTP only."
    else:
        message = (
            "No active certificate for this domain yet: served over HTTP until one is issued or imported."
        )
    return TlsRoute(
        hostname=route.hostname,
        path_prefix=route.path_prefix,
        tls_mode=route.tls_mode,
        scheme=route.scheme,
        automation=automation,  # type: ignore[arg-type]
        certificate_source=cert.source if cert else "none",  # type: ignore[arg-type]
        dockyard_certificate_managed=cert is not None and cert.source == "managed",
        message=message,
        details=details,
    )


def _diagnostics(
    resource: Resource,
    view: _View,
    routes: list[ProxyRoute],
    bindings: dict[str, DomainBinding],
    certificates: dict[str, Certificate],
    edge_state: dict[str, object],
    inp: ProxyQuery,
    port: int | None,
) -> ProxyDiagnostics:
    tls_routes = []
    for route in routes:
        binding = bindings.get(route.hostname) if route.source == "domain-binding" else None
        tls_routes.append(_tls_route(route, binding, certificates.get(binding.id) if binding else None))
    artifact = ((view.deployment.runtime_state or {}) if view.deployment else {}).get("artifact") or {}
    in_container = "image" in artifact
    metadata = {
        "routeScope": inp.route_scope,
        "edgeStatus": edge_state.get("status"),
        "edgeLastSucceededAt": edge_state.get("lastSucceededAt"),
        "runtimeKind": ("container" if in_container else "host-process") if artifact else None,
        "upstream": f"127.0.0.1:{port}" if port is not None else None,
    }
    return ProxyDiagnostics(
        provider_key=view.kind,
        route_count=len(routes),
        network_name=f"dockyard-{resource.project_id.lower()}" if in_container else None,
        tls_routes=tls_routes,
        applied_route_contexts=[r.applied_route_context for r in routes if r.applied_route_context],
        metadata={k: str(v) for k, v in metadata.items() if v is not None},
    )
