"""Wire models of resource health (`resources.health/v1`, its history) and runtime monitoring
(`runtime-monitoring.samples.list/v1`, `runtime-monitoring.rollup/v1`)."""

from typing import Literal

from pydantic import AwareDatetime, Field, StrictBool, model_validator

from dockyard.domain.model import CamelModel
from dockyard.operations.common import (
    DeploymentId,
    EnvironmentId,
    JsonQuery,
    Limit,
    ProjectId,
    ResourceId,
    ServerId,
    fold_object,
)
from dockyard.operations.resources.access_models import AccessFailure
from dockyard.operations.resources.control_models import RuntimeControlAttempt
from dockyard.operations.resources.route_intent import RouteIntentStatus

Overall = Literal["healthy", "degraded", "unhealthy", "stopped", "not-deployed", "unknown"]


class LastError(CamelModel):
    timestamp: str | None
    phase: str | None
    message: str


# The resource's newest attempt as health reports it (with its last error). A name of its own (no
# docstring: it would become the schema's description) so the OpenAPI component is not named after
# the module path, as it was while two models shared the name LatestDeployment.
class HealthLatestDeployment(CamelModel):
    id: str
    status: str
    created_at: str
    started_at: str | None
    finished_at: str | None
    server_id: str
    destination_id: str | None
    last_error: LastError | None = None


class RuntimeHealth(CamelModel):
    lifecycle: Literal["not-deployed", "starting", "running", "restarting", "stopped", "unknown"]
    health: Literal["healthy", "unhealthy", "unknown", "not-checked"]
    observed_at: str
    runtime_kind: str | None = None
    reason_code: str | None = None
    message: str | None = None
    restarts: int = 0
    deployment_id: str | None = None


class HealthPolicyView(CamelModel):
    status: Literal["configured", "default", "disabled"]
    enabled: bool
    type: str
    path: str | None = None
    port: int | None = None
    expected_status_code: int | None = None
    interval_seconds: int
    timeout_seconds: int
    retries: int
    start_period_seconds: int
    reason_code: str | None = None


class PublicAccess(CamelModel):
    status: Literal["ready", "not-ready", "not-configured"]
    url: str | None = None
    kind: Literal["durable-domain", "generated", "direct", "none"] = Field(
        default="none",
        description="durable-domain: a verified custom domain; generated: the generated hostname; "
        "direct: the app's own port, no edge; none: no URL yet.",
    )
    reason_code: str | None = None
    phase: str | None = Field(default=None, description="Where access stops (ready when nothing does).")
    route_intent_status: RouteIntentStatus | None = None
    latest_access_failure: AccessFailure | None = None


class ProxyView(CamelModel):
    status: Literal["ready", "not-configured", "failed", "pending"]
    provider_key: str | None = None
    last_route_realization_deployment_id: str | None = None
    reason_code: str | None = None


class Check(CamelModel):
    name: str
    target: Literal["runtime", "health-check"]
    status: Literal["passed", "failed", "skipped"]
    observed_at: str
    duration_ms: int | None = None
    status_code: int | None = None
    exit_code: int | None = None  # Dockyard runs no command checks: always null
    message: str | None = None
    reason_code: str | None = None
    phase: str | None = None
    retriable: bool = False
    metadata: dict[str, str] = Field(default_factory=dict)


class SourceError(CamelModel):
    source: str
    code: str
    category: str | None = None
    phase: str | None = None
    retriable: bool = True
    related_entity_id: str | None = None
    related_state: str | None = None
    message: str


class ResourceHealth(CamelModel):
    schema_version: str = "resources.health/v1"
    resource_id: str
    generated_at: str
    observed_at: str
    overall: Overall
    latest_deployment: HealthLatestDeployment | None
    runtime: RuntimeHealth
    latest_runtime_control: RuntimeControlAttempt | None = None
    health_policy: HealthPolicyView
    public_access: PublicAccess
    proxy: ProxyView
    checks: list[Check] = Field(default_factory=list)
    source_errors: list[SourceError] = Field(default_factory=list)


class HealthQuery(CamelModel):
    resource_id: ResourceId
    mode: Literal["cached", "live"] = "cached"
    include_checks: StrictBool = True
    include_runtime_probe: StrictBool = Field(
        default=False,
        description="true: probe the runtime now (runner state, the health check through the live "
        "port), as mode=live does, instead of the monitor's latest observation.",
    )
    include_public_access_probe: StrictBool = Field(
        default=False,
        description="true: send one GET through the public route now (the edge, with the route's Host) "
        "and ask the runner which deployment it routes to; a failure is kept 24 hours as "
        "publicAccess.latestAccessFailure (look it up by its requestId).",
    )


class Window(CamelModel):
    window_from: AwareDatetime | None = Field(default=None, alias="window.from")
    window_to: AwareDatetime | None = Field(default=None, alias="window.to")


class HistoryQuery(Window):
    resource_id: ResourceId
    limit: Limit = 200  # every list here is 1..500 (the seed allows up to 720)


class Observation(CamelModel):
    observation_id: str
    observed_at: str
    overall: Overall
    runtime_lifecycle: str
    runtime_health: str
    public_access_status: str | None
    proxy_status: str | None
    health_policy_status: str | None
    latest_deployment_id: str | None
    summary: ResourceHealth


class HealthHistory(CamelModel):
    schema_version: str = "resources.health-history/v1"
    resource_id: str
    from_: str | None = Field(alias="from")
    to: str | None
    generated_at: str
    observations: list[Observation]
    source_errors: list[SourceError] = Field(default_factory=list)


# -- runtime monitoring -----------------------------------------------------------------------------

ScopeKind = Literal["server", "project", "environment", "resource", "deployment"]


Signal = Literal["cpu", "memory", "disk", "inode", "docker", "network"]
COLLECTED: tuple[Signal, ...] = ("cpu", "memory", "disk", "inode", "network")  # not docker (yet)


class ScopeIn(CamelModel):
    """The scope as one object (`?scope={"kind":"resource","resourceId":"res_…"}`)."""

    kind: ScopeKind | None = None
    server_id: ServerId | None = None
    project_id: ProjectId | None = None
    environment_id: EnvironmentId | None = None
    resource_id: ResourceId | None = None
    deployment_id: DeploymentId | None = None


class MonitoringQuery(Window):
    scope: JsonQuery(ScopeIn) = Field(  # type: ignore[valid-type]
        default=None,
        description="The scope as one JSON object; the same as the scope.* parameters (both, "
        "differing, are refused).",
    )
    scope_kind: ScopeKind | None = Field(default=None, alias="scope.kind")
    scope_server_id: ServerId | None = Field(default=None, alias="scope.serverId")
    scope_project_id: ProjectId | None = Field(default=None, alias="scope.projectId")
    scope_environment_id: EnvironmentId | None = Field(default=None, alias="scope.environmentId")
    scope_resource_id: ResourceId | None = Field(default=None, alias="scope.resourceId")
    scope_deployment_id: DeploymentId | None = Field(default=None, alias="scope.deploymentId")
    signals: list[Signal] | None = Field(
        default=None,
        max_length=6,
        description="Only these signals (repeat the parameter). Dockyard samples cpu and memory; "
        "another signal asked for is named in warnings (signal-not-collected).",
    )

    @model_validator(mode="after")
    def _one_scope(self) -> "MonitoringQuery":
        return fold_object(self, "scope", "scope.{}")  # type: ignore[no-any-return]

    def wants(self, signal: Signal) -> bool:
        return self.signals is None or signal in self.signals


class SamplesQuery(MonitoringQuery):
    limit: Limit = 300


class RollupQuery(MonitoringQuery):
    bucket: Literal["minute", "five-minute", "hour"]
    include_deployment_markers: StrictBool = True
    include_top_contributors: StrictBool = True


class Cpu(CamelModel):
    logical_cores: int | None = None
    load_average_1m: float | None = Field(default=None, alias="loadAverage1m")
    load_average_5m: float | None = Field(default=None, alias="loadAverage5m")
    load_average_15m: float | None = Field(default=None, alias="loadAverage15m")
    container_cpu_percent: float | None = None


class Memory(CamelModel):
    """The machine's memory, and what the scope's instances used (containerUsedBytes)."""

    total_bytes: int | None = None
    used_bytes: int | None = None
    available_bytes: int | None = None
    container_used_bytes: int | None = None


class Disk(CamelModel):
    """The filesystem holding the data dir (workspaces, images' build folders, logs)."""

    total_bytes: int | None = None
    used_bytes: int | None = None
    available_bytes: int | None = None
    attributed_bytes: int | None = None  # not measured yet


class Inode(CamelModel):
    total: int | None = None
    used: int | None = None
    available: int | None = None


class Network(CamelModel):
    """The machine's interfaces but loopback: bytes since boot, at the newest sample."""

    rx_bytes: int | None = None
    tx_bytes: int | None = None


class Docker(CamelModel):
    """What the container engine holds on the machine; not sampled yet (always null, with a warning)."""

    image_bytes: int | None = None
    build_cache_bytes: int | None = None
    container_writable_bytes: int | None = None


class Totals(CamelModel):
    cpu: Cpu | None = None  # None: not among the signals asked for
    memory: Memory | None = None
    disk: Disk | None = None
    inode: Inode | None = None
    docker: Docker | None = None
    network: Network | None = None


class Retention(CamelModel):
    raw_retention_hours: int
    retained_from: str | None
    retained_to: str | None


class Warning_(CamelModel):
    code: str
    message: str
    signal: str | None = None
    scope: dict[str, str] | None = Field(default=None, description="The scope the warning is about.")


class ScopeEvidence(CamelModel):
    scope: dict[str, str]
    server_id: str | None
    project_id: str
    environment_id: str
    resource_id: str
    deployment_id: str | None


class Sample(CamelModel):
    sample_id: str
    observed_at: str
    collected_at: str
    scope_evidence: ScopeEvidence
    totals: Totals
    freshness: Literal["live", "recent", "stale"]
    partial: bool
    labels: dict[str, str]
    restarts: int
    warnings: list[Warning_] = Field(default_factory=list, description="Readings this sample lacks.")
    source_errors: list[SourceError] = Field(default_factory=list)


class SamplesOut(CamelModel):
    schema_version: str = "runtime-monitoring.samples.list/v1"
    scope: dict[str, str]
    from_: str | None = Field(alias="from")
    to: str | None
    generated_at: str
    freshness: Literal["live", "recent", "stale", "empty"]
    partial: bool
    retention: Retention
    samples: list[Sample]
    warnings: list[Warning_] = Field(default_factory=list)
    source_errors: list[SourceError] = Field(default_factory=list)


class Point(CamelModel):
    from_: str = Field(alias="from")
    to: str
    sample_count: int
    totals: Totals


class Series(CamelModel):
    signal: Signal
    points: list[Point]


class Contributor(CamelModel):
    scope: dict[str, str]
    totals: Totals
    sample_count: int


class Marker(CamelModel):
    deployment_id: str
    resource_id: str
    environment_id: str
    observed_at: str
    status: str
    label: str
    correlation: Literal["time"] = "time"


class RollupOut(CamelModel):
    schema_version: str = "runtime-monitoring.rollup/v1"
    scope: dict[str, str]
    from_: str | None = Field(alias="from")
    to: str | None
    bucket: str
    generated_at: str
    freshness: Literal["live", "recent", "stale", "empty"]
    partial: bool
    retention: Retention
    series: list[Series]
    totals: Totals
    top_contributors: list[Contributor]
    deployment_markers: list[Marker]
    warnings: list[Warning_] = Field(default_factory=list)
    source_errors: list[SourceError] = Field(default_factory=list)
