"""Wire models of `GET /resources/{id}/proxy-configuration` (its query, routes, rendered sections and
diagnostics); apart from the handler so each file holds one concern."""

from typing import Literal

from pydantic import Field, StrictBool

from dockyard.domain.model import CamelModel
from dockyard.operations.common import DeploymentId, ResourceId

RouteScope = Literal["planned", "latest", "deployment-snapshot"]
RouteSource = Literal["generated-default", "domain-binding"]
ProxyKind = Literal["none", "nginx", "caddy"]
SNAPSHOT = "deployment-snapshot"
CONTEXT_SCHEMA = "applied-route-context/v1"


class ProxyQuery(CamelModel):
    resource_id: ResourceId
    deployment_id: DeploymentId | None = Field(
        default=None,
        description="The deployment whose routes routeScope=deployment-snapshot shows: required with "
        "it, refused with the other scopes.",
    )
    route_scope: RouteScope = Field(
        default="latest",
        description="planned: the routes the resource's configuration gives now; latest: the routes "
        "applied for its latest succeeded deployment; deployment-snapshot: the routes deploymentId "
        "was applied with.",
    )
    include_diagnostics: StrictBool = False


class AppliedRouteContext(CamelModel):
    """Where a route was applied: by which deployment, on which server's edge, and when."""

    schema_version: Literal["applied-route-context/v1"] = CONTEXT_SCHEMA
    resource_id: str
    deployment_id: str | None = None
    domain_binding_id: str | None = None
    server_id: str | None = None
    destination_id: str | None = None
    route_id: str | None = Field(default=None, description="Null for a generated route not made yet.")
    diagnostic_id: str = Field(description="Stable for one route applied by one deployment.")
    route_source: RouteSource
    hostname: str
    path_prefix: str
    proxy_kind: ProxyKind
    provider_key: str
    applied_at: str | None = Field(default=None, description="Null while the route is not applied.")
    observed_at: str | None = Field(
        default=None, description="When Dockyard last saw the edge apply its configuration with it."
    )


class ProxyRoute(CamelModel):
    hostname: str
    scheme: Literal["http", "https"] = "http"
    url: str
    path_prefix: str
    tls_mode: Literal["auto", "disabled"] = "disabled"
    target_port: int | None
    source: RouteSource
    route_behavior: Literal["serve", "redirect"] = "serve"
    redirect_to: str | None = None
    redirect_status: int | None = None
    applied_route_context: AppliedRouteContext | None = None


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


class TlsRoute(CamelModel):
    """How the edge serves one route: HTTPS with which certificate, or plain HTTP and why."""

    hostname: str
    path_prefix: str
    tls_mode: Literal["auto", "disabled"]
    scheme: Literal["http", "https"]
    automation: Literal["disabled", "acme-http-01"] = Field(
        description="acme-http-01: Dockyard issues and renews the domain's certificate itself."
    )
    certificate_source: Literal["none", "imported", "managed"]
    dockyard_certificate_managed: bool = Field(
        alias="appaloftCertificateManaged",
        description="The certificate served is one Dockyard issued and renews (not an imported one).",
    )
    message: str
    details: dict[str, str] = Field(default_factory=dict)


class ProxyDiagnostics(CamelModel):
    provider_key: str
    route_count: int
    network_name: str | None = Field(
        default=None,
        description="The container network of the deployment's app; null for a host process (the edge "
        "reaches every app on 127.0.0.1 at its front port).",
    )
    tls_routes: list[TlsRoute]
    applied_route_contexts: list[AppliedRouteContext]
    metadata: dict[str, str] = Field(default_factory=dict)


class ProxyConfiguration(CamelModel):
    resource_id: str
    deployment_id: str | None
    provider_key: str
    route_scope: RouteScope
    status: Literal["not-configured", "planned", "applied", "failed"]
    generated_at: str
    last_applied_deployment_id: str | None
    stale: bool = Field(description="The routes shown are not the ones the edge serves for it now.")
    routes: list[ProxyRoute]
    sections: list[Section]
    warnings: list[ProxyWarning] = Field(default_factory=list)
    diagnostics: ProxyDiagnostics | None = Field(default=None, description="With includeDiagnostics.")
