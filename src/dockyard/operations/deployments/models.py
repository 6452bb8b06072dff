"""Wire models of deployments: summaries, the show view, logs, and stream-event envelopes."""

from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool, StringConstraints

from dockyard.domain.model import CamelModel
from dockyard.operations.common import DeploymentId, EnvironmentId, PageQuery, ProjectId, ResourceId, ServerId
from dockyard.operations.deployments.plan_models import (
    DependencyBindingReference,
    DependencyBindings,
    EnvironmentSnapshot,
    RuntimePlan,
)
from dockyard.operations.resources.models import DeploymentStatus


class LogLine(CamelModel):
    timestamp: str
    source: Literal["dockyard", "build", "application"]
    phase: str
    level: Literal["debug", "info", "warn", "error"]
    message: str
    masked: bool = Field(default=False, description="Whether a secret was hidden in this line (as ****).")


class DeploymentOut(CamelModel):
    id: str
    project_id: str
    environment_id: str
    resource_id: str
    server_id: str
    destination_id: str | None
    status: DeploymentStatus
    trigger_kind: str
    source_deployment_id: str | None
    rollback_candidate_deployment_id: str | None = None
    source_commit_sha: str | None = None
    runtime_plan: RuntimePlan | None
    environment_snapshot: EnvironmentSnapshot | None
    dependency_binding_references: list[DependencyBindingReference] = Field(
        default_factory=list, description="Dockyard has no dependency bindings yet: always empty."
    )
    log_count: int
    created_at: str
    started_at: str | None
    finished_at: str | None
    archived_at: str | None
    rollback_of_deployment_id: str | None
    url: str | None = Field(default=None, description="Where the deployment serves, once it succeeded.")
    failure: dict[str, Any] | None = None


class DeploymentListItem(DeploymentOut):
    logs: list[LogLine] = Field(default_factory=list)


class DeploymentList(CamelModel):
    items: list[DeploymentListItem]
    next_cursor: str | None = None


class StatusView(CamelModel):
    current: DeploymentStatus
    created_at: str
    started_at: str | None
    finished_at: str | None
    rollback_of_deployment_id: str | None


class Timeline(CamelModel):
    created_at: str
    started_at: str | None
    finished_at: str | None
    log_count: int


class ProjectRef(CamelModel):
    id: str
    name: str
    slug: str


class EnvironmentRef(CamelModel):
    id: str
    name: str
    kind: str


class ResourceRef(ProjectRef):
    kind: str


class ServerRef(CamelModel):
    id: str
    name: str
    host: str
    port: int
    provider_key: str


class DestinationRef(CamelModel):
    id: str


class RelatedContext(CamelModel):
    """The deployment's project, environment, resource, server and destination; null where deleted."""

    project: ProjectRef | None
    environment: EnvironmentRef | None
    resource: ResourceRef | None
    server: ServerRef | None
    destination: DestinationRef | None


class DeploymentSnapshot(CamelModel):
    """What the attempt was asked to run: its plan, variables, bindings and the resource's source/profiles."""

    runtime_plan: RuntimePlan | None
    environment_snapshot: EnvironmentSnapshot | None
    dependency_bindings: DependencyBindings
    source: dict[str, Any] | None = None
    runtime_profile: dict[str, Any] | None = None
    network_profile: dict[str, Any] | None = None
    health_policy: dict[str, Any] | None = None


class RecoverySummary(CamelModel):
    """What recovery the deployment allows, condensed from deployments.recovery-readiness."""

    source: Literal["deployments.recovery-readiness"] = "deployments.recovery-readiness"
    retryable: bool
    redeployable: bool
    rollback_ready: bool
    rollback_candidate_count: int
    blocked_reason_codes: list[str]


class SectionError(CamelModel):
    """A section of the show view that could not be read; the rest of the answer stands."""

    section: Literal["related-context", "snapshot", "timeline", "latest-failure", "recovery-summary"]
    code: str
    category: str
    phase: str
    retriable: bool
    related_entity_id: str | None = None
    related_state: str | None = None


class DeploymentShow(CamelModel):
    schema_version: str = "deployments.show/v1"
    deployment: DeploymentOut
    status: StatusView
    related_context: RelatedContext | None
    snapshot: DeploymentSnapshot | None
    timeline: Timeline | None
    latest_failure: LogLine | None
    recovery_summary: RecoverySummary | None = None
    next_actions: list[str]
    section_errors: list[SectionError] = Field(default_factory=list)
    generated_at: str


class DeploymentFilter(CamelModel):
    project_id: ProjectId | None = None
    resource_id: ResourceId | None = None
    include_archived: StrictBool = False
    status: DeploymentStatus | None = None
    statuses: list[DeploymentStatus] | None = Field(
        default=None,
        max_length=20,
        description="Count attempts in any of these statuses (repeat the parameter: "
        "`?statuses=running&statuses=planning`); with `status` too, both must hold.",
    )


class DeploymentPage(PageQuery):
    project_id: ProjectId | None = None
    resource_id: ResourceId | None = None
    include_archived: StrictBool = False


class DeploymentRef(CamelModel):
    deployment_id: DeploymentId


class ShowDeployment(DeploymentRef):
    include_timeline: StrictBool = True
    include_snapshot: StrictBool = False
    include_related_context: StrictBool = True
    include_latest_failure: StrictBool = True
    include_recovery_summary: StrictBool = False


class CreateDeployment(CamelModel):
    project_id: ProjectId
    server_id: ServerId
    environment_id: EnvironmentId
    resource_id: ResourceId


class PlanQuery(CreateDeployment):
    destination_id: Annotated[str, StringConstraints(max_length=40)] | None = None
    include_access_plan: StrictBool = True
    include_command_specs: StrictBool = True


class DeploymentLogs(CamelModel):
    deployment_id: str
    logs: list[LogLine]


class StreamEvent(CamelModel):
    deployment_id: str
    sequence: int
    cursor: str
    emitted_at: str
    source: Literal["domain-event", "progress"]
    event_type: str
    phase: str | None
    status: str
    retriable: bool
    summary: str


class Envelope(CamelModel):
    schema_version: str = "deployments.stream-events/v1"
    kind: Literal["event", "log", "heartbeat", "closed"]
    event: StreamEvent | None = None
    log: LogLine | None = None
    cursor: str | None = None


class EventsQuery(DeploymentRef):
    cursor: Annotated[str, StringConstraints(pattern=r"^e\d+\.l\d+$")] | None = None
    history_limit: Annotated[int, Field(ge=1, le=5000)] = 1000
    include_history: StrictBool = True
    follow: StrictBool = False
    until_terminal: StrictBool = True


class EventsOut(CamelModel):
    deployment_id: str
    envelopes: list[Envelope]
    cursor: str
