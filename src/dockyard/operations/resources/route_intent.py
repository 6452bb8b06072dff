"""A route's intent and whether it serves (`route-intent-status/v1`): read from the store for a resource's
routes, judged by `domain.route_intent`. Shared by a resource's health and a domain binding's detail."""

import hashlib
from dataclasses import dataclass, replace
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from dockyard.domain import route_intent
from dockyard.domain.model import CamelModel
from dockyard.edge.sync import BOUND, GENERATED
from dockyard.store.tables import (
    AccessRoute,
    Certificate,
    Deployment,
    DomainBinding,
    HealthObservation,
    Server,
)

VERIFIED = "verified"  # a domain binding's status once its ownership is proven
RouteSource = Literal["generated-default-access", "durable-domain-binding"]


class Intent(CamelModel):
    host: str | None
    path_prefix: str
    protocol: Literal["http", "https"]
    route_behavior: Literal["serve", "redirect"]
    redirect_to: str | None = None
    redirect_status: int | None = None


class IntentContext(CamelModel):
    resource_id: str
    deployment_id: str | None
    server_id: str | None
    destination_id: str | None
    runtime_target_kind: str | None


class IntentProxy(CamelModel):
    intent: Literal["required", "not-required"]
    applied: Literal["applied", "pending", "failed", "not-configured"]
    provider_key: str | None


class IntentObservation(CamelModel):
    source: Literal["resource-access-summary", "resource-health"]
    observed_at: str | None
    request_id: str | None
    deployment_id: str | None


class CopySafeSummary(CamelModel):
    """What can be pasted into a support request: no secret, no internal address."""

    status: Literal["available", "blocked"]
    code: str
    phase: str
    message: str


class RouteIntentStatus(CamelModel):
    schema_version: Literal["route-intent-status/v1"] = "route-intent-status/v1"
    route_id: str
    diagnostic_id: str
    source: RouteSource
    intent: Intent
    context: IntentContext
    proxy: IntentProxy
    domain_verification: Literal["not-applicable", "verified", "pending"]
    tls: Literal["not-applicable", "ready", "pending"]
    runtime_health: Literal["healthy", "unhealthy", "unknown", "not-checked"]
    latest_observation: IntentObservation | None = None
    blocking_reason: str | None = None
    recommended_action: str
    copy_safe_summary: CopySafeSummary


@dataclass(frozen=True)
class RouteRow:
    """One route of a resource as the store holds it (a generated route, or a domain binding)."""

    route_id: str
    source: str
    host: str | None
    path_prefix: str
    server_id: str | None
    destination_id: str | None
    domain_binding_id: str | None = None
    domain_verified: bool | None = None
    tls_wanted: bool = False
    certificate_ready: bool = False
    route_applied: bool = False
    redirect_to: str | None = None
    redirect_status: int | None = None

    @property
    def serves(self) -> bool:
        return self.redirect_to is None


@dataclass(frozen=True)
class RouteSetting:
    """What every route of a resource shares: its live deployment, its server's edge, its instance."""

    live: Deployment | None
    edge: dict
    running: bool
    runtime_health: str = "unknown"
    observed_at: str | None = None
    observation_id: str | None = None
    observation_source: str = "resource-access-summary"


def diagnostic_id(route_key: str, deployment_id: str | None) -> str:
    """The same route applied by the same deployment always has the same id (to find it in logs); the
    health, a binding's readiness and the proxy configuration name it alike."""
    key = f"{route_key}|{deployment_id or 'planned'}"
    return "rdiag_" + hashlib.sha256(key.encode()).hexdigest()[:24]


def route_rows(session: Session, resource_id: str) -> list[RouteRow]:
    """The resource's routes: its generated ones, then its domain bindings (oldest first)."""
    applied = {
        r.hostname: r
        for r in session.scalars(select(AccessRoute).where(AccessRoute.resource_id == resource_id))
    }
    bindings = list(
        session.scalars(
            select(DomainBinding).where(DomainBinding.resource_id == resource_id).order_by(DomainBinding.id)
        )
    )
    certified = set(
        session.scalars(
            select(Certificate.domain_binding_id).where(
                Certificate.domain_binding_id.in_([b.id for b in bindings]), Certificate.status == "active"
            )
        )
    )
    rows = [
        RouteRow(
            r.id,
            route_intent.GENERATED_SOURCE,
            r.hostname,
            r.path_prefix,
            r.server_id,
            None,
            route_applied=True,
        )
        for r in sorted(applied.values(), key=lambda r: r.id)
        if r.source == GENERATED
    ]
    for b in bindings:
        route = applied.get(b.domain_name)
        rows.append(
            RouteRow(
                route.id if route is not None and route.source == BOUND else b.id,
                route_intent.DOMAIN_SOURCE,
                b.domain_name,
                b.path_prefix,
                b.server_id,
                b.destination_id,
                domain_binding_id=b.id,
                domain_verified=b.status == VERIFIED,
                tls_wanted=b.tls_mode != "disabled",
                certificate_ready=b.id in certified,
                route_applied=route is not None and route.source == BOUND,
                redirect_to=b.redirect_to,
                redirect_status=b.redirect_status if b.redirect_to else None,
            )
        )
    return rows


def direct_row(resource_id: str, live: Deployment | None) -> RouteRow:
    """The route of an app no hostname leads to: its direct port."""
    return RouteRow(
        f"direct_{resource_id}",
        route_intent.GENERATED_SOURCE,
        None,
        "/",
        live.server_id if live else None,
        live.destination_id if live else None,
        route_applied=live is not None,
    )


def selected(rows: list[RouteRow], live: Deployment | None, resource_id: str) -> RouteRow:
    """The route the resource's public URL is: a verified serving domain, else the generated route."""
    domains = [r for r in rows if r.domain_verified and r.route_applied and r.serves]
    generated = [r for r in rows if r.domain_binding_id is None]
    return (domains or generated or [direct_row(resource_id, live)])[0]


def setting(session: Session, resource_id: str, running: bool) -> RouteSetting:
    """The resource's live deployment, its server's edge and the monitor's latest look at it, read once
    for all its routes."""
    live = session.scalar(
        select(Deployment)
        .where(Deployment.resource_id == resource_id, Deployment.status == "succeeded")
        .order_by(Deployment.id.desc())
        .limit(1)
    )
    server = session.get(Server, live.server_id) if live else None
    seen = session.scalar(
        select(HealthObservation)
        .where(HealthObservation.resource_id == resource_id)
        .order_by(HealthObservation.id.desc())
        .limit(1)
    )
    return RouteSetting(
        live,
        dict((server.edge_proxy or {}) if server else {}),
        running,
        runtime_health=seen.runtime_health if seen else "unknown",
        observed_at=seen.observed_at if seen else None,
        observation_id=seen.id if seen else None,
        observation_source="resource-health",
    )


def status(row: RouteRow, where: RouteSetting, resource_id: str) -> RouteIntentStatus:
    if row.server_id and where.live is not None and row.server_id != where.live.server_id:
        where = replace(where, edge={})  # a route on another server than the live one: its edge is unknown
    facts = route_intent.RouteFacts(
        source=row.source,
        host=row.host,
        domain_verified=row.domain_verified,
        tls_wanted=row.tls_wanted,
        certificate_ready=row.certificate_ready,
        edge_kind=str(where.edge.get("kind", "none")),
        edge_status=where.edge.get("status"),
        route_applied=row.route_applied,
        deployed=where.live is not None,
        running=where.running,
    )
    verdict = route_intent.judge(facts)
    live = where.live
    deployment_id = live.id if live else None
    return RouteIntentStatus(
        route_id=row.route_id,
        diagnostic_id=diagnostic_id(row.route_id, deployment_id),
        source=row.source,  # type: ignore[arg-type]
        intent=Intent(
            host=row.host,
            path_prefix=row.path_prefix,
            protocol="https" if row.tls_wanted and row.certificate_ready else "http",
            route_behavior="serve" if row.serves else "redirect",
            redirect_to=row.redirect_to,
            redirect_status=row.redirect_status,
        ),
        context=IntentContext(
            resource_id=resource_id,
            deployment_id=deployment_id,
            server_id=row.server_id,
            destination_id=row.destination_id or (live.destination_id if live else None),
            runtime_target_kind=((live.runtime_plan or {}).get("execution") or {}).get("kind")
            if live
            else None,
        ),
        proxy=IntentProxy(
            intent=verdict.proxy_intent,  # type: ignore[arg-type]
            applied=verdict.proxy_applied,  # type: ignore[arg-type]
            provider_key=None if facts.edge_kind == "none" else facts.edge_kind,
        ),
        domain_verification=verdict.domain_verification,  # type: ignore[arg-type]
        tls=verdict.tls,  # type: ignore[arg-type]
        runtime_health=where.runtime_health,  # type: ignore[arg-type]
        latest_observation=IntentObservation(
            source=where.observation_source,  # type: ignore[arg-type]
            observed_at=where.observed_at,
            request_id=where.observation_id,
            deployment_id=deployment_id,
        )
        if where.observed_at
        else None,
        blocking_reason=verdict.blocking_reason,
        recommended_action=verdict.recommended_action,
        copy_safe_summary=CopySafeSummary(
            status="available" if verdict.ready else "blocked",
            code=verdict.blocking_reason or "route_ready",
            phase=verdict.phase,
            message=verdict.message,
        ),
    )
