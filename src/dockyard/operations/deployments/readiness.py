"""Whether a deployment can be retried, redeployed, canceled or rolled back now, and why not: the
facts `deployments.recovery-readiness` reports and `deployments.show` summarises.
"""

from dataclasses import dataclass

from sqlalchemy import select

from dockyard.domain import recovery
from dockyard.operations.context import Context
from dockyard.operations.deployments.recovery_models import (
    ActionReadiness,
    CandidateOut,
    ReasonOut,
    RollbackReadiness,
)
from dockyard.operations.deployments.rollups import newest
from dockyard.pipeline.retention import artifact_of, missing
from dockyard.store.tables import Deployment, Resource


def attempt_of(ctx: Context, dep: Deployment) -> recovery.Attempt:
    """The facts about an attempt the recovery rules decide on."""
    resource = ctx.session.get(Resource, dep.resource_id)
    return recovery.Attempt(
        dep.id,
        dep.status,
        dep.archived_at is not None,
        resource is not None and resource.lifecycle_status == "active" and resource.deleted_at is None,
        bool(resource and resource.source),
    )


def _artifact_problem(artifact: dict | None) -> str | None:
    return missing(artifact) if artifact else None


def live_of(ctx: Context, resource_id: str) -> Deployment | None:
    """What serves now: the resource's newest successful attempt."""
    return newest(ctx.session, resource_id, Deployment.status == "succeeded")


def candidates(ctx: Context, resource_id: str, limit: int) -> list[tuple[Deployment, recovery.Candidate]]:
    """The resource's successful attempts, newest first, with what is left of their artifacts."""
    live = live_of(ctx, resource_id)
    live_ref = (artifact_of(live) or {}).get("deploymentId") if live else None
    rows = ctx.session.scalars(
        select(Deployment)
        .where(Deployment.resource_id == resource_id, Deployment.status == "succeeded")
        .order_by(Deployment.id.desc())
        .limit(limit)
    ).all()
    out = []
    for row in rows:
        artifact = artifact_of(row)
        c = recovery.Candidate(
            row.id,
            row.finished_at,
            (artifact or {}).get("kind"),
            _artifact_problem(artifact),
            live is not None and (row.id == live.id or (artifact or {}).get("deploymentId") == live_ref),
        )
        out.append((row, recovery.Candidate(**{**c.__dict__, "reasons": recovery.candidate_reasons(c)})))
    return out


@dataclass(frozen=True)
class Readiness:
    retry: ActionReadiness
    redeploy: ActionReadiness
    cancel: ActionReadiness
    rollback: RollbackReadiness

    @property
    def retryable(self) -> bool:
        return self.retry.allowed

    @property
    def redeployable(self) -> bool:
        return self.redeploy.allowed

    @property
    def rollback_ready(self) -> bool:
        return self.rollback.allowed

    @property
    def rollback_candidate_count(self) -> int:
        return sum(c.rollback_ready for c in self.rollback.candidates)


def _reasons(reasons: list[recovery.Reason]) -> list[ReasonOut]:
    return [
        ReasonOut(
            code=r.code,
            category=r.category,  # type: ignore[arg-type]
            phase=r.phase,
            related_deployment_id=r.related_deployment_id,
            related_entity_id=r.related_deployment_id,
            related_entity_type="deployment" if r.related_deployment_id else None,
            retriable=r.retriable,
            recommendation=r.recommendation,
        )
        for r in reasons
    ]


def _action(reasons: list[recovery.Reason], target: str) -> ActionReadiness:
    return ActionReadiness(
        allowed=recovery.allowed(reasons), reasons=_reasons(reasons), target_operation=target
    )


def _candidate_out(row: Deployment, c: recovery.Candidate) -> CandidateOut:
    source = ((row.source_snapshot or {}).get("source") or {}).get("locator")
    artifact = artifact_of(row) or {}
    what = artifact.get("image") or artifact.get("path")
    return CandidateOut(
        deployment_id=row.id,
        finished_at=row.finished_at,
        status=row.status,  # type: ignore[arg-type]
        source_summary=source,
        artifact_summary=f"{artifact.get('kind')} {what}" if artifact else None,
        runtime_target_summary=f"server {row.server_id}",
        rollback_ready=c.ready,
        reasons=_reasons(c.reasons),
    )


def readiness(ctx: Context, dep: Deployment, max_candidates: int = 10) -> Readiness:
    attempt = attempt_of(ctx, dep)
    found = candidates(ctx, dep.resource_id, max_candidates)
    rollback_reasons = recovery.rollback(attempt, [c for _, c in found])
    recommended = next((c.id for _, c in found if c.ready and c.id != dep.id), None)
    return Readiness(
        retry=_action(recovery.retry(attempt), "deployments.retry"),
        redeploy=_action(recovery.redeploy(attempt), "resources.redeploy"),
        cancel=_action(recovery.cancel(attempt), "deployments.cancel"),
        rollback=RollbackReadiness(
            allowed=recovery.allowed(rollback_reasons),
            reasons=_reasons(rollback_reasons),
            target_operation="deployments.rollback",
            candidates=[_candidate_out(row, c) for row, c in found],
            recommended_candidate_id=recommended,
        ),
    )
