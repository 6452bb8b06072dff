"""The work ledger (`operator-work`): every background job — deployments, proxy bootstraps,
certificate attempts, runtime maintenance — with its attempts, real outcome and lineage; and the
operator's actions on it: retry (a new item naming the old one), dead-letter, cancel,
mark-recovered, prune (dry run by default). CLI: `dockyard work list|show|retry …`.
"""

from sqlalchemy import delete, func, select

from dockyard.domain import work
from dockyard.domain.deployment import ACTIVE
from dockyard.domain.errors import Conflict
from dockyard.operations.catalog import operation
from dockyard.operations.context import Context, iso
from dockyard.operations.operator_work.models import (
    DeadLettered,
    PruneWork,
    Recovered,
    Retried,
    WorkCanceled,
    WorkItemOut,
    WorkList,
    WorkPruned,
    WorkQuery,
    WorkRef,
    WorkShow,
    WorkWithReason,
)
from dockyard.store import queries
from dockyard.store.tables import Deployment, WorkItem
from dockyard.work import queue


def load(ctx: Context, work_id: str) -> WorkItem:
    return queries.get_or_404(ctx.session, WorkItem, work_id, "work")


def out(row: WorkItem, retried_by: list[str] | None = None) -> WorkItemOut:
    details = {k: str(v) for k, v in (row.safe_details or {}).items()}
    if row.last_error:
        details.setdefault("message", row.last_error[:500])
    return WorkItemOut(
        id=row.id,
        kind=work.LEDGER_KINDS.get(row.kind, "system"),  # type: ignore[arg-type]
        status=row.status if row.status in work.STATUSES else "unknown",  # type: ignore[arg-type]
        operation_key=row.operation_key,
        phase=row.phase,
        step=row.step,
        project_id=row.project_id,
        resource_id=row.resource_id,
        deployment_id=row.deployment_id,
        server_id=row.server_id,
        domain_binding_id=row.domain_binding_id,
        certificate_id=row.certificate_id,
        started_at=row.started_at,
        updated_at=row.updated_at,
        finished_at=row.finished_at,
        error_code=row.error_code,
        error_category=row.error_category,
        retriable=bool(row.retriable),
        next_actions=work.next_actions(row.status, row.retriable),
        safe_details=details,
        attempts=row.attempts,
        retry_of_work_id=row.retry_of_work_id,
        retried_by_work_ids=retried_by or [],
        created_at=row.created_at,
    )


@operation("operator-work.list", "GET", "/operator-work")
def list_work(ctx: Context, inp: WorkQuery) -> WorkList:
    """List background work, newest first: deployments, proxy bootstraps, certificates, maintenance."""
    where = []
    if inp.kind:
        where.append(WorkItem.kind == work.HANDLER_KINDS.get(inp.kind, inp.kind))
    if inp.status:
        where.append(WorkItem.status == inp.status)
    for column, value in (
        (WorkItem.resource_id, inp.resource_id),
        (WorkItem.server_id, inp.server_id),
        (WorkItem.deployment_id, inp.deployment_id),
    ):
        if value:
            where.append(column == value)
    rows, cursor = queries.keyset_page(
        ctx.session, select(WorkItem).where(*where), WorkItem.id, inp.limit, inp.cursor
    )
    return WorkList(items=[out(r) for r in rows], next_cursor=cursor, generated_at=ctx.now)


@operation("operator-work.show", "GET", "/operator-work/{workId}")
def show_work(ctx: Context, inp: WorkRef) -> WorkShow:
    """Show one background job: status, attempts, where it got to, how it ended, its lineage."""
    row = load(ctx, inp.work_id)
    retried_by = ctx.session.scalars(
        select(WorkItem.id).where(WorkItem.retry_of_work_id == row.id).order_by(WorkItem.id)
    ).all()
    return WorkShow(item=out(row, list(retried_by)), generated_at=ctx.now)


@operation("operator-work.retry", "POST", "/operator-work/{workId}/retry", status_code=201)
def retry_work(ctx: Context, inp: WorkRef) -> Retried:
    """Run a failed, canceled, dead-lettered or retry-scheduled job again, as a new item."""
    row = load(ctx, inp.work_id)
    work.ensure_action(row.id, row.status, "retry")
    if row.kind == "deployment":
        from dockyard.operations.deployments.models import DeploymentRef
        from dockyard.operations.deployments.recovery import retry_deployment

        new_dep = retry_deployment(ctx, DeploymentRef(deployment_id=row.subject_id)).id
        new_id = ctx.session.scalars(select(WorkItem.id).where(WorkItem.deployment_id == new_dep)).one()
    elif row.kind == "certificate-attempt":
        new_id = _retry_certificate(ctx, row)
    else:
        about = {
            "project_id": row.project_id,
            "resource_id": row.resource_id,
            "server_id": row.server_id,
        }
        new_id = queue.enqueue(
            ctx.session,
            row.kind,
            row.subject_id,
            ctx.now,
            operation_key="operator-work.retry",
            retry_of=row,
            **about,
        ).id
    if ctx.services is not None:
        ctx.after_commit.append(ctx.services.wake_worker)
    return Retried(work_id=new_id, status="pending", retry_of_work_id=row.id, retried_at=ctx.now)


def _retry_certificate(ctx: Context, row: WorkItem) -> str:
    from dockyard.certificates.attempts import GONE, start_attempt
    from dockyard.store.tables import Certificate, CertificateAttempt

    attempt = ctx.session.get(CertificateAttempt, row.subject_id)
    cert = ctx.session.get(Certificate, attempt.certificate_id) if attempt else None
    if cert is None or cert.status in GONE:
        raise Conflict(
            f"The certificate of work {row.id} is gone; there is nothing to retry.",
            code="operator_work_subject_gone",
            next_action=f"Dead-letter it: dockyard work dead-letter {row.id}",
        )
    if cert.status == "failed":
        cert.status = "pending"
    return start_attempt(ctx.session, cert, attempt.reason if attempt else "issue", ctx.now, retry_of=row).id


@operation("operator-work.dead-letter", "POST", "/operator-work/{workId}/dead-letter")
def dead_letter_work(ctx: Context, inp: WorkWithReason) -> DeadLettered:
    """Give up on a job: it is never retried automatically (a person may still retry it)."""
    row = load(ctx, inp.work_id)
    work.ensure_action(row.id, row.status, "dead-letter")
    _close(ctx, row, "dead-lettered", "deadLetteredReason", inp.reason)
    return DeadLettered(work_id=row.id, status="dead-lettered", dead_lettered_at=ctx.now)


@operation("operator-work.cancel", "POST", "/operator-work/{workId}/cancel")
def cancel_work(ctx: Context, inp: WorkWithReason) -> WorkCanceled:
    """Cancel a pending or waiting job; a running deployment is asked to stop at its next step."""
    row = load(ctx, inp.work_id)
    work.ensure_action(row.id, row.status, "cancel")
    if row.status == "running" and row.kind != "deployment":
        raise Conflict(
            f"Work {row.id} ({work.LEDGER_KINDS.get(row.kind, row.kind)}) is running and cannot be "
            "stopped midway.",
            code="operator_work_not_cancelable",
            next_action=f"Wait for it to end: dockyard work show {row.id}",
        )
    dep = ctx.session.get(Deployment, row.subject_id) if row.kind == "deployment" else None
    if dep is not None and dep.status in ACTIVE - {"cancel-requested"}:
        from dockyard.operations.deployments.recovery import cancel_attempt

        cancel_attempt(ctx, dep, row)
    _close(ctx, row, "canceled", "cancelReason", inp.reason)
    return WorkCanceled(work_id=row.id, status="canceled", canceled_at=ctx.now)


@operation("operator-work.mark-recovered", "POST", "/operator-work/{workId}/mark-recovered")
def mark_recovered(ctx: Context, inp: WorkRef) -> Recovered:
    """Record that a person fixed what a failed job was for: it counts as succeeded."""
    row = load(ctx, inp.work_id)
    work.ensure_action(row.id, row.status, "mark-recovered")
    previous = row.status
    _close(ctx, row, "succeeded", "recoveredFrom", previous)
    row.safe_details = {**(row.safe_details or {}), "recoveredAt": ctx.now}
    return Recovered(work_id=row.id, status="succeeded", recovered_at=ctx.now)


def _close(ctx: Context, row: WorkItem, status: str, key: str, note: str | None) -> None:
    row.status, row.updated_at, row.finished_at = status, ctx.now, row.finished_at or ctx.now
    row.lease_owner = row.lease_expires_at = None
    details = dict(row.safe_details or {})
    if note:
        details[key] = note
    details["closedBy"] = ctx.principal.user_id if ctx.principal else "system"
    row.safe_details = details


@operation("operator-work.prune", "POST", "/operator-work/prune")
def prune_work(ctx: Context, inp: PruneWork) -> WorkPruned:
    """Remove finished jobs last updated before a time (dry run by default)."""
    before = iso(inp.before)
    where = [WorkItem.status.in_(inp.statuses), WorkItem.updated_at < before]
    counts = dict(
        ctx.session.execute(
            select(WorkItem.status, func.count()).where(*where).group_by(WorkItem.status)
        ).all()
    )
    matched = sum(counts.values())
    if not inp.dry_run and matched:
        ctx.session.execute(delete(WorkItem).where(*where))
    return WorkPruned(
        pruned_count=0 if inp.dry_run else matched,
        matched_count=matched,
        dry_run=inp.dry_run,
        before=before,
        statuses=list(inp.statuses),
        counts_by_status={s: counts.get(s, 0) for s in ("succeeded", "failed", "canceled", "dead-lettered")},
        pruned_at=None if inp.dry_run else ctx.now,
    )
