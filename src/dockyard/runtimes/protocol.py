"""What the pipeline and the runtime operations need from a runtime: candidate-first replacement
(with a switch that is confirmed, or reverted to the previous instance), control of the active
instance (stop, start, restart), status and where its output is."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class InstanceSpec:
    deployment_id: str
    command: str
    cwd: str
    env: dict[str, str]
    port: int
    log_path: str
    runtime_kind: str = "host-process"  # what the process is, for readers (logs, status)


@dataclass(frozen=True)
class LogSource:
    """Where one instance's output is: a file both stdout and stderr are appended to."""

    deployment_id: str
    path: str
    runtime_kind: str


# The runner answers this path itself (with its token) on the front port, instead of forwarding it:
# the answer names the deployment the port routes to, which no other process on the port can.
PROBE_PATH = "/.dockyard/probe/"
DEPLOYMENT_HEADER = "X-Dockyard-Deployment"


def address_file(log_path: str) -> Path:
    """Where a container instance's attach process says, once the container runs, where the
    container itself answers: {"ip", "port", "pid"} (its address on the engine's network, the port
    inside, its first process) — what a kernel redirect straight to it needs."""
    return Path(log_path).with_suffix(".address.json")


class Superseded(Exception):
    """A newer deployment of the resource already runs: an older candidate is refused."""


class RuntimeNotDeployed(Exception):
    """The resource has no active instance to control or read: nothing was deployed (or kept)."""


class Runtime(Protocol):
    def start_candidate(self, resource_id: str, spec: InstanceSpec) -> dict[str, Any]: ...

    def promote(self, resource_id: str, deployment_id: str, hold: bool = False) -> dict[str, Any]: ...

    def confirm(self, resource_id: str) -> None: ...

    def revert(self, resource_id: str, deployment_id: str) -> dict[str, Any]: ...

    def discard(self, resource_id: str, deployment_id: str) -> None: ...

    def status(self, resource_id: str) -> dict[str, Any] | None: ...

    def url(self, resource_id: str) -> str | None: ...

    # The active instance; each raises RuntimeNotDeployed when there is none, returns the status.
    def stop(self, resource_id: str) -> dict[str, Any]: ...

    def start(self, resource_id: str) -> dict[str, Any]: ...

    def restart(self, resource_id: str) -> dict[str, Any]: ...

    def log_source(self, resource_id: str, deployment_id: str | None = None) -> LogSource | None: ...
