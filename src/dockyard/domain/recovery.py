"""Recovery readiness, pure: may a deployment be retried, its resource redeployed, the attempt
canceled, or the resource rolled back to an earlier successful deployment — and if not, why not.

Each check returns reasons; an action is allowed when none of its reasons blocks it.
"""

from dataclasses import dataclass, field

from dockyard.domain.deployment import ACTIVE, TERMINAL
from dockyard.domain.errors import Conflict


@dataclass(frozen=True)
class Reason:
    code: str
    category: str  # "allowed" | "blocked"
    recommendation: str | None = None
    related_deployment_id: str | None = None
    retriable: bool = False
    phase: str | None = None

    @property
    def blocks(self) -> bool:
        return self.category == "blocked"


@dataclass(frozen=True)
class Attempt:
    id: str
    status: str
    archived: bool
    resource_active: bool
    has_source: bool


@dataclass(frozen=True)
class Candidate:
    """An earlier successful deployment of the resource and what is left of its artifact."""

    id: str
    finished_at: str | None
    artifact_kind: str | None
    artifact_problem: str | None  # None: its workspace or image can be started again
    live: bool
    reasons: list[Reason] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not any(r.blocks for r in self.reasons)


def _blocked(code: str, recommendation: str, related: str | None = None, retriable: bool = False) -> Reason:
    return Reason(code, "blocked", recommendation, related, retriable)


def _common(a: Attempt) -> list[Reason]:
    reasons = []
    if a.archived:
        reasons.append(_blocked("attempt-archived", "Archived attempts are kept for the record only."))
    if not a.resource_active:
        reasons.append(_blocked("resource-not-active", "Restore the resource first."))
    return reasons


def retry(a: Attempt) -> list[Reason]:
    reasons = _common(a)
    if a.status in ACTIVE:
        reasons.append(_blocked("attempt-not-terminal", "Wait for it to end, or cancel it.", a.id, True))
    elif a.status == "succeeded":
        reasons.append(_blocked("attempt-succeeded", "It succeeded: redeploy the resource instead."))
    return reasons or [Reason("retry-ready", "allowed", "Retry from the same snapshot.")]


def redeploy(a: Attempt) -> list[Reason]:
    reasons = [r for r in _common(a) if r.code != "attempt-archived"]
    if not a.has_source:
        reasons.append(_blocked("resource-source-missing", "Set the resource's source first."))
    return reasons or [Reason("redeploy-ready", "allowed", "Deploy the resource's current profile.")]


def cancel(a: Attempt) -> list[Reason]:
    if a.status in TERMINAL:
        return [_blocked("attempt-terminal", f"The attempt already ended {a.status}.")]
    if a.status == "cancel-requested":
        return [_blocked("cancel-already-requested", "It stops at its next step.", a.id, True)]
    return [Reason("cancel-ready", "allowed", "Cancel with the deployment id as confirmation.")]


def candidate_reasons(c: Candidate) -> list[Reason]:
    if c.artifact_kind is None:
        return [_blocked("artifact-not-recorded", "This deployment kept no artifact to start again.", c.id)]
    if c.artifact_problem:
        return [_blocked("artifact-pruned", c.artifact_problem, c.id)]
    if c.live:
        return [_blocked("candidate-is-live", "This version serves now.", c.id)]
    return [Reason("candidate-ready", "allowed", f"Roll back to {c.id}.", c.id)]


def rollback(a: Attempt, candidates: list[Candidate]) -> list[Reason]:
    reasons = [r for r in _common(a) if r.code != "attempt-archived"]
    if a.status in ACTIVE:
        reasons.append(_blocked("attempt-not-terminal", "Wait for it to end, or cancel it.", a.id, True))
    if not any(c.ready for c in candidates):
        reasons.append(_blocked("no-rollback-candidate", "No earlier successful deployment is retained."))
    return reasons or [Reason("rollback-ready", "allowed", "Pick a candidate below.")]


def allowed(reasons: list[Reason]) -> bool:
    return not any(r.blocks for r in reasons)


def ensure(action: str, deployment_id: str, reasons: list[Reason]) -> None:
    """Refuse an action its reasons block, naming the first reason and what to do."""
    blocking = [r for r in reasons if r.blocks]
    if blocking:
        first = blocking[0]
        raise Conflict(
            f"Cannot {action} deployment {deployment_id}: {first.code}.",
            code=f"{action}_not_allowed",
            details={"deploymentId": deployment_id, "reasons": [r.code for r in blocking]},
            next_action=first.recommendation,
        )
