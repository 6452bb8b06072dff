"""Deployments: create (and stream) an attempt, read it back, its logs and its timeline of events.

Create records the attempt and a work item in one transaction and returns; the worker embedded in
`dockyard serve` runs it. At most one attempt per resource is active: a new one asks the older ones
to stop (`cancel-requested`), and their executions end them `canceled`.
"""

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import undefer

from dockyard.domain import lifecycle, variables
from dockyard.domain.deployment import ACTIVE
from dockyard.domain.errors import Invalid
from dockyard.domain.ids import new_id
from dockyard.operations.catalog import operation
from dockyard.operations.common import CountOut, IdOut
from dockyard.operations.context import Context
from dockyard.operations.deployments.feed import follow, log_line, make_cursor, parse_cursor, read_after
from dockyard.operations.deployments.models import (
    CreateDeployment,
    DeploymentFilter,
    DeploymentList,
    DeploymentListItem,
    DeploymentLogs,
    DeploymentOut,
    DeploymentPage,
    DeploymentRef,
    DeploymentShow,
    DeploymentSnapshot,
    DestinationRef,
    Envelope,
    EnvironmentRef,
    EventsOut,
    EventsQuery,
    ProjectRef,
    RecoverySummary,
    RelatedContext,
    ResourceRef,
    ServerRef,
    ShowDeployment,
    StatusView,
    Timeline,
)
from dockyard.operations.deployments.plan_models import (
    EnvironmentSnapshot,
    RuntimePlan,
    no_bindings,
)
from dockyard.operations.deployments.readiness import readiness
from dockyard.operations.environments.handlers import load as load_environment
from dockyard.operations.projects.handlers import load as load_project
from dockyard.operations.resources.handlers import load as load_resource
from dockyard.operations.servers.handlers import load as load_server
from dockyard.operations.variables import store as variable_store
from dockyard.store import queries
from dockyard.store.tables import (
    Deployment,
    DeploymentEvent,
    DeploymentLog,
    Environment,
    Project,
    Resource,
    Server,
    WorkItem,
)
from dockyard.work import queue

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)


def load(ctx: Context, deployment_id: str) -> Deployment:
    return queries.get_or_404(ctx.session, Deployment, deployment_id, "deployment")


def recorded(model: type[M], doc: dict | None, deployment_id: str) -> M | None:
    """A document recorded on the deployment, as its model reads it; one of a shape the model does not
    know (recorded by an older Dockyard) reads as null, so it never makes the deployment unreadable."""
    if not doc:
        return None
    try:
        return model.model_validate(doc)
    except ValidationError:
        log.warning(
            "deployment %s: its recorded %s has an older shape; shown as null", deployment_id, model.__name__
        )
        return None


def out(row: Deployment) -> DeploymentOut:
    return DeploymentOut(
        id=row.id,
        project_id=row.project_id,
        environment_id=row.environment_id,
        resource_id=row.resource_id,
        server_id=row.server_id,
        destination_id=row.destination_id,
        status=row.status,  # type: ignore[arg-type]
        trigger_kind=row.trigger_kind,
        source_deployment_id=row.source_deployment_id,
        rollback_candidate_deployment_id=row.source_deployment_id if row.trigger_kind == "rollback" else None,
        source_commit_sha=((row.source_snapshot or {}).get("source") or {}).get("commitSha"),
        runtime_plan=recorded(RuntimePlan, row.runtime_plan, row.id),
        environment_snapshot=recorded(EnvironmentSnapshot, row.environment_snapshot, row.id),
        log_count=row.log_count,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        archived_at=row.archived_at,
        rollback_of_deployment_id=row.rollback_of_deployment_id,
        url=_url(row),
        failure=row.failure,
    )


def _url(row: Deployment) -> str | None:
    """Where a succeeded deployment answers: its routed URL behind the edge, else its direct one."""
    state = row.runtime_state or {}
    return (state.get("routedUrl") or state.get("url")) if row.status == "succeeded" else None


def _where(inp: DeploymentFilter | DeploymentPage) -> list:
    where = []
    if inp.project_id:
        where.append(Deployment.project_id == inp.project_id)
    if inp.resource_id:
        where.append(Deployment.resource_id == inp.resource_id)
    if not inp.include_archived:
        where.append(Deployment.archived_at.is_(None))
    if isinstance(inp, DeploymentFilter):
        if inp.status:
            where.append(Deployment.status == inp.status)
        if inp.statuses is not None:
            where.append(Deployment.status.in_(inp.statuses))
    return where


@operation("deployments.count", "GET", "/deployments/count")
def count_deployments(ctx: Context, inp: DeploymentFilter) -> CountOut:
    """Count deployment attempts, optionally of one project or resource, in one or several statuses."""
    return CountOut(count=queries.count(ctx.session, Deployment, *_where(inp)))


@operation("deployments.list", "GET", "/deployments")
def list_deployments(ctx: Context, inp: DeploymentPage) -> DeploymentList:
    """List deployment attempts, newest first."""
    stmt = select(Deployment).options(undefer(Deployment.environment_snapshot)).where(*_where(inp))
    rows, cursor = queries.keyset_page(ctx.session, stmt, Deployment.id, inp.limit, inp.cursor)
    return DeploymentList(items=[DeploymentListItem(**out(r).model_dump()) for r in rows], next_cursor=cursor)


def _check_context(ctx: Context, inp: CreateDeployment) -> Resource:
    """The ids must name one coherent, writable context; a mismatch is named field by field."""
    project = load_project(ctx, inp.project_id)
    lifecycle.ensure_project_active(project.lifecycle_status, project.id)
    env = load_environment(ctx, inp.environment_id)
    resource = load_resource(ctx, inp.resource_id)
    server = load_server(ctx, inp.server_id)
    errors = []
    if env.project_id != project.id:
        errors.append(("environmentId", f"environment {env.id} belongs to another project"))
    if resource.environment_id != env.id:
        errors.append(("resourceId", f"resource {resource.id} belongs to another environment"))
    if errors:
        raise Invalid(
            "; ".join(m for _, m in errors) + ".",
            code="deployment_context_mismatch",
            details={"errors": [{"field": f, "message": m} for f, m in errors]},
            next_action="Pass the project, environment and resource ids that belong together.",
        )
    lifecycle.ensure_environment_writable(env.lifecycle_status, env.id)
    lifecycle.ensure_resource_active(resource.lifecycle_status, resource.id)
    lifecycle.ensure_server_active(server.lifecycle_status, server.id)
    if not resource.source:
        raise Invalid(
            f"Resource {resource.id} has no source to deploy.",
            code="resource_source_missing",
            next_action=f"Set one: dockyard resources source {resource.id} --source '{{...}}'",
        )
    return resource


def _record_event(ctx: Context, deployment_id: str, event_type: str, status: str, summary: str) -> None:
    ctx.session.add(
        DeploymentEvent(
            deployment_id=deployment_id,
            sequence=1,
            emitted_at=ctx.now,
            event_type=event_type,
            phase=None,
            status=status,
            retriable=False,
            summary=summary,
        )
    )


def _supersede(ctx: Context, resource_id: str, by: str) -> None:
    """Ask every active attempt of the resource to stop; its execution ends it `canceled`."""
    for older in ctx.session.scalars(
        select(Deployment).where(
            Deployment.resource_id == resource_id, Deployment.status.in_(ACTIVE - {"cancel-requested"})
        )
    ):
        older.status = "cancel-requested"
        older.failure = {
            "phase": None,
            "code": "superseded",
            "message": f"superseded by deployment {by}",
            "nextAction": f"Follow the newer deployment: dockyard deployments logs {by} --follow",
        }


@dataclass(frozen=True)
class Trigger:
    """Why an attempt is made: a plain create, or a recovery (retry, redeploy, rollback) of another."""

    kind: str = "create"
    operation_key: str = "deployments.create"
    source: Deployment | None = None  # a retry's or a rollback's origin: its snapshot is reused
    rollback_of: str | None = None
    artifact: dict[str, Any] | None = None  # what a rollback starts again
    retry_of: WorkItem | None = None


def create(ctx: Context, inp: CreateDeployment, trigger: Trigger = Trigger()) -> str:
    resource = _check_context(ctx, inp)
    deployment_id = new_id("deployment")
    _supersede(ctx, resource.id, deployment_id)
    source = trigger.source
    ctx.session.add(
        Deployment(
            id=deployment_id,
            project_id=inp.project_id,
            environment_id=inp.environment_id,
            resource_id=inp.resource_id,
            server_id=inp.server_id,
            destination_id=resource.destination_id,
            status="created",
            trigger_kind=trigger.kind,
            source_deployment_id=source.id if source else None,
            rollback_of_deployment_id=trigger.rollback_of,
            source_snapshot=source.source_snapshot
            if source
            else {
                "source": resource.source,
                "runtimeProfile": resource.runtime_profile,
                "networkProfile": resource.network_profile,
                "healthPolicy": resource.health_policy,
            },
            # a retry or a rollback runs with its origin's configuration; anything else with today's
            environment_snapshot=source.environment_snapshot
            if source is not None and source.environment_snapshot
            else variables.snapshot(
                variable_store.resource_entries(ctx.session, resource),
                new_id("environment_snapshot"),
                resource.environment_id,
                ctx.now,
            ),
            runtime_plan=source.runtime_plan if source and trigger.artifact else None,
            runtime_state={"artifact": trigger.artifact} if trigger.artifact else None,
            log_count=0,
            created_at=ctx.now,
        )
    )
    ctx.session.flush()
    summary = f"{trigger.kind} of {source.id} requested" if source else f"{trigger.kind} requested"
    _record_event(ctx, deployment_id, "deployment-requested", "created", summary)
    queue.enqueue(
        ctx.session,
        "deployment",
        deployment_id,
        ctx.now,
        operation_key=trigger.operation_key,
        retry_of=trigger.retry_of,
        project_id=inp.project_id,
        resource_id=inp.resource_id,
        deployment_id=deployment_id,
        server_id=inp.server_id,
    )
    if ctx.services is not None:
        ctx.after_commit.append(ctx.services.wake_worker)
    return deployment_id


@operation("deployments.create", "POST", "/deployments", status_code=201)
def create_deployment(ctx: Context, inp: CreateDeployment) -> IdOut:
    """Deploy a resource on a server: returns at once with the new deployment's id."""
    return IdOut(id=create(ctx, inp))


@operation("deployments.stream", "POST", "/deployments/stream", stream=True)
def stream_deployment(ctx: Context, inp: CreateDeployment) -> Iterator[Envelope]:
    """Deploy a resource and stream its timeline until it ends."""
    deployment_id = create(ctx, inp)
    return follow(ctx.svc.db, deployment_id, None)


@operation("deployments.show", "GET", "/deployments/{deploymentId}")
def show_deployment(ctx: Context, inp: ShowDeployment) -> DeploymentShow:
    """Show a deployment: status, timeline summary, latest failure and what to do next."""
    row = load(ctx, inp.deployment_id)
    latest_failure = None
    if inp.include_latest_failure:
        failed = ctx.session.scalars(
            select(DeploymentLog)
            .where(DeploymentLog.deployment_id == row.id, DeploymentLog.level == "error")
            .order_by(DeploymentLog.sequence.desc())
            .limit(1)
        ).first()
        latest_failure = log_line(failed) if failed else None
    related = related_context(ctx, row) if inp.include_related_context else None
    times = {"created_at": row.created_at, "started_at": row.started_at, "finished_at": row.finished_at}
    deployed = out(row)
    return DeploymentShow(
        deployment=deployed,
        status=StatusView(
            current=row.status,  # type: ignore[arg-type]
            rollback_of_deployment_id=row.rollback_of_deployment_id,
            **times,
        ),
        related_context=related,
        snapshot=snapshot(deployed, row) if inp.include_snapshot else None,
        timeline=Timeline(**times, log_count=row.log_count) if inp.include_timeline else None,
        latest_failure=latest_failure,
        recovery_summary=recovery_summary(ctx, row) if inp.include_recovery_summary else None,
        next_actions=_next_actions(row),
        generated_at=ctx.now,
    )


def snapshot(deployed: DeploymentOut, row: Deployment) -> DeploymentSnapshot:
    """The show view's snapshot: the recorded plan and variables, and the source it was created from."""
    return DeploymentSnapshot.model_validate(
        {
            **(row.source_snapshot or {}),
            "runtimePlan": deployed.runtime_plan,
            "environmentSnapshot": deployed.environment_snapshot,
            "dependencyBindings": no_bindings(),
        }
    )


def related_context(ctx: Context, row: Deployment) -> RelatedContext:
    """What the deployment belongs to and ran on, read by id (a deleted one reads as null)."""

    def ref(model: type[M], table: type, key: str | None) -> M | None:
        found = ctx.session.get(table, key) if key else None
        return model.model_validate(found, from_attributes=True) if found is not None else None

    return RelatedContext(
        project=ref(ProjectRef, Project, row.project_id),
        environment=ref(EnvironmentRef, Environment, row.environment_id),
        resource=ref(ResourceRef, Resource, row.resource_id),
        server=ref(ServerRef, Server, row.server_id),
        destination=DestinationRef(id=row.destination_id) if row.destination_id else None,
    )


def recovery_summary(ctx: Context, row: Deployment) -> RecoverySummary:
    ready = readiness(ctx, row, max_candidates=20)
    return RecoverySummary(
        retryable=ready.retryable,
        redeployable=ready.redeployable,
        rollback_ready=ready.rollback_ready,
        rollback_candidate_count=ready.rollback_candidate_count,
        blocked_reason_codes=sorted(
            {
                r.code
                for part in (ready.retry, ready.redeploy, ready.rollback)
                for r in part.reasons
                if r.category == "blocked"
            }
        ),
    )


def _next_actions(row: Deployment) -> list[str]:
    if row.status in ACTIVE:
        return [f"dockyard deployments logs {row.id} --follow"]
    if row.status in ("failed", "rolled-back"):
        fix = (row.failure or {}).get("nextAction")
        return [a for a in (fix, f"dockyard deployments logs {row.id}") if a]
    return []


@operation(
    "deployments.logs", "GET", "/deployments/{deploymentId}/logs", follow_with="deployments.events-stream"
)
def deployment_logs(ctx: Context, inp: DeploymentRef) -> DeploymentLogs:
    """Read a deployment's log lines (detect, install, build, app output, verification)."""
    row = load(ctx, inp.deployment_id)
    lines = ctx.session.scalars(
        select(DeploymentLog).where(DeploymentLog.deployment_id == row.id).order_by(DeploymentLog.sequence)
    )
    return DeploymentLogs(deployment_id=row.id, logs=[log_line(line) for line in lines])


@operation("deployments.events", "GET", "/deployments/{deploymentId}/events")
def deployment_events(ctx: Context, inp: EventsQuery) -> EventsOut:
    """Read a deployment's timeline (state changes and log lines) after a cursor."""
    row = load(ctx, inp.deployment_id)
    if inp.follow:
        raise Invalid(
            "follow=true streams; this operation returns one page.",
            code="use_events_stream",
            next_action=f"GET /api/deployments/{row.id}/events/stream",
        )
    event_seq, log_seq = parse_cursor(inp.cursor)
    if not inp.include_history:
        _, event_seq, log_seq, _ = read_after(ctx.svc.db, row.id, event_seq, log_seq, 100_000)
        return EventsOut(deployment_id=row.id, envelopes=[], cursor=make_cursor(event_seq, log_seq))
    envelopes, event_seq, log_seq, _ = read_after(ctx.svc.db, row.id, event_seq, log_seq, inp.history_limit)
    return EventsOut(deployment_id=row.id, envelopes=envelopes, cursor=make_cursor(event_seq, log_seq))


@operation("deployments.events-stream", "GET", "/deployments/{deploymentId}/events/stream", stream=True)
def stream_events(ctx: Context, inp: EventsQuery) -> Iterator[Envelope]:
    """Follow a deployment's timeline live (server-sent events) until it ends."""
    row = load(ctx, inp.deployment_id)
    return follow(ctx.svc.db, row.id, inp.cursor, inp.until_terminal, inp.include_history)
