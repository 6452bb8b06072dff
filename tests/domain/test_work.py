"""The work ledger's rules: real outcomes of each kind of job, and which operator action fits when."""

import pytest

from dockyard.domain import work
from dockyard.domain.errors import Conflict


def test_a_deployment_job_ends_as_its_attempt_did() -> None:
    assert work.deployment_outcome("succeeded", None).status == "succeeded"
    failed = work.deployment_outcome("failed", {"code": "build-failed", "phase": "build", "message": "boom"})
    assert (failed.status, failed.error_code, failed.phase, failed.retriable) == (
        "failed",
        "build-failed",
        "build",
        True,
    )
    rolled = work.deployment_outcome("rolled-back", {"code": "switch-failed", "message": "no"})
    assert (rolled.status, rolled.error_category) == ("failed", "rolled-back")
    assert work.deployment_outcome("canceled", {"code": "superseded"}).status == "canceled"
    assert work.deployment_outcome("failed", {"code": "interrupted"}).error_category == "interrupted"


def test_a_failed_certificate_attempt_with_a_retry_ahead_is_retry_scheduled() -> None:
    waiting = work.certificate_outcome(
        "failed", "acme_timeout", "order", "slow", True, "2030-01-01T00:00:00Z"
    )
    assert (waiting.status, waiting.run_after) == ("retry-scheduled", "2030-01-01T00:00:00Z")
    final = work.certificate_outcome("failed", "acme_rejected", "order", "no", False, None)
    assert (final.status, final.retriable) == ("failed", False)
    assert work.certificate_outcome("succeeded", None, None, None, False, None) == work.SUCCEEDED


def test_a_crashed_handler_is_a_retriable_platform_failure() -> None:
    outcome = work.crashed(RuntimeError("disk full"))
    assert (outcome.status, outcome.error_category, outcome.retriable) == ("failed", "platform", True)
    assert "disk full" in (outcome.message or "")


@pytest.mark.parametrize(
    ("status", "action", "ok"),
    [
        ("failed", "retry", True),
        ("retry-scheduled", "retry", True),
        ("succeeded", "retry", False),
        ("running", "retry", False),
        ("pending", "dead-letter", True),
        ("succeeded", "dead-letter", False),
        ("running", "cancel", True),
        ("failed", "cancel", False),
        ("dead-lettered", "mark-recovered", True),
        ("pending", "mark-recovered", False),
    ],
)
def test_operator_actions_follow_the_status(status: str, action: str, ok: bool) -> None:
    if ok:
        work.ensure_action("wrk_x", status, action)
    else:
        with pytest.raises(Conflict) as refused:
            work.ensure_action("wrk_x", status, action)
        assert refused.value.code == "operator_work_state_conflict" and "dockyard work show" in (
            refused.value.next_action or ""
        )


def test_next_actions_name_what_an_operator_may_do() -> None:
    assert work.next_actions("running", None) == ["wait", "cancel"]
    assert work.next_actions("succeeded", None) == []
    assert work.next_actions("retry-scheduled", True) == [
        "diagnostic",
        "retry",
        "dead-letter",
        "mark-recovered",
    ]
    assert "retry" not in work.next_actions("failed", False)
