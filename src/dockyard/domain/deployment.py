"""The deployment state machine. Pure: which status may follow which, and what counts as done.

created → planning → planned → running → succeeded | failed | rolled-back
any active status → cancel-requested → canceled; any active status → failed (interrupted, errors).
"""

from dockyard.domain.errors import Conflict

STATUSES = (
    "created",
    "planning",
    "planned",
    "running",
    "cancel-requested",
    "succeeded",
    "failed",
    "canceled",
    "rolled-back",
)
TERMINAL = frozenset({"succeeded", "failed", "canceled", "rolled-back"})
ACTIVE = frozenset(STATUSES) - TERMINAL

_NEXT: dict[str, frozenset[str]] = {
    "created": frozenset({"planning", "cancel-requested", "canceled", "failed"}),
    "planning": frozenset({"planned", "cancel-requested", "canceled", "failed"}),
    "planned": frozenset({"running", "cancel-requested", "canceled", "failed"}),
    "running": frozenset({"succeeded", "failed", "rolled-back", "cancel-requested", "canceled"}),
    "cancel-requested": frozenset({"canceled", "failed"}),
}

# Timeline phases, in the order a deployment walks through them.
PHASES = ("detect", "plan", "package", "install", "build", "release", "start", "verify", "switch")


def can_move(current: str, target: str) -> bool:
    return target in _NEXT.get(current, frozenset())


def ensure_move(deployment_id: str, current: str, target: str) -> None:
    if not can_move(current, target):
        raise Conflict(
            f"Deployment {deployment_id} is {current} and cannot become {target}.",
            code="deployment_state_conflict",
            details={"deploymentId": deployment_id, "status": current, "requested": target},
        )


def is_terminal(status: str) -> bool:
    return status in TERMINAL
