"""Wire models of a runtime control attempt (stop, start, restart); apart from the runtime models so
the resource summaries and health can name the latest one without an import cycle."""

from typing import Any, Literal

from pydantic import Field, ValidationError

from dockyard.domain.model import CamelModel

RuntimeOperation = Literal["stop", "start", "restart"]
RuntimeState = Literal["starting", "running", "crashed", "stopped", "unknown"]


class RuntimeControlPhase(CamelModel):
    phase: Literal["stop", "start"]
    status: Literal["pending", "succeeded", "failed"]
    error_code: str | None = None


class RuntimeControlAttempt(CamelModel):
    runtime_control_attempt_id: str
    resource_id: str
    deployment_id: str | None = Field(description="The deployment whose instance was controlled.")
    operation: RuntimeOperation
    status: Literal["accepted", "running", "succeeded", "failed", "blocked"]
    started_at: str
    completed_at: str | None
    runtime_state: RuntimeState
    blocked_reason: str | None = None
    error_code: str | None = None
    phases: list[RuntimeControlPhase]


def attempt_of(stored: dict[str, Any] | None) -> RuntimeControlAttempt | None:
    """The attempt a resource row remembers; one recorded in a shape this version does not know reads as
    none rather than failing the answer that shows it."""
    try:
        return RuntimeControlAttempt.model_validate(stored) if stored else None
    except ValidationError:
        return None
