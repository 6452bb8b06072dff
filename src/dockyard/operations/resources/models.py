"""Wire models of resources: summaries, the full show view, access summary, profile inputs."""

from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool, StringConstraints

from dockyard.domain.model import CamelModel
from dockyard.domain.profiles import (
    AccessProfile,
    AccessProfileChange,
    HealthCheck,
    HealthCheckChange,
    NetworkProfile,
    RuntimeProfile,
    Service,
    SourceProfile,
)
from dockyard.operations.common import EnvironmentId, Name, PageQuery, ProjectId, Reason, ResourceId
from dockyard.operations.resources.access_models import AccessFailure
from dockyard.operations.resources.control_models import RuntimeControlAttempt

ResourceKind = Literal["application", "static-site", "worker", "compose-stack", "mcp-server"]
DeploymentStatus = Literal[
    "created",
    "planning",
    "planned",
    "running",
    "cancel-requested",
    "succeeded",
    "failed",
    "canceled",
    "rolled-back",
]
Services = Annotated[list[Service], Field(min_length=1, max_length=20)]


class PlannedRoute(CamelModel):
    url: str
    hostname: str
    scheme: Literal["http", "https"]
    provider_key: str | None = None
    path_prefix: str = "/"
    proxy_kind: Literal["none", "nginx", "caddy"] = "none"
    target_port: int | None = None


class AppliedRoute(PlannedRoute):
    deployment_id: str | None = None
    deployment_status: DeploymentStatus | None = None
    updated_at: str | None = None


class AccessSummary(CamelModel):
    planned_generated_access_route: PlannedRoute | None = None
    latest_generated_access_route: AppliedRoute | None = None
    latest_durable_domain_route: AppliedRoute | None = None
    latest_server_applied_domain_route: AppliedRoute | None = None
    proxy_route_status: Literal["unknown", "not-configured", "pending", "ready", "failed"] = "unknown"
    last_route_realization_deployment_id: str | None = None
    latest_access_failure_diagnostic: AccessFailure | None = Field(
        default=None, description="The newest failed request through a route in the last 24 hours."
    )


class ResourceCore(CamelModel):
    id: str
    project_id: str
    environment_id: str
    destination_id: str | None
    name: str
    slug: str
    kind: ResourceKind
    description: str | None
    created_at: str
    services: list[Service]
    deployment_count: int = 0
    last_deployment_id: str | None = None
    last_deployment_status: DeploymentStatus | None = None


class ResourceSummary(ResourceCore):
    network_profile: NetworkProfile
    access_profile: AccessProfile
    latest_runtime_control: RuntimeControlAttempt | None = None
    access_summary: AccessSummary


class ResourceList(CamelModel):
    items: list[ResourceSummary]
    next_cursor: str | None = None


class LatestDeployment(CamelModel):
    id: str
    status: DeploymentStatus
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    server_id: str | None = None
    destination_id: str | None = None


class Lifecycle(CamelModel):
    status: Literal["active", "archived", "deleted"]
    archived_at: str | None
    deleted_at: str | None


class ConfigValueOut(CamelModel):
    """One side of a config comparison: shown masked where it looks secret, hashed to compare."""

    state: Literal["present", "absent"]
    display_value: str | None = None
    value_hash: str | None = None


class DiagnosticOut(CamelModel):
    code: str
    severity: Literal["info", "warning", "error"]
    message: str
    path: str | None = None
    section: Literal["source", "runtime", "network", "health", "access", "configuration"]
    field_path: str | None = None
    # config drift only (resource vs latest deployment snapshot vs the repository's dockyard.yml)
    config_key: str | None = None
    config_exposure: Literal["build-time", "runtime"] | None = None
    config_kind: str | None = None
    config_scope: Literal["resource", "defaults"] | None = None
    config_source: Literal["resource", "entry-profile", "defaults"] | None = None
    comparison: Literal["resource-vs-deployment-snapshot", "resource-vs-entry-profile"] | None = None
    resource_value: ConfigValueOut | None = None
    entry_profile_value: ConfigValueOut | None = None
    deployment_snapshot_value: ConfigValueOut | None = None
    latest_deployment_id: str | None = None
    config_pointer: str | None = None
    suggested_command: str | None = None
    blocks_deployment_admission: bool = False


class RuntimeView(CamelModel):
    """What runs now (Dockyard extension to the seed's show view)."""

    state: Literal["running", "starting", "crashed", "stopped", "unknown"]
    deployment_id: str | None
    pid: int | None
    restarts: int
    last_exit_code: int | None
    url: str | None

    @classmethod
    def of(cls, status: dict[str, Any] | None) -> "RuntimeView":
        active = (status or {}).get("active") or {}
        return cls(
            state=active.get("state", "unknown") if status else "stopped",
            deployment_id=active.get("deploymentId"),
            pid=active.get("pid"),
            restarts=active.get("restarts", 0),
            last_exit_code=active.get("lastExitCode"),
            url=f"http://127.0.0.1:{status['frontPort']}/" if status else None,
        )


class AutoDeployPolicy(CamelModel):
    """Dockyard has no auto-deploy yet: every resource reads `disabled`, with nothing configured."""

    status: Literal["enabled", "disabled", "blocked"] = "disabled"
    trigger_kind: Literal["git-push", "generic-signed-webhook"] | None = None
    refs: list[str] = Field(default_factory=list)
    event_kinds: list[str] = Field(default_factory=list)
    source_binding_fingerprint: str | None = None
    blocked_reason: str | None = None
    generic_webhook_secret_ref: str | None = None
    dedupe_window_seconds: int | None = None
    updated_at: str | None = None


class StorageAttachment(CamelModel):
    """A volume mounted into the resource; Dockyard has no storage volumes yet, so the list is empty."""

    id: str
    storage_volume_id: str
    storage_volume_name: str
    storage_volume_kind: Literal["named-volume", "bind-mount"]
    destination_path: str
    mount_mode: Literal["read-write", "read-only"]
    attached_at: str


class ResourceShow(CamelModel):
    schema_version: str = "resources.show/v1"
    resource: ResourceCore
    source: SourceProfile | None
    auto_deploy_policy: AutoDeployPolicy = Field(default_factory=AutoDeployPolicy)
    runtime_profile: RuntimeProfile
    network_profile: NetworkProfile
    access_profile: AccessProfile
    health_policy: HealthCheck
    storage_attachments: list[StorageAttachment] = Field(default_factory=list)
    access_summary: AccessSummary | None
    latest_deployment: LatestDeployment | None = None
    lifecycle: Lifecycle
    diagnostics: list[DiagnosticOut] | None
    runtime: RuntimeView | None = None
    generated_at: str


class ResourceFilter(CamelModel):
    project_id: ProjectId | None = None
    environment_id: EnvironmentId | None = None
    include_preview_resources: StrictBool = False


class ResourcePage(PageQuery, ResourceFilter):
    pass


class ResourceRef(CamelModel):
    resource_id: ResourceId


class ShowResource(ResourceRef):
    include_latest_deployment: StrictBool = True
    include_access_summary: StrictBool = True
    include_profile_diagnostics: StrictBool = False


class CreateResource(CamelModel):
    project_id: ProjectId
    environment_id: EnvironmentId
    name: Name
    kind: ResourceKind = "application"
    description: Reason | None = None
    destination_id: Annotated[str, StringConstraints(max_length=40)] | None = None
    services: Services | None = None
    source: SourceProfile | None = None
    runtime_profile: RuntimeProfile | None = None
    network_profile: NetworkProfile | None = None


class ArchiveResource(ResourceRef):
    reason: Reason | None = None


class ResourceConfirmation(CamelModel):
    resource_slug: str = Field(description="The resource's slug, typed again to confirm the deletion.")


class DeleteResource(ResourceRef):
    confirmation: ResourceConfirmation


class ConfigureSource(ResourceRef):
    source: SourceProfile
    idempotency_key: Annotated[str, StringConstraints(max_length=200)] | None = None


class ConfigureRuntime(ResourceRef):
    runtime_profile: RuntimeProfile


class ConfigureNetwork(ResourceRef):
    network_profile: NetworkProfile


class ConfigureHealth(ResourceRef):
    health_check: HealthCheckChange


class ConfigureAccess(ResourceRef):
    access_profile: AccessProfileChange
