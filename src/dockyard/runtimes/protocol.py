"""What the pipeline needs from a runtime: candidate-first replacement, control, status."""

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class InstanceSpec:
    deployment_id: str
    command: str
    cwd: str
    env: dict[str, str]
    port: int
    log_path: str


class Runtime(Protocol):
    def start_candidate(self, resource_id: str, spec: InstanceSpec) -> dict[str, Any]: ...

    def promote(self, resource_id: str, deployment_id: str) -> dict[str, Any]: ...

    def discard(self, resource_id: str, deployment_id: str) -> None: ...

    def status(self, resource_id: str) -> dict[str, Any] | None: ...

    def url(self, resource_id: str) -> str | None: ...
