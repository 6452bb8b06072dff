"""Deployment recovery: retry an attempt from its snapshot, redeploy a resource's current profile,
roll back to an earlier successful deployment's retained artifact, cancel (confirmed by the id),
archive, prune archived attempts and old log lines (dry run by default), and say what is possible
now and why not (recovery-readiness). Every new attempt goes through `deployments.create`'s path:
it supersedes the resource's active attempt and is run by the worker.
"""

from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select

from dockyard.domain import recovery
from dockyard.domain.deployment import ACTIVE, TERMINAL
from dockyard.domain.errors import Invalid
from dockyard.operations.catalog import operation
from dockyard.operations.common import IdOut
from dockyard.operations.context import Context, iso
from dockyard.operations.deployments.handlers import Trigger, create, load
from dockyard.operations.deployments.models import CreateDeployment, DeploymentRef
from dockyard.operations.deployments.readiness import Readiness, attempt_of, candidates, live_of, readiness
from dockyard.operations.deployments.recovery_models import (
    ArchivedOut,
    CanceledOut,
    ConfirmedDeployment,
    LogsPruneOut,
    PruneDeployments,
    PruneOut,
    ReadinessQuery,
    RecommendedAction,
    RecoveryReadiness,
    RedeployResource,
    RollbackDeployment,
)
from dockyard.operations.deployments.rollups import newest
from dockyard.operations.resources.handlers import load as load_resource
from dockyard.pipeline.retention import artifact_of, kept
from dockyard.store.tables import Deployment, DeploymentLog, Server, WorkItem


def _ids(dep: Deployment) -> CreateDeployment:
    return CreateDeployment(
        project_id=dep.project_id,
        environment_id=dep.environment_id,
        resource_id=dep.resource_id,
        server_id=dep.server_id,
    )


def _work_of(ctx: Context, deployment_id: str) -> WorkItem | None:
    return ctx.session.scalars(
        select(WorkItem).where(WorkItem.deployment_id == deployment_id).order_by(WorkItem.id.desc()).limit(1)
    ).first()


@operation("deployments.recovery-readiness", "GET", "/deployments/{deploymentId}/recovery-readiness")
def recovery_readiness(ctx: Context, inp: ReadinessQuery) -> RecoveryReadiness:
    """What can be done about a deployment now — retry, redeploy, cancel, roll back — and why not."""
    dep = load(ctx, inp.deployment_id)
    if inp.resource_id and inp.resource_id != dep.resource_id:
        raise Invalid(
            f"Deployment {dep.id} belongs to resource {dep.resource_id}, not {inp.resource_id}.",
            code="deployment_context_mismatch",
            next_action="Leave resourceId out.",
        )
    ready = readiness(ctx, dep, inp.max_candidates)
    if not inp.include_candidates:
        ready = Readiness(
            ready.retry, ready.redeploy, ready.cancel, ready.rollback.model_copy(update={"candidates": []})
        )
    actions = [
        RecommendedAction(
            kind="query", target_operation="deployments.logs", label="Read its logs", safe_by_default=True
        )
    ]
    for part, label in ((ready.retry, "Retry"), (ready.rollback, "Roll back"), (ready.cancel, "Cancel")):
        blocked = next((r.code for r in part.reasons if r.category == "blocked"), None)
        actions.append(
            RecommendedAction(
                kind="command",
                target_operation=part.target_operation,
                label=label,
                safe_by_default=False,
                blocked_reason_code=blocked,
            )
        )
    return RecoveryReadiness(
        deployment_id=dep.id,
        resource_id=dep.resource_id,
        generated_at=ctx.now,
        state_version=f"{dep.status}:{dep.finished_at or dep.created_at}",
        recoverable=ready.retryable or ready.redeployable or ready.rollback_ready,
        retryable=ready.retryable,
        redeployable=ready.redeployable,
        rollback_ready=ready.rollback_ready,
        rollback_candidate_count=ready.rollback_candidate_count,
        retry=ready.retry,
        redeploy=ready.redeploy,
        cancel=ready.cancel,
        rollback=ready.rollback,
        recommended_actions=actions,
    )


def _ensure(ctx: Context, action: str, dep: Deployment, reasons: list[recovery.Reason]) -> None:
    load_resource(ctx, dep.resource_id)  # a deleted resource is a 404, not a conflict
    recovery.ensure(action, dep.id, reasons)


@operation("deployments.retry", "POST", "/deployments/{deploymentId}/retry", status_code=201)
def retry_deployment(ctx: Context, inp: DeploymentRef) -> IdOut:
    """Try a finished, unsuccessful attempt again from the same snapshot (a new attempt)."""
    dep = load(ctx, inp.deployment_id)
    _ensure(ctx, "retry", dep, recovery.retry(attempt_of(ctx, dep)))
    trigger = Trigger("retry", "deployments.retry", source=dep, retry_of=_work_of(ctx, dep.id))
    return IdOut(id=create(ctx, _ids(dep), trigger))


@operation("resources.redeploy", "POST", "/resources/{resourceId}/redeploy", status_code=201)
def redeploy_resource(ctx: Context, inp: RedeployResource) -> IdOut:
    """Deploy a resource again from its current profile (a new attempt)."""
    resource = load_resource(ctx, inp.resource_id)
    latest = newest(ctx.session, resource.id)
    server_id = inp.server_id or (latest.server_id if latest else None)
    if server_id is None:
        server_id = ctx.session.scalars(select(Server.id).where(Server.is_control_plane.is_(True))).one()
    ids = CreateDeployment(
        project_id=resource.project_id,
        environment_id=resource.environment_id,
        resource_id=resource.id,
        server_id=server_id,
    )
    return IdOut(id=create(ctx, ids, Trigger("redeploy", "resources.redeploy")))


@operation("deployments.rollback", "POST", "/deployments/{deploymentId}/rollback", status_code=201)
def rollback_deployment(ctx: Context, inp: RollbackDeployment) -> IdOut:
    """Serve an earlier successful deployment again from its retained artifact (a new attempt)."""
    dep = load(ctx, inp.deployment_id)
    attempt = attempt_of(ctx, dep)
    found = candidates(ctx, dep.resource_id, 50)
    _ensure(ctx, "rollback", dep, recovery.rollback(attempt, [c for _, c in found]))
    wanted = inp.rollback_candidate_deployment_id or next((c.id for _, c in found if c.ready), None)
    match = next(((row, c) for row, c in found if c.id == wanted), None)
    if match is None:
        other = ctx.session.get(Deployment, wanted) if wanted else None
        raise Invalid(
            f"Deployment {wanted} is not a successful deployment of resource {dep.resource_id}"
            + (f" (it is {other.status})." if other and other.resource_id == dep.resource_id else "."),
            code="rollback_candidate_invalid",
            details={"rollbackCandidateDeploymentId": wanted},
            next_action=f"See the candidates: dockyard deployments recovery-readiness {dep.id}",
        )
    row, candidate = match
    recovery.ensure("rollback", dep.id, candidate.reasons)
    trigger = Trigger(
        "rollback", "deployments.rollback", source=row, rollback_of=dep.id, artifact=artifact_of(row)
    )
    return IdOut(id=create(ctx, _ids(row), trigger))


@operation("deployments.cancel", "POST", "/deployments/{deploymentId}/cancel")
def cancel_deployment(ctx: Context, inp: ConfirmedDeployment) -> CanceledOut:
    """Cancel an active deployment attempt; confirm with its id. The live version is not touched."""
    dep = load(ctx, inp.deployment_id)
    _confirmed(dep, inp.confirm, "cancel")
    _ensure(ctx, "cancel", dep, recovery.cancel(attempt_of(ctx, dep)))
    work = _work_of(ctx, dep.id)
    cancel_attempt(ctx, dep, work)
    if dep.status == "canceled" and work is not None:  # it never ran: its work ends here too
        work.status, work.finished_at, work.updated_at = "canceled", ctx.now, ctx.now
        work.error_code, work.error_category = "canceled", "canceled"
    return CanceledOut(id=dep.id, status=dep.status, canceled_at=ctx.now)  # type: ignore[arg-type]


def cancel_attempt(ctx: Context, dep: Deployment, work: WorkItem | None) -> None:
    """End an attempt whose work has not started; ask a running one to stop at its next step (its
    execution then ends it `canceled`). The live version is not touched either way."""
    if dep.status == "created" and (work is None or work.status in ("pending", "retry-scheduled")):
        dep.status, dep.finished_at = "canceled", ctx.now
    else:
        dep.status = "cancel-requested"
    dep.failure = {"phase": None, "code": "canceled", "message": "canceled on request", "nextAction": None}


def _confirmed(dep: Deployment, confirm: str, action: str) -> None:
    if confirm != dep.id:
        raise Invalid(
            f"To {action} deployment {dep.id}, pass its id as confirm.",
            code="confirmation_mismatch",
            details={"expected": dep.id},
            next_action=f"dockyard deployments {action} {dep.id} --confirm {dep.id}",
        )


@operation("deployments.archive", "POST", "/deployments/{deploymentId}/archive")
def archive_deployment(ctx: Context, inp: ConfirmedDeployment) -> ArchivedOut:
    """Archive a finished attempt: hidden from lists, its logs, events and artifact kept."""
    dep = load(ctx, inp.deployment_id)
    _confirmed(dep, inp.confirm, "archive")
    if dep.status not in TERMINAL:
        recovery.ensure(
            "archive",
            dep.id,
            [r for r in recovery.retry(attempt_of(ctx, dep)) if r.code == "attempt-not-terminal"],
        )
    dep.archived_at = dep.archived_at or ctx.now
    return ArchivedOut(id=dep.id, archived_at=dep.archived_at)


def _scope(inp: PruneDeployments) -> list:
    where = []
    if inp.deployment_id:
        where.append(Deployment.id == inp.deployment_id)
    if inp.resource_id:
        where.append(Deployment.resource_id == inp.resource_id)
    if inp.server_id:
        where.append(Deployment.server_id == inp.server_id)
    return where


def _guarded(ctx: Context, resource_ids: set[str]) -> set[str]:
    """Deployments nothing may remove: what serves, the retained rollback targets, and any origin
    another attempt refers to."""
    keep_n = ctx.settings.recovery.retained_artifacts
    guarded: set[str] = set()
    for resource_id in resource_ids:
        rows = list(ctx.session.scalars(select(Deployment).where(Deployment.resource_id == resource_id)))
        guarded |= kept(rows, keep_n, set())
        live = live_of(ctx, resource_id)
        if live is not None:
            guarded.add(live.id)
        for row in rows:
            if row.archived_at is None or row.status in ACTIVE:
                guarded |= {i for i in (row.source_deployment_id, row.rollback_of_deployment_id) if i}
    return guarded


@operation("deployments.prune", "POST", "/deployments/prune")
def prune_deployments(ctx: Context, inp: PruneDeployments) -> PruneOut:
    """Remove archived, finished attempts archived before a time (dry run by default); attempts
    still referenced — live, a retained rollback target, the origin of another — are kept."""
    before = iso(inp.before)
    matched = list(
        ctx.session.scalars(
            select(Deployment).where(
                Deployment.archived_at.is_not(None),
                Deployment.archived_at < before,
                Deployment.status.in_(TERMINAL),
                *_scope(inp),
            )
        )
    )
    guarded_ids = _guarded(ctx, {d.resource_id for d in matched})
    guarded = sorted(d.id for d in matched if d.id in guarded_ids)
    affected = sorted(d.id for d in matched if d.id not in guarded_ids)
    if not inp.dry_run and affected:
        for dep in matched:
            if dep.id in affected:
                _remove_files(ctx, dep)
        ctx.session.execute(delete(Deployment).where(Deployment.id.in_(affected)))
    return PruneOut(
        **_result(ctx, inp, before, len(matched), len(affected)),
        guarded_count=len(guarded),
        affected_deployment_ids=affected,
        guarded_deployment_ids=guarded,
    )


def _remove_files(ctx: Context, dep: Deployment) -> None:
    import shutil

    folder = Path(ctx.settings.data_dir) / "workspaces" / dep.resource_id
    ctx.after_commit.append(lambda: shutil.rmtree(folder / dep.id, ignore_errors=True))


@operation("deployments.logs-prune", "POST", "/deployments/logs/prune")
def prune_logs(ctx: Context, inp: PruneDeployments) -> LogsPruneOut:
    """Remove log lines older than a time from finished attempts (dry run by default); the attempts
    themselves stay."""
    before = iso(inp.before)
    where = [
        DeploymentLog.timestamp < before,
        DeploymentLog.deployment_id.in_(
            select(Deployment.id).where(Deployment.status.in_(TERMINAL), *_scope(inp))
        ),
    ]
    matched, affected = ctx.session.execute(
        select(func.count(), func.count(func.distinct(DeploymentLog.deployment_id))).where(*where)
    ).one()
    if not inp.dry_run and matched:
        ctx.session.execute(delete(DeploymentLog).where(*where))
    return LogsPruneOut(**_result(ctx, inp, before, matched, matched), affected_deployment_count=affected)


def _result(ctx: Context, inp: PruneDeployments, before: str, matched: int, prunable: int) -> dict[str, Any]:
    return {
        "before": before,
        "deployment_id": inp.deployment_id,
        "resource_id": inp.resource_id,
        "server_id": inp.server_id,
        "dry_run": inp.dry_run,
        "matched_count": matched,
        "pruned_count": 0 if inp.dry_run else prunable,
        "pruned_at": None if inp.dry_run else ctx.now,
    }
