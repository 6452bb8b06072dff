"""Keeping a server's edge proxy in step with the store: which hostnames route to which resources.

Called after a deployment switches, after the edge is configured or bootstrapped, after an access
policy changes, and when `dockyard serve` starts. Each sync first gives every live resource of the
server its generated route (so apps deployed before the edge existed are routed by its bootstrap).
A failure never fails a deployment: the app is live on its direct URL, and the server's `edgeProxy`
status says what went wrong; a route the edge could not render is left out, the others applied, and
it is listed in `edgeProxy.skippedRoutes`.
"""

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dockyard.domain import certificates
from dockyard.domain.access import Policy, generated_hostname
from dockyard.domain.ids import new_id
from dockyard.domain.work import SUCCEEDED, Outcome
from dockyard.edge.protocol import (
    ALL_INTERFACES,
    Edge,
    EdgeConfigInvalid,
    EdgeSettings,
    EdgeUnavailable,
    Route,
    SkippedRoute,
    TlsFiles,
)
from dockyard.operations.context import Context, utc_now
from dockyard.services import Services
from dockyard.store.tables import (
    AccessPolicy,
    AccessRoute,
    Certificate,
    Deployment,
    DomainBinding,
    Resource,
    Server,
)

log = logging.getLogger("dockyard.edge")
GENERATED = "generated-default"
BOUND = "domain-binding"  # a verified custom domain (see operations/domain_bindings/)


def edge_settings(data_dir: Any, edge_proxy: dict[str, Any]) -> EdgeSettings | None:
    kind = edge_proxy.get("kind", "none")
    if kind == "none":
        return None
    return EdgeSettings(
        kind=kind,
        state_dir=data_dir / "edge" / kind,
        http_port=int(edge_proxy.get("httpPort") or 80),
        https_port=int(edge_proxy.get("httpsPort") or 443),
        listen_address=str(edge_proxy.get("bindAddress") or ALL_INTERFACES),
    )


def challenges_dir(data_dir: Any) -> Path:
    """Pending HTTP-01 challenges: a folder per attempt, a file per token holding its key authorization
    (written by certificates.attempts)."""
    return Path(data_dir) / "acme" / "challenges"


def pending_challenges(data_dir: Any) -> dict[str, str]:
    folder = challenges_dir(data_dir)
    if not folder.is_dir():
        return {}
    return {f.name: f.read_text().strip() for f in sorted(folder.glob("*/*")) if f.is_file()}


def make(data_dir: Any, edge_proxy: dict[str, Any]) -> Edge | None:
    settings = edge_settings(data_dir, edge_proxy)
    if settings is None:
        return None
    from dockyard.edge import make_edge

    return make_edge(settings)


def policy_for(session: Session, server_id: str) -> Policy:
    """The server's own policy, else the system one, else generated names by the server's address."""
    rows = {
        p.scope_key: p
        for p in session.scalars(
            select(AccessPolicy).where(AccessPolicy.scope_key.in_(("system", f"server:{server_id}")))
        )
    }
    row = rows.get(f"server:{server_id}") or rows.get("system")
    if row is None:
        return Policy()
    return Policy(mode=row.mode, provider_key=row.provider_key, template_ref=row.template_ref)


def routed_url(hostname: str, edge_proxy: dict[str, Any], path: str = "/", tls: bool = False) -> str:
    """The URL the edge serves a route at: on its HTTPS port when the route has a certificate."""
    scheme, default = ("https", 443) if tls else ("http", 80)
    port = int(edge_proxy.get("httpsPort" if tls else "httpPort") or default)
    return f"{scheme}://{hostname}{'' if port == default else f':{port}'}{path}"


def planned_hostname(session: Session, resource: Resource, server: Server) -> str | None:
    """The hostname the resource's generated route on the server gets when it is made (None: the
    policy disables generated routes); nothing is written."""
    policy = policy_for(session, server.id)
    plain = generated_hostname(policy, resource.slug, resource.id, server.host, ())
    if plain is None:
        return None
    taken = set(session.scalars(select(AccessRoute.hostname).where(AccessRoute.hostname == plain)))
    return generated_hostname(policy, resource.slug, resource.id, server.host, taken) or plain


def assign_route(session: Session, resource: Resource, server: Server, now: str) -> AccessRoute | None:
    """The resource's generated route on the server, made on first need (hostnames are unique)."""
    existing = session.scalar(
        select(AccessRoute).where(
            AccessRoute.resource_id == resource.id,
            AccessRoute.server_id == server.id,
            AccessRoute.source == GENERATED,
        )
    )
    if existing is not None:
        return existing
    hostname = planned_hostname(session, resource, server)
    if hostname is None:
        return None
    route = AccessRoute(
        id=new_id("access_route"),
        resource_id=resource.id,
        server_id=server.id,
        hostname=hostname,
        path_prefix="/",
        source=GENERATED,
        created_at=now,
    )
    session.add(route)
    session.flush()
    return route


def route_live_resources(session: Session, svc: Services, server: Server) -> None:
    """Give each live resource of the server (its newest succeeded deployment is there and something
    answers on its front port) its generated route, if it has none yet."""
    newest = (
        select(func.max(Deployment.id))
        .where(Deployment.status == "succeeded")
        .group_by(Deployment.resource_id)
    )
    routed = select(AccessRoute.resource_id).where(
        AccessRoute.server_id == server.id, AccessRoute.source == GENERATED
    )
    unrouted = session.scalars(
        select(Resource)
        .join(Deployment, Deployment.resource_id == Resource.id)
        .where(
            Deployment.id.in_(newest),
            Deployment.server_id == server.id,
            Resource.deleted_at.is_(None),
            Resource.id.not_in(routed),
        )
        .order_by(Resource.id)
    ).all()
    now = utc_now()
    for resource in unrouted:
        if svc.runtime.front_port(resource.id) is not None:
            assign_route(session, resource, server, now)


def desired_routes(session: Session, svc: Services, server_id: str) -> list[Route]:
    """Every route of a live resource on the server that has something running behind it."""
    rows = session.execute(
        select(AccessRoute, Resource.id)
        .join(Resource, Resource.id == AccessRoute.resource_id)
        .where(AccessRoute.server_id == server_id, Resource.deleted_at.is_(None))
        .order_by(AccessRoute.hostname)
    ).all()
    redirects = dict(
        session.execute(
            select(DomainBinding.domain_name, DomainBinding.redirect_to).where(
                DomainBinding.server_id == server_id, DomainBinding.redirect_to.is_not(None)
            )
        ).all()
    )
    certified = {
        domain: (cert_id, fingerprint)
        for domain, cert_id, fingerprint in session.execute(
            select(Certificate.domain_name, Certificate.id, Certificate.fingerprint)
            .join(DomainBinding, DomainBinding.id == Certificate.domain_binding_id)
            .where(DomainBinding.server_id == server_id, Certificate.status == "active")
        ).all()
    }
    routes = []
    for route, resource_id in rows:
        port = svc.runtime.front_port(resource_id)
        if port is not None:
            bound = route.source == BOUND
            redirect = redirects.get(route.hostname) if bound else None
            cert = certified.get(route.hostname) if bound else None
            tls = tls_files(svc.settings.data_dir, *cert) if cert else None
            routes.append(
                Route(
                    route.hostname,
                    port,
                    route.path_prefix,
                    tls=tls,
                    redirect_to=redirect,
                    resource_id=resource_id,
                )
            )
    return routes


def tls_files(data_dir: Any, certificate_id: str, fingerprint: str | None) -> TlsFiles:
    """The files of an active certificate (written by operations.certificates, certificates.attempts)."""
    folder = certificates.files_dir(data_dir, certificate_id)
    chain, key = str(folder / certificates.CHAIN_FILE), str(folder / certificates.KEY_FILE)
    return TlsFiles(chain, key, fingerprint or "")


def _record(
    session: Session,
    server: Server,
    status: str,
    code: str | None,
    message: str | None,
    skipped: list[SkippedRoute] | None,
) -> None:
    """`skipped`: the routes the applied config left out (None: no config was applied, keep the last)."""
    now = utc_now()
    state = dict(server.edge_proxy or {})
    state.update(status=status, lastAttemptAt=now, lastErrorCode=code, lastErrorMessage=message)
    if status == "ready":
        state["lastSucceededAt"] = now
    if skipped is not None:
        state["skippedRoutes"] = [
            {
                "hostname": r.hostname,
                "pathPrefix": r.path_prefix,
                "resourceId": r.resource_id,
                "message": r.message,
            }
            for r in skipped
        ]
    server.edge_proxy = state


def sync(svc: Services, server_id: str) -> dict[str, Any]:
    """Start the server's edge if needed and apply its routes; returns the recorded edgeProxy state."""
    with svc.db.session() as s:
        server = s.get(Server, server_id)
        if server is None:
            return {}
        edge = make(svc.settings.data_dir, server.edge_proxy or {})
        if edge is None:
            return dict(server.edge_proxy or {})
        route_live_resources(s, svc, server)
        routes = desired_routes(s, svc, server_id)
    code = message = skipped = None
    try:
        edge.ensure_running()
        skipped = edge.apply(routes, pending_challenges(svc.settings.data_dir)).skipped
        for route in skipped:
            log.warning("edge of server %s left out a route: %s", server_id, route.message)
    except EdgeConfigInvalid as exc:
        code, message = "edge-config-invalid", str(exc)
    except EdgeUnavailable as exc:
        code, message = "edge-unavailable", str(exc)
    except OSError as exc:
        code, message = "edge-failed", f"{type(exc).__name__}: {exc}"
    if code:
        log.warning("edge of server %s: %s", server_id, message)
    with svc.db.session() as s:
        server = s.get(Server, server_id)
        assert server is not None
        _record(s, server, "failed" if code else "ready", code, message, skipped)
        return dict(server.edge_proxy)


@dataclass(frozen=True)
class Routed:
    url: str | None = None
    proxy_kind: str = "none"
    problem: str | None = None


def route_resource(svc: Services, resource_id: str, server_id: str) -> Routed:
    """After a switch: give the resource its route and apply the edge."""
    with svc.db.session() as s:
        server, resource = s.get(Server, server_id), s.get(Resource, resource_id)
        kind = (server.edge_proxy or {}).get("kind", "none") if server else "none"
        if server is None or resource is None or kind == "none":
            return Routed()
        route = assign_route(s, resource, server, utc_now())
        hostname = route.hostname if route else None
    state = sync(svc, server_id)
    if state.get("status") != "ready":
        return Routed(problem=state.get("lastErrorMessage") or "the edge proxy is not ready", proxy_kind=kind)
    left_out = [r["message"] for r in state.get("skippedRoutes", []) if r["resourceId"] == resource_id]
    problem = "; ".join(f"a route was left out: {m}" for m in left_out) or None
    return Routed(routed_url(hostname, state) if hostname else None, kind, problem)


def sync_if_running(svc: Services, server_id: str) -> None:
    """Sync the server's edge when its proxy is running (a configure that changed neither kind nor
    ports); otherwise the bootstrap does it."""
    with svc.db.session() as s:
        server = s.get(Server, server_id)
        edge = make(svc.settings.data_dir, server.edge_proxy or {}) if server else None
    if edge is not None and edge.status().running:
        sync(svc, server_id)


def sync_after_commit(ctx: Context, server_id: str) -> None:
    """Re-apply the server's edge once the operation's changes are committed (no-op without services)."""
    if ctx.services is not None:
        services = ctx.services
        ctx.after_commit.append(lambda: sync(services, server_id))


def bootstrap(svc: Services, server_id: str) -> Outcome:
    """The proxy-bootstrap job: start the server's edge and apply its routes; failed if not ready."""
    state = sync(svc, server_id)
    if state.get("kind", "none") == "none" or state.get("status") == "ready":
        return SUCCEEDED
    return Outcome(
        "failed",
        state.get("lastErrorCode") or "edge-failed",
        "proxy",
        True,
        state.get("lastErrorMessage"),
        "bootstrap",
    )
