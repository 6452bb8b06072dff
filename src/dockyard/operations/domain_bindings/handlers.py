"""Domain bindings: a custom domain of a resource, verified by DNS, then served (or redirected) by the
server's edge proxy.

A binding starts pending verification. An ownership confirmation checks the domain's DNS records
against the server (`dockyard.domain.dns`); once verified, an access route with source
`domain-binding` is written and the edge is re-applied. The resource's generated route is never
touched, so deleting a binding leaves the generated access working.
"""

from sqlalchemy import delete, select

from dockyard.domain import certificates, dns, lifecycle
from dockyard.domain.errors import Conflict, Invalid
from dockyard.domain.ids import new_id
from dockyard.edge.sync import sync_after_commit
from dockyard.operations.catalog import operation
from dockyard.operations.certificates import views as certificate_views
from dockyard.operations.common import IdOut
from dockyard.operations.context import Context
from dockyard.operations.deployments.rollups import live_route, rollups
from dockyard.operations.domain_bindings.models import (
    BindingDeleteCheck,
    BindingFilter,
    BindingList,
    BindingOut,
    BindingRef,
    BindingShow,
    ConfirmOwnership,
    CreateBinding,
    DeleteBinding,
    DeleteFinding,
    DnsObservationOut,
    ProxyReadiness,
    RouteReadiness,
    VerificationOut,
)
from dockyard.operations.environments.handlers import load as load_environment
from dockyard.operations.projects.handlers import load as load_project
from dockyard.operations.resources import route_intent
from dockyard.operations.resources.handlers import load as load_resource
from dockyard.operations.resources.models import AppliedRoute
from dockyard.operations.servers.handlers import load as load_server
from dockyard.store import queries
from dockyard.store.tables import AccessRoute, Certificate, DomainBinding, Server

BOUND = "domain-binding"  # AccessRoute.source of a verified binding's route (edge.sync.BOUND)
VERIFIED = "verified"
PENDING = "pending-verification"


def load(ctx: Context, binding_id: str) -> DomainBinding:
    return queries.get_or_404(ctx.session, DomainBinding, binding_id, "domain_binding")


def out(row: DomainBinding) -> BindingOut:
    return BindingOut(
        id=row.id,
        project_id=row.project_id,
        environment_id=row.environment_id,
        resource_id=row.resource_id,
        server_id=row.server_id,
        destination_id=row.destination_id,
        domain_name=row.domain_name,
        path_prefix=row.path_prefix,
        proxy_kind=row.proxy_kind,
        tls_mode=row.tls_mode,  # type: ignore[arg-type]
        redirect_to=row.redirect_to,
        redirect_status=row.redirect_status,
        certificate_policy=row.certificate_policy,  # type: ignore[arg-type]
        status=row.status,  # type: ignore[arg-type]
        dns_observation=DnsObservationOut.model_validate(row.dns_observation),
        verification_attempt_count=row.verification_attempt_count,
        verified_at=row.verified_at,
        created_at=row.created_at,
    )


def _where(inp: BindingFilter) -> list:
    where = []
    if inp.project_id:
        where.append(DomainBinding.project_id == inp.project_id)
    if inp.environment_id:
        where.append(DomainBinding.environment_id == inp.environment_id)
    if inp.resource_id:
        where.append(DomainBinding.resource_id == inp.resource_id)
    return where


@operation("domain-bindings.list", "GET", "/domain-bindings")
def list_bindings(ctx: Context, inp: BindingFilter) -> BindingList:
    """List domain bindings, newest first, optionally of one project, environment or resource."""
    stmt = select(DomainBinding).where(*_where(inp))
    rows, cursor = queries.keyset_page(ctx.session, stmt, DomainBinding.id, inp.limit, inp.cursor)
    return BindingList(items=[out(r) for r in rows], next_cursor=cursor)


def _ensure_domain_free(ctx: Context, domain: str, resource_id: str) -> None:
    bound = ctx.session.scalar(select(DomainBinding).where(DomainBinding.domain_name == domain))
    if bound is not None:
        whose = "this resource" if bound.resource_id == resource_id else f"resource {bound.resource_id}"
        raise Conflict(
            f"Domain {domain} is already bound to {whose}.",
            code="domain_already_bound",
            details={"domainName": domain, "domainBindingId": bound.id, "resourceId": bound.resource_id},
            next_action=f"Use it, or delete it first: dockyard domain-bindings show {bound.id}",
        )
    route = ctx.session.scalar(select(AccessRoute).where(AccessRoute.hostname == domain))
    if route is not None:
        raise Conflict(
            f"Domain {domain} is a generated access hostname of resource {route.resource_id}.",
            code="domain_is_generated_route",
            details={"domainName": domain, "resourceId": route.resource_id, "source": route.source},
            next_action="Bind a domain you own; the generated hostname is served already.",
        )


def _redirect_error(ctx: Context, redirect_to: str, domain: str, resource_id: str) -> Invalid | None:
    """Why `redirect_to` cannot be this binding's redirect target, or None."""
    target = ctx.session.scalar(select(DomainBinding).where(DomainBinding.domain_name == redirect_to))
    if redirect_to == domain:
        problem = "a domain cannot redirect to itself"
    elif target is None or target.resource_id != resource_id:
        problem = f"{redirect_to} is not a domain binding of resource {resource_id}"
    elif target.status != VERIFIED:
        problem = f"{redirect_to} is not verified yet"
    elif target.redirect_to is not None:
        problem = f"{redirect_to} redirects itself (to {target.redirect_to}); chains are not allowed"
    else:
        return None
    return Invalid(
        f"redirectTo: {problem}.",
        code="redirect_target_invalid",
        details={"field": "redirectTo", "redirectTo": redirect_to},
        next_action="Redirect to a verified domain binding of the same resource that serves it.",
    )


def _expected_at_create(domain: str, server: Server) -> list[str]:
    return dns.expected_targets(domain, server.host)


@operation("domain-bindings.create", "POST", "/domain-bindings", status_code=201)
def create_binding(ctx: Context, inp: CreateBinding) -> IdOut:
    """Bind a custom domain to a resource; it is served once its DNS ownership is confirmed."""
    project = load_project(ctx, inp.project_id)
    env = load_environment(ctx, inp.environment_id)
    resource = load_resource(ctx, inp.resource_id)
    if env.project_id != project.id or resource.environment_id != env.id or resource.project_id != project.id:
        raise Invalid(
            f"Resource {resource.id}, environment {env.id} and project {project.id} do not belong together.",
            code="resource_context_mismatch",
            details={
                "field": "resourceId",
                "resourceId": resource.id,
                "environmentId": resource.environment_id,
                "projectId": resource.project_id,
            },
            next_action=f"Use the resource's own ids: dockyard resources show {resource.id}",
        )
    lifecycle.ensure_project_active(project.lifecycle_status, project.id)
    lifecycle.ensure_environment_writable(env.lifecycle_status, env.id)
    lifecycle.ensure_resource_active(resource.lifecycle_status, resource.id)
    server = load_server(ctx, inp.server_id)
    lifecycle.ensure_server_active(server.lifecycle_status, server.id)
    _ensure_domain_free(ctx, inp.domain_name, resource.id)
    if inp.redirect_to is not None:
        problem = _redirect_error(ctx, inp.redirect_to, inp.domain_name, resource.id)
        if problem:
            raise problem
    observation = dns.DnsObservation(
        "pending",
        _expected_at_create(inp.domain_name, server),
        message="Point the domain at the server, then confirm ownership.",
    )
    # "requested" lasts only inside this request: the binding waits for verification right away.
    row = DomainBinding(
        id=new_id("domain_binding"),
        project_id=project.id,
        environment_id=env.id,
        resource_id=resource.id,
        server_id=server.id,
        destination_id=inp.destination_id or resource.destination_id,
        domain_name=inp.domain_name,
        path_prefix=inp.path_prefix,
        proxy_kind=inp.proxy_kind or (server.edge_proxy or {}).get("kind", "none"),
        tls_mode=inp.tls_mode,
        redirect_to=inp.redirect_to,
        redirect_status=301,
        certificate_policy="auto" if inp.tls_mode == "auto" else "disabled",
        status=PENDING,
        dns_observation=observation.as_dict(),
        verification_attempt_count=0,
        created_at=ctx.now,
    )
    ctx.session.add(row)
    return IdOut(id=row.id)


def _route_row(ctx: Context, row: DomainBinding) -> AccessRoute | None:
    return ctx.session.scalar(
        select(AccessRoute).where(AccessRoute.hostname == row.domain_name, AccessRoute.source == BOUND)
    )


def _readiness(ctx: Context, row: DomainBinding) -> RouteReadiness:
    server = ctx.session.get(Server, row.server_id)
    edge = (server.edge_proxy or {}) if server else {}
    route = _route_row(ctx, row)
    reasons = []
    if row.status != VERIFIED:
        reasons.append("the domain's ownership is not verified yet")
    elif route is None:
        reasons.append("the route is not applied yet")
    if edge.get("kind", "none") == "none":
        reasons.append(f"server {row.server_id} has no edge proxy configured")
    elif edge.get("status") != "ready":
        reasons.append(f"the edge proxy is {edge.get('status', 'pending')}")
    if ctx.services is not None and ctx.services.runtime.front_port(row.resource_id) is None:
        reasons.append(f"resource {row.resource_id} has no running deployment yet")
    active = ((ctx.services.runtime.status(row.resource_id) or {}) if ctx.services else {}).get(
        "active"
    ) or {}
    where = route_intent.setting(ctx.session, row.resource_id, active.get("state") == "running")
    routes = route_intent.route_rows(ctx.session, row.resource_id)
    mine = next(r for r in routes if r.domain_binding_id == row.id)
    return RouteReadiness(
        status="not-ready" if reasons else "ready",
        route_behavior="redirect" if row.redirect_to else "serve",
        domain_name=row.domain_name,
        path_prefix=row.path_prefix,
        redirect_to=row.redirect_to,
        redirect_status=row.redirect_status if row.redirect_to else None,
        proxy_kind=edge.get("kind", "none"),
        edge_proxy_status=edge.get("status"),
        route_applied=route is not None,
        reasons=reasons,
        selected_route=route_intent.status(mine, where, row.resource_id),
        context_routes=[route_intent.status(r, where, row.resource_id) for r in routes if r is not mine],
    )


@operation("domain-bindings.show", "GET", "/domain-bindings/{domainBindingId}")
def show_binding(ctx: Context, inp: BindingRef) -> BindingShow:
    """Read one domain binding with the readiness of its route."""
    row = load(ctx, inp.domain_binding_id)
    return BindingShow(
        binding=out(row),
        route_readiness=_readiness(ctx, row),
        proxy_readiness=_proxy_readiness(ctx.session.get(Server, row.server_id)),
        generated_access_fallback=_generated_access(ctx, row.resource_id),
        certificates=certificate_views.of_binding(ctx, row.id),
        delete_safety=_delete_check(ctx, row),
    )


def _generated_access(ctx: Context, resource_id: str) -> AppliedRoute | None:
    roll = rollups(ctx.session, [resource_id])[resource_id]
    route = live_route(roll.live, roll.routed)
    return AppliedRoute.model_validate(route) if route else None


def _proxy_readiness(server: Server | None) -> ProxyReadiness:
    if server is None:
        return "unknown"
    edge = server.edge_proxy or {}
    if edge.get("kind", "none") == "none":
        return "not-configured"
    return "ready" if edge.get("status") == "ready" else "not-ready"


def _apply_route(ctx: Context, row: DomainBinding) -> None:
    """Write the binding's access route (hostname unique platform-wide) and re-apply the edge."""
    if row.redirect_to is not None:
        problem = _redirect_error(ctx, row.redirect_to, row.domain_name, row.resource_id)
        if problem:
            raise problem
    taken = ctx.session.scalar(select(AccessRoute).where(AccessRoute.hostname == row.domain_name))
    if taken is not None and (taken.source != BOUND or taken.resource_id != row.resource_id):
        raise Conflict(
            f"Domain {row.domain_name} is already routed to resource {taken.resource_id}.",
            code="domain_already_bound",
            details={"domainName": row.domain_name, "resourceId": taken.resource_id, "source": taken.source},
            next_action="Remove the other route or binding first.",
        )
    if taken is None:
        taken = AccessRoute(
            id=new_id("access_route"),
            resource_id=row.resource_id,
            hostname=row.domain_name,
            source=BOUND,
            created_at=ctx.now,
        )
        ctx.session.add(taken)
    taken.server_id, taken.path_prefix = row.server_id, row.path_prefix
    ctx.session.flush()
    sync_after_commit(ctx, row.server_id)


def ensure_verified(row: DomainBinding, consequence: str) -> None:
    if row.status != VERIFIED:
        raise Conflict(
            f"Domain {row.domain_name} is not verified yet; {consequence}.",
            code="domain_not_verified",
            details={"domainBindingId": row.id, "status": row.status},
            next_action=f"dockyard domain-bindings confirm-ownership {row.id}",
        )


@operation("domain-bindings.route", "POST", "/domain-bindings/{domainBindingId}/route")
def route_binding(ctx: Context, inp: BindingRef) -> IdOut:
    """(Re)apply a verified binding's route on its server's edge: serve, or 301 to redirectTo."""
    row = load(ctx, inp.domain_binding_id)
    ensure_verified(row, "it is not routed before that")
    _apply_route(ctx, row)
    return IdOut(id=row.id)


def _check_dns(ctx: Context, row: DomainBinding) -> dns.DnsObservation:
    server = ctx.session.get(Server, row.server_id)
    host = server.host if server else ""
    resolver = dns.resolver()
    addresses = resolver.resolve(host) if host and not dns.is_ip(host) else []
    expected = dns.expected_targets(row.domain_name, host, addresses)
    return dns.observe(expected, resolver.resolve(row.domain_name), ctx.now)


def _verify(ctx: Context, binding_id: str, method: str) -> VerificationOut:
    row = load(ctx, binding_id)
    attempt = new_id("verification_attempt")
    row.verification_attempt_count += 1
    row.last_verification_attempt_id = attempt
    if method == "manual":
        message = "Ownership confirmed manually, without a DNS check."
        row.dns_observation = {**row.dns_observation, "message": message}
        matched = True
    else:
        found = _check_dns(ctx, row)
        row.dns_observation = found.as_dict()
        matched = found.status == "matched"
    if matched and row.status != VERIFIED:
        row.status, row.verified_at = VERIFIED, ctx.now
        _apply_route(ctx, row)
    return VerificationOut(id=row.id, verification_attempt_id=attempt)


@operation(
    "domain-bindings.confirm-ownership", "POST", "/domain-bindings/{domainBindingId}/ownership-confirmations"
)
def confirm_ownership(ctx: Context, inp: ConfirmOwnership) -> VerificationOut:
    """Confirm a domain's ownership: check its DNS records now (or confirm manually); verified domains
    are routed at once."""
    return _verify(ctx, inp.domain_binding_id, inp.method)


@operation(
    "domain-bindings.retry-verification", "POST", "/domain-bindings/{domainBindingId}/verification-retries"
)
def retry_verification(ctx: Context, inp: BindingRef) -> VerificationOut:
    """Check a domain's DNS records again (after fixing them)."""
    return _verify(ctx, inp.domain_binding_id, "dns")


def _blockers(ctx: Context, row: DomainBinding) -> list[lifecycle.Blocker]:
    sources = queries.count(
        ctx.session, DomainBinding, DomainBinding.redirect_to == row.domain_name, DomainBinding.id != row.id
    )
    return [lifecycle.Blocker("redirect-sources", "domain-binding", row.id, sources)] if sources else []


def _blocker_findings(ctx: Context, row: DomainBinding) -> list[DeleteFinding]:
    return [
        DeleteFinding(
            kind=b.kind,
            related_entity_type=b.related_entity_type,
            related_entity_id=b.related_entity_id,
            count=b.count,
            severity="blocking",
            message=f"{b.count} other binding(s) redirect to {row.domain_name}; delete or re-point them.",
        )
        for b in _blockers(ctx, row)
    ]


def _warnings(ctx: Context, row: DomainBinding) -> list[DeleteFinding]:
    warnings = []
    route = _route_row(ctx, row)
    if route is not None:
        warnings.append(
            DeleteFinding(
                kind="edge-route",
                severity="warning",
                message=f"The edge stops serving {row.domain_name}; the generated hostname keeps working.",
                related_entity_type="edge-route",
                related_entity_id=route.id,
                count=1,
            )
        )
    active = ctx.session.scalar(
        select(Certificate.id).where(Certificate.domain_binding_id == row.id, Certificate.status == "active")
    )
    if active is not None:
        warnings.append(
            DeleteFinding(
                kind="active-certificate",
                severity="warning",
                message=f"Its active certificate {active} is deleted with it (files removed).",
                related_entity_type="certificate",
                related_entity_id=active,
                count=1,
            )
        )
    return warnings


@operation("domain-bindings.delete-check", "GET", "/domain-bindings/{domainBindingId}/delete-check")
def binding_delete_check(ctx: Context, inp: BindingRef) -> BindingDeleteCheck:
    """Preview deleting a domain binding: what blocks it and what it changes."""
    return _delete_check(ctx, load(ctx, inp.domain_binding_id))


def _delete_check(ctx: Context, row: DomainBinding) -> BindingDeleteCheck:
    blockers = _blocker_findings(ctx, row)
    return BindingDeleteCheck(
        domain_binding_id=row.id,
        safe_to_delete=not blockers,
        blockers=blockers,
        warnings=_warnings(ctx, row),
    )


@operation("domain-bindings.delete", "DELETE", "/domain-bindings/{domainBindingId}")
def delete_binding(ctx: Context, inp: DeleteBinding) -> IdOut:
    """Delete a domain binding and its route; needs confirmation.domainBindingId."""
    row = load(ctx, inp.domain_binding_id)
    if inp.confirmation.domain_binding_id != row.id:
        raise Invalid(
            f"Confirmation does not match: confirmation.domainBindingId must be {row.id!r}.",
            code="confirmation_mismatch",
            details={"field": "confirmation.domainBindingId"},
            next_action=f"Send confirmation.domainBindingId = {row.id!r} to confirm.",
        )
    lifecycle.refuse_if_blocked(
        _blockers(ctx, row),
        f"Domain binding {row.id}",
        "Delete (or re-point) the bindings that redirect to this domain first.",
    )
    ctx.session.execute(
        delete(AccessRoute).where(AccessRoute.hostname == row.domain_name, AccessRoute.source == BOUND)
    )
    certificate_ids = list(
        ctx.session.scalars(select(Certificate.id).where(Certificate.domain_binding_id == row.id))
    )
    ctx.session.delete(row)  # its certificates' rows go with it (foreign key cascade)
    sync_after_commit(ctx, row.server_id)
    data_dir = ctx.settings.data_dir
    ctx.after_commit.append(lambda: [certificates.remove_files(data_dir, c) for c in certificate_ids])
    return IdOut(id=row.id)
