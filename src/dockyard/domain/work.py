"""The work ledger's rules. Pure: statuses, how a job ended (an Outcome), and which operator action
(retry, dead-letter, cancel, mark-recovered) each status allows.

pending → running → succeeded | failed | retry-scheduled | canceled
failed | retry-scheduled | dead-lettered | canceled --retry--> a NEW item (pending) whose lineage
(retryOfWorkId) names the old one; the old item keeps its status.
"""

from dataclasses import dataclass

from dockyard.domain.errors import Conflict

STATUSES = ("pending", "running", "succeeded", "failed", "retry-scheduled", "dead-lettered", "canceled")
TERMINAL = frozenset({"succeeded", "failed", "dead-lettered", "canceled"})
PRUNABLE = ("succeeded", "failed", "canceled", "dead-lettered")

# The queue's handler kind → the ledger's kind (the seed's enum).
LEDGER_KINDS = {
    "deployment": "deployment",
    "certificate-attempt": "certificate",
    "proxy-bootstrap": "proxy-bootstrap",
    "runtime-maintenance": "runtime-maintenance",
}
HANDLER_KINDS = {ledger: handler for handler, ledger in LEDGER_KINDS.items()}

_ALLOWED: dict[str, frozenset[str]] = {
    "retry": frozenset({"failed", "retry-scheduled", "dead-lettered", "canceled"}),
    "dead-letter": frozenset({"pending", "failed", "retry-scheduled"}),
    "cancel": frozenset({"pending", "retry-scheduled", "running"}),
    "mark-recovered": frozenset({"failed", "retry-scheduled", "dead-lettered"}),
}
_WHY_NOT = {
    "retry": "Only work that failed, was canceled, dead-lettered or waits for a retry can be retried.",
    "dead-letter": "Only work that has not succeeded and is not running can be dead-lettered.",
    "cancel": "Only work that is pending, running or waiting for a retry can be canceled.",
    "mark-recovered": "Only failed, dead-lettered or retry-scheduled work can be marked recovered.",
}


@dataclass(frozen=True)
class Outcome:
    """How a handler's job really ended (a handler that returns None succeeded)."""

    status: str  # succeeded | failed | canceled | retry-scheduled
    error_code: str | None = None
    error_category: str | None = None
    retriable: bool = False
    message: str | None = None
    phase: str | None = None
    run_after: str | None = None


SUCCEEDED = Outcome("succeeded")


def crashed(exc: BaseException) -> Outcome:
    """A handler raised: Dockyard's own fault, worth retrying once the cause is fixed."""
    return Outcome("failed", "handler_crashed", "platform", True, f"{type(exc).__name__}: {exc}"[:2000])


def ensure_action(work_id: str, status: str, action: str) -> None:
    if status not in _ALLOWED[action]:
        raise Conflict(
            f"Work {work_id} is {status}: {_WHY_NOT[action]}",
            code="operator_work_state_conflict",
            details={"workId": work_id, "status": status, "action": action},
            next_action=f"Read it first: dockyard work show {work_id}",
        )


def next_actions(status: str, retriable: bool | None) -> list[str]:
    """What an operator may do next, in the seed's vocabulary."""
    if status in ("pending", "running"):
        return ["wait", "cancel"]
    if status == "succeeded":
        return []
    actions = ["diagnostic"]
    if status == "retry-scheduled" or retriable or status in ("canceled", "dead-lettered"):
        actions.append("retry")
    if status in _ALLOWED["dead-letter"]:
        actions.append("dead-letter")
    if status in _ALLOWED["mark-recovered"]:
        actions.append("mark-recovered")
    return actions


def deployment_outcome(status: str | None, failure: dict | None) -> Outcome:
    """A deployment job's outcome from the attempt's final status and failure."""
    failure = failure or {}
    code, message, phase = failure.get("code"), failure.get("message"), failure.get("phase")
    if status == "succeeded":
        return SUCCEEDED
    if status == "canceled":
        return Outcome("canceled", code or "canceled", "canceled", False, message, phase)
    if status == "rolled-back":
        return Outcome("failed", code or "switch-failed", "rolled-back", True, message, phase)
    if status == "failed":
        category = {"interrupted": "interrupted", "internal_error": "platform"}.get(code or "", "deployment")
        return Outcome("failed", code or "failed", category, True, message, phase)
    return Outcome("failed", "not-terminal", "platform", True, f"the attempt ended {status}", phase)


def certificate_outcome(
    status: str | None,
    error_code: str | None,
    phase: str | None,
    message: str | None,
    retriable: bool,
    retry_after: str | None,
) -> Outcome:
    """A certificate attempt's outcome: failed ones the scheduler will retry are `retry-scheduled`."""
    if status == "succeeded":
        return SUCCEEDED
    if status != "failed":
        return Outcome("failed", "not-terminal", "platform", True, f"the attempt is {status}", phase)
    if retriable and retry_after:
        return Outcome("retry-scheduled", error_code, "certificate", True, message, phase, retry_after)
    return Outcome("failed", error_code, "certificate", retriable, message, phase)
