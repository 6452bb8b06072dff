"""Recovery readiness: what may be done about an attempt, and the reason when not."""

import pytest

from dockyard.domain import recovery
from dockyard.domain.errors import Conflict


def attempt(
    status: str, archived: bool = False, active: bool = True, source: bool = True
) -> recovery.Attempt:
    return recovery.Attempt("dep_1", status, archived, active, source)


def codes(reasons: list[recovery.Reason]) -> list[str]:
    return [r.code for r in reasons if r.blocks]


def candidate(
    problem: str | None = None, live: bool = False, kind: str | None = "workspace"
) -> recovery.Candidate:
    c = recovery.Candidate("dep_0", "2026-01-01T00:00:00Z", kind, problem, live)
    return recovery.Candidate(**{**c.__dict__, "reasons": recovery.candidate_reasons(c)})


def test_retry_is_for_attempts_that_ended_without_success() -> None:
    assert codes(recovery.retry(attempt("failed"))) == []
    assert codes(recovery.retry(attempt("running"))) == ["attempt-not-terminal"]
    assert codes(recovery.retry(attempt("succeeded"))) == ["attempt-succeeded"]
    assert codes(recovery.retry(attempt("failed", archived=True, active=False))) == [
        "attempt-archived",
        "resource-not-active",
    ]


def test_redeploy_needs_an_active_resource_with_a_source() -> None:
    assert codes(recovery.redeploy(attempt("succeeded", archived=True))) == []
    assert codes(recovery.redeploy(attempt("failed", source=False))) == ["resource-source-missing"]


def test_cancel_is_for_active_attempts() -> None:
    assert codes(recovery.cancel(attempt("running"))) == []
    assert codes(recovery.cancel(attempt("failed"))) == ["attempt-terminal"]
    assert codes(recovery.cancel(attempt("cancel-requested"))) == ["cancel-already-requested"]


def test_a_rollback_needs_a_retained_candidate_that_is_not_live() -> None:
    assert codes(recovery.rollback(attempt("succeeded"), [candidate()])) == []
    assert codes(recovery.rollback(attempt("succeeded"), [candidate(live=True)])) == ["no-rollback-candidate"]
    pruned = candidate("the workspace of dep_0 was pruned")
    assert codes(pruned.reasons) == ["artifact-pruned"] and not pruned.ready
    assert codes(candidate(kind=None).reasons) == ["artifact-not-recorded"]
    assert codes(recovery.rollback(attempt("running"), [candidate()])) == ["attempt-not-terminal"]


def test_a_blocked_action_is_refused_with_its_first_reason() -> None:
    with pytest.raises(Conflict) as refused:
        recovery.ensure("retry", "dep_1", recovery.retry(attempt("succeeded")))
    assert refused.value.code == "retry_not_allowed" and "redeploy" in (refused.value.next_action or "")
