"""Input and output models of the domain-binding operations."""

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from dockyard.domain.access import hostname_error
from dockyard.domain.model import CamelModel
from dockyard.domain.profiles import PathPrefix
from dockyard.operations.certificates.models import CertificateOut
from dockyard.operations.common import (
    DNS_LABEL,
    Blocker,
    EnvironmentId,
    IdOf,
    PageQuery,
    ProjectId,
    ResourceId,
    ServerId,
    TextSchema,
)
from dockyard.operations.resources.models import AppliedRoute
from dockyard.operations.resources.route_intent import RouteIntentStatus

DomainBindingId = IdOf("domain_binding")
BindingStatus = Literal["requested", "pending-verification", "verified"]
ProxyKind = Literal["none", "nginx", "caddy"]


def _hostname(value: str) -> str:
    problem = hostname_error(value)
    if problem:
        raise ValueError(problem)
    return value


DomainName = Annotated[
    str,
    StringConstraints(max_length=253),
    AfterValidator(_hostname),
    TextSchema(maxLength=253, pattern=f"^({DNS_LABEL}\\.)+{DNS_LABEL}$"),
]


class DnsObservationOut(CamelModel):
    status: Literal["pending", "matched", "mismatched", "unresolved"]
    expected_targets: list[str]
    observed_targets: list[str]
    checked_at: str | None
    message: str | None


class BindingOut(CamelModel):
    id: str
    project_id: str
    environment_id: str
    resource_id: str
    server_id: str
    destination_id: str | None
    domain_name: str
    path_prefix: str
    proxy_kind: str
    tls_mode: Literal["auto", "disabled"]
    redirect_to: str | None
    redirect_status: int
    certificate_policy: Literal["auto", "manual", "disabled"]
    status: BindingStatus
    dns_observation: DnsObservationOut
    verification_attempt_count: int
    verified_at: str | None
    created_at: str


class BindingList(CamelModel):
    items: list[BindingOut]
    next_cursor: str | None = None


class BindingFilter(PageQuery):
    project_id: ProjectId | None = None
    environment_id: EnvironmentId | None = None
    resource_id: ResourceId | None = None


class CreateBinding(CamelModel):
    project_id: ProjectId
    environment_id: EnvironmentId
    resource_id: ResourceId
    server_id: ServerId
    destination_id: Annotated[str, StringConstraints(max_length=40)] | None = None
    domain_name: DomainName = Field(description="The custom domain, e.g. www.example.com (lower case).")
    path_prefix: PathPrefix = "/"
    proxy_kind: ProxyKind | None = Field(default=None, description="Default: the server's edge proxy kind.")
    tls_mode: Literal["auto", "disabled"] = "auto"
    redirect_to: DomainName | None = Field(
        default=None, description="Answer 301 to this domain: a verified binding of the same resource."
    )


class BindingRef(CamelModel):
    domain_binding_id: DomainBindingId


class RouteReadiness(CamelModel):
    status: Literal["ready", "not-ready"]
    route_behavior: Literal["serve", "redirect"]
    domain_name: str
    path_prefix: str
    redirect_to: str | None
    redirect_status: int | None
    proxy_kind: str
    edge_proxy_status: str | None
    route_applied: bool
    reasons: list[str]
    selected_route: RouteIntentStatus = Field(
        description="This binding's route, judged as a request meets it."
    )
    context_routes: list[RouteIntentStatus] = Field(
        default_factory=list, description="The resource's other routes (its generated one, other bindings)."
    )


class BindingConfirmation(CamelModel):
    domain_binding_id: str = Field(description="The binding's id, typed again to confirm the deletion.")


class DeleteBinding(BindingRef):
    confirmation: BindingConfirmation


class DeleteFinding(Blocker):
    """One thing deleting the binding is blocked by (severity blocking) or changes (severity warning)."""

    severity: Literal["blocking", "warning"]
    message: str


class BindingDeleteCheck(CamelModel):
    domain_binding_id: str
    safe_to_delete: bool
    blockers: list[DeleteFinding]
    warnings: list[DeleteFinding]
    preserves_generated_access: bool = True
    preserves_deployment_snapshots: bool = True
    preserves_server_applied_route_audit: bool = True


ProxyReadiness = Literal["ready", "not-ready", "not-configured", "unknown"]


class BindingShow(CamelModel):
    binding: BindingOut
    route_readiness: RouteReadiness
    proxy_readiness: ProxyReadiness = Field(
        description="The edge proxy of the binding's server: ready, not ready (starting or failed), "
        "not configured (no edge), or unknown (the server is gone)."
    )
    generated_access_fallback: AppliedRoute | None = Field(
        description="The resource's generated address, which serves it whatever becomes of this domain "
        "(null until a deployment of it runs)."
    )
    certificates: list[CertificateOut] = Field(description="Newest first, each with its issuance attempts.")
    delete_safety: BindingDeleteCheck


class ConfirmOwnership(BindingRef):
    method: Literal["dns", "manual"] = Field(
        default="dns", description="dns: check the records now; manual: confirm without a DNS check."
    )


class VerificationOut(CamelModel):
    id: str
    verification_attempt_id: str
