"""Wire models of the work ledger (`operator-work`): items, filters, and the operator's actions."""

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StrictBool, StringConstraints

from dockyard.domain.model import CamelModel
from dockyard.operations.common import DeploymentId, IdOf, Limit, Reason, ResourceId, ServerId

WorkId = IdOf("work")
WorkKind = Literal[
    "deployment",
    "proxy-bootstrap",
    "certificate",
    "remote-state",
    "route-realization",
    "runtime-maintenance",
    "system",
]
WorkStatus = Literal[
    "pending", "running", "retry-scheduled", "succeeded", "failed", "canceled", "dead-lettered", "unknown"
]
Prunable = Literal["succeeded", "failed", "canceled", "dead-lettered"]


class WorkItemOut(CamelModel):
    id: str
    kind: WorkKind
    status: WorkStatus
    operation_key: str | None
    phase: str | None
    step: str | None
    project_id: str | None
    resource_id: str | None
    deployment_id: str | None
    server_id: str | None
    domain_binding_id: str | None
    certificate_id: str | None
    started_at: str | None
    updated_at: str
    finished_at: str | None
    error_code: str | None
    error_category: str | None
    retriable: bool
    next_actions: list[str]
    safe_details: dict[str, str]
    attempts: int = Field(description="How many times a worker took it up.")
    retry_of_work_id: str | None = Field(default=None, description="The item this one retries (lineage).")
    retried_by_work_ids: list[str] = Field(default_factory=list, description="Items that retried this one.")
    created_at: str


class WorkQuery(CamelModel):
    kind: WorkKind | None = None
    status: WorkStatus | None = None
    resource_id: ResourceId | None = None
    server_id: ServerId | None = None
    deployment_id: DeploymentId | None = None
    limit: Limit = 50
    cursor: Annotated[str, StringConstraints(max_length=60)] | None = None


class WorkList(CamelModel):
    schema_version: str = "operator-work.list/v1"
    items: list[WorkItemOut]
    next_cursor: str | None = None
    generated_at: str


class WorkRef(CamelModel):
    work_id: WorkId


class WorkShow(CamelModel):
    schema_version: str = "operator-work.show/v1"
    item: WorkItemOut
    generated_at: str


class WorkWithReason(WorkRef):
    reason: Reason | None = None


class Recovered(CamelModel):
    work_id: str
    status: Literal["succeeded"]
    recovered_at: str


class DeadLettered(CamelModel):
    work_id: str
    status: Literal["dead-lettered"]
    dead_lettered_at: str


class WorkCanceled(CamelModel):
    work_id: str
    status: Literal["canceled"]
    canceled_at: str


class Retried(CamelModel):
    work_id: str = Field(description="The new item.")
    status: Literal["pending"]
    retry_of_work_id: str
    retried_at: str


class PruneWork(CamelModel):
    before: AwareDatetime
    statuses: list[Prunable] = Field(
        default_factory=lambda: ["succeeded", "failed", "canceled", "dead-lettered"]
    )
    dry_run: StrictBool = Field(default=True, description="Only count what would go (the default).")


class WorkPruned(CamelModel):
    pruned_count: int
    matched_count: int
    dry_run: bool
    before: str
    statuses: list[str]
    counts_by_status: dict[str, int]
    pruned_at: str | None
