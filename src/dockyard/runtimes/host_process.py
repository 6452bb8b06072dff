"""Host-process runtime: apps run as supervised processes on this machine, one runner per resource.

The runner (see host_runner.py) is detached, so apps keep serving while `dockyard serve` restarts;
this adapter finds it again through its control socket, or starts it when it is not there.
"""

import contextlib
import fcntl
import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from dockyard.runtimes.host_runner import NOT_DEPLOYED, SUPERSEDED, control_socket
from dockyard.runtimes.protocol import InstanceSpec, LogSource, RuntimeNotDeployed, Superseded

RUNNER_START_DEADLINE_S = 10.0
CALL_TIMEOUT_S = 30.0
PORT_RELEASE_S = 1.0


class RuntimeUnavailable(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_free(port: int) -> bool:
    """Whether the runner could listen there. Like the runner, ignore connections in TIME_WAIT (the
    front port closes connections itself, e.g. while stopped): only a listener makes it taken."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _port_free_soon(port: int) -> bool:
    """A runner that just died lets go of its port a moment after its control socket: wait a little
    before giving the resource another port (and so another URL)."""
    deadline = time.monotonic() + PORT_RELEASE_S
    while not _port_free(port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


class HostProcessRuntime:
    kind = "host-process"

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "runners"

    def _dir(self, resource_id: str) -> Path:
        return self.root / resource_id

    def call(self, resource_id: str, msg: dict[str, Any]) -> dict[str, Any]:
        sock_path = control_socket(self._dir(resource_id))
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(CALL_TIMEOUT_S)
            sock.connect(str(sock_path))
            sock.sendall(json.dumps(msg).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        reply = json.loads(data)
        if reply.get("code") == NOT_DEPLOYED:
            raise RuntimeNotDeployed(reply["error"])
        if reply.get("code") == SUPERSEDED:
            raise Superseded(reply["error"])
        if "error" in reply:
            raise RuntimeUnavailable(reply["error"])
        return reply

    def status(self, resource_id: str) -> dict[str, Any] | None:
        try:
            return self.call(resource_id, {"op": "status"})
        except (OSError, ValueError):
            return None

    def ensure_runner(self, resource_id: str) -> dict[str, Any]:
        found = self.status(resource_id)
        if found:
            return found
        state_dir = self._dir(resource_id)
        state_dir.mkdir(parents=True, exist_ok=True)
        # Two deployments of a new resource may both find no runner: one starts it, the other waits.
        with open(state_dir / "start.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return self.status(resource_id) or self._start_runner(resource_id, state_dir)

    def _start_runner(self, resource_id: str, state_dir: Path) -> dict[str, Any]:
        port_file = state_dir / "front_port"
        port = int(port_file.read_text()) if port_file.exists() else 0
        if not port or not _port_free_soon(port):
            port = free_port()
            port_file.write_text(str(port))
        with open(state_dir / "runner.log", "ab") as log:
            subprocess.Popen(
                [sys.executable, "-m", "dockyard.runtimes.host_runner", str(state_dir), str(port)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        deadline = time.monotonic() + RUNNER_START_DEADLINE_S
        while time.monotonic() < deadline:
            found = self.status(resource_id)
            if found:
                return found
            time.sleep(0.02)
        raise RuntimeUnavailable(
            f"the process runner for {resource_id} did not start; see {state_dir}/runner.log"
        )

    def start_candidate(self, resource_id: str, spec: InstanceSpec) -> dict[str, Any]:
        self.ensure_runner(resource_id)
        return self.call(
            resource_id,
            {
                "op": "start",
                "spec": {
                    "deploymentId": spec.deployment_id,
                    "command": spec.command,
                    "cwd": spec.cwd,
                    "env": spec.env,
                    "port": spec.port,
                    "logPath": spec.log_path,
                    "runtimeKind": spec.runtime_kind,
                },
            },
        )

    def promote(self, resource_id: str, deployment_id: str, hold: bool = False) -> dict[str, Any]:
        """Switch the front port to the candidate; with `hold`, keep the old instance running until
        `confirm` (drain it) or `revert` (it serves again)."""
        return self.call(resource_id, {"op": "promote", "deploymentId": deployment_id, "hold": hold})

    def confirm(self, resource_id: str) -> None:
        with contextlib.suppress(OSError, ValueError, RuntimeUnavailable):
            self.call(resource_id, {"op": "confirm"})

    def revert(self, resource_id: str, deployment_id: str) -> dict[str, Any]:
        return self.call(resource_id, {"op": "revert", "deploymentId": deployment_id})

    def discard(self, resource_id: str, deployment_id: str) -> None:
        with contextlib.suppress(OSError, ValueError, RuntimeUnavailable):
            self.call(resource_id, {"op": "discard", "deploymentId": deployment_id})

    def remembered(self, resource_id: str) -> dict[str, Any] | None:
        """The runner's saved state when it holds an active instance (read even while it is down)."""
        try:
            state = json.loads((self._dir(resource_id) / "state.json").read_text())
        except (OSError, ValueError):
            return None
        return state if isinstance(state, dict) and state.get("active") else None

    def _control(self, resource_id: str, op: str) -> dict[str, Any]:
        if self.status(resource_id) is None:
            if self.remembered(resource_id) is None:
                raise RuntimeNotDeployed(f"nothing was deployed to {resource_id}")
            self.ensure_runner(resource_id)  # a runner that died comes back with what it ran
        return self.call(resource_id, {"op": op})

    def stop(self, resource_id: str) -> dict[str, Any]:
        """Stop the active instance; it keeps its spec and the front port closes new connections."""
        return self._control(resource_id, "stop")

    def start(self, resource_id: str) -> dict[str, Any]:
        """Start a stopped active instance again (no-op when it runs)."""
        return self._control(resource_id, "start")

    def restart(self, resource_id: str) -> dict[str, Any]:
        """A fresh process for the active instance: restart count and crash backoff start over."""
        return self._control(resource_id, "restart")

    def log_source(self, resource_id: str, deployment_id: str | None = None) -> LogSource | None:
        """The output file of the active instance, or of `deployment_id` if it is active or a candidate."""
        status = self.status(resource_id)
        if status is not None:
            wanted = [status.get("active")] + ([status.get("candidate")] if deployment_id else [])
        else:  # the runner is down: its saved state still says where the output is
            wanted = [(self.remembered(resource_id) or {}).get("active")]
        for inst in wanted:
            if inst and deployment_id in (None, inst["deploymentId"]):
                return LogSource(inst["deploymentId"], inst["logPath"], inst.get("runtimeKind", self.kind))
        return None

    def shutdown(self, resource_id: str) -> None:
        with contextlib.suppress(OSError, ValueError, RuntimeUnavailable):
            self.call(resource_id, {"op": "shutdown"})

    def shutdown_all(self) -> None:
        """Stop every app this data dir runs (they outlive `dockyard serve` by design)."""
        for runner in self.root.glob("*/front_port"):
            self.shutdown(runner.parent.name)

    def front_port(self, resource_id: str) -> int | None:
        """The resource's stable port on 127.0.0.1 (what the edge proxies to), once it was deployed."""
        try:
            return int((self._dir(resource_id) / "front_port").read_text().strip())
        except (OSError, ValueError):
            return None

    def url(self, resource_id: str) -> str | None:
        port_file = self._dir(resource_id) / "front_port"
        return f"http://127.0.0.1:{port_file.read_text().strip()}/" if port_file.exists() else None
