"""Wire models of a resource's runtime: control attempts (stop, start, restart) and its log lines."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictBool, StringConstraints

from dockyard.domain.model import CamelModel
from dockyard.operations.common import INSTANT_SCHEMA, DeploymentId
from dockyard.operations.resources.control_models import (
    RuntimeControlAttempt,
    RuntimeControlPhase,
    RuntimeOperation,
    RuntimeState,
)
from dockyard.operations.resources.models import ResourceRef

__all__ = ["RuntimeControlAttempt", "RuntimeControlPhase", "RuntimeOperation", "RuntimeState"]

MAX_TAIL_LINES = 5000


def _instant(value: str) -> str:
    """An ISO 8601 time (`2025-01-31T12:00:00Z`); kept as text so the CLI passes it through."""
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"expected an ISO 8601 time like 2025-01-31T12:00:00Z, got {value[:40]!r}") from None
    return value


class RuntimeLogsQuery(ResourceRef):
    deployment_id: DeploymentId | None = Field(
        default=None, description="Read this deployment's instance (the active one or a candidate)."
    )
    service_name: Annotated[str, StringConstraints(max_length=63)] | None = None
    tail_lines: Annotated[int, Field(ge=0, le=MAX_TAIL_LINES)] = Field(
        default=200,
        description="Without a cursor: the last N lines. With one: at most N lines after it.",
    )
    since: Annotated[str, AfterValidator(_instant), INSTANT_SCHEMA] | None = Field(
        default=None, description="Only lines written at or after this time (ISO 8601)."
    )
    cursor: Annotated[str, StringConstraints(pattern=r"^\d{1,18}$")] | None = Field(
        default=None, description="Pass the cursor of an earlier answer to read only newer lines."
    )


class RuntimeLogsStreamQuery(RuntimeLogsQuery):
    follow: StrictBool = Field(
        default=True, description="Keep following new lines (false: send the history, then close)."
    )


class RuntimeLogsReadQuery(RuntimeLogsQuery):
    follow: StrictBool = Field(
        default=False,
        description="true: the answer is the live stream (server-sent events), as from "
        "GET /resources/{resourceId}/runtime-logs/stream.",
    )


class RuntimeLogLine(CamelModel):
    resource_id: str
    deployment_id: str
    service_name: str
    runtime_kind: str
    runtime_instance_id: str
    stream: Literal["stdout", "stderr"] = Field(
        description="Always stdout: the process's stdout and stderr share one file."
    )
    timestamp: str = Field(description="When the line was in the log (within half a second).")
    sequence: int = Field(description="The line's byte offset in its instance's log: increasing.")
    cursor: str = Field(description="Pass as cursor to read the lines after this one.")
    message: str = Field(description="What was printed, each secret (or part of one at a cut) as ****.")
    masked: bool = Field(default=False, description="Whether a secret was hidden in this line.")


class RuntimeLogs(CamelModel):
    resource_id: str
    deployment_id: str
    logs: list[RuntimeLogLine]
    cursor: str = Field(description="Pass as cursor to read only lines newer than these.")


class RuntimeLogEnvelope(CamelModel):
    """One item of the live stream: a line, a heartbeat while nothing is printed, or the end."""

    schema_version: str = "resources.runtime-logs-stream/v1"
    kind: Literal["log", "heartbeat", "closed"]
    log: RuntimeLogLine | None = None
    cursor: str | None = None
