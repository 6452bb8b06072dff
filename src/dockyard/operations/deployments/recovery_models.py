"""Wire models of deployment recovery: retry, redeploy, rollback, cancel, archive, prune, readiness."""

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StrictBool, StringConstraints

from dockyard.domain.model import CamelModel
from dockyard.operations.common import DeploymentId, ResourceId, ServerId
from dockyard.operations.deployments.models import DeploymentRef
from dockyard.operations.resources.models import DeploymentStatus

Confirm = Annotated[str, StringConstraints(min_length=1, max_length=80)]


class RedeployResource(CamelModel):
    resource_id: ResourceId
    server_id: ServerId | None = Field(
        default=None, description="Default: the server of the resource's latest deployment, else `local`."
    )


class RollbackDeployment(DeploymentRef):
    rollback_candidate_deployment_id: DeploymentId | None = Field(
        default=None,
        description="The earlier successful deployment to serve again; default: the recommended one.",
    )


class ConfirmedDeployment(DeploymentRef):
    confirm: Confirm = Field(description="The deployment id again, to confirm.")


class CanceledOut(CamelModel):
    id: str
    status: Literal["canceled", "cancel-requested"]
    canceled_at: str


class ArchivedOut(CamelModel):
    id: str
    archived_at: str


class PruneDeployments(CamelModel):
    before: AwareDatetime
    deployment_id: DeploymentId | None = None
    resource_id: ResourceId | None = None
    server_id: ServerId | None = None
    dry_run: StrictBool = Field(default=True, description="Only count what would go (the default).")


class PruneResult(CamelModel):
    before: str
    deployment_id: str | None
    resource_id: str | None
    server_id: str | None
    dry_run: bool
    matched_count: int
    pruned_count: int
    pruned_at: str | None


class PruneOut(PruneResult):
    schema_version: str = "deployments.prune/v1"
    guarded_count: int
    affected_deployment_ids: list[str]
    guarded_deployment_ids: list[str]


class LogsPruneOut(PruneResult):
    schema_version: str = "deployments.logs.prune/v1"
    affected_deployment_count: int


class ReadinessQuery(DeploymentRef):
    resource_id: ResourceId | None = None
    include_candidates: StrictBool = True
    max_candidates: Annotated[int, Field(ge=1, le=50)] = 10


class ReasonOut(CamelModel):
    code: str
    category: Literal["allowed", "blocked"]
    phase: str | None = None
    related_deployment_id: str | None = None
    related_entity_id: str | None = None
    related_entity_type: str | None = None
    retriable: bool = False
    recommendation: str | None = None


class ActionReadiness(CamelModel):
    allowed: bool
    command_active: bool = True
    reasons: list[ReasonOut]
    target_operation: str


class CandidateOut(CamelModel):
    deployment_id: str
    finished_at: str | None
    status: DeploymentStatus
    source_summary: str | None
    artifact_summary: str | None
    environment_snapshot_id: str | None = None
    runtime_target_summary: str | None
    rollback_ready: bool
    reasons: list[ReasonOut]


class RollbackReadiness(ActionReadiness):
    candidates: list[CandidateOut]
    recommended_candidate_id: str | None


class RecommendedAction(CamelModel):
    kind: Literal["query", "command"]
    target_operation: str
    label: str
    safe_by_default: bool
    blocked_reason_code: str | None = None
    command_active: bool = True


class RecoveryReadiness(CamelModel):
    schema_version: str = "deployments.recovery-readiness/v1"
    deployment_id: str
    resource_id: str
    generated_at: str
    state_version: str
    recoverable: bool
    retryable: bool
    redeployable: bool
    rollback_ready: bool
    rollback_candidate_count: int
    retry: ActionReadiness
    redeploy: ActionReadiness
    cancel: ActionReadiness
    rollback: RollbackReadiness
    recommended_actions: list[RecommendedAction]
