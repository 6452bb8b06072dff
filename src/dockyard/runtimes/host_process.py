"""Host-process runtime: apps run as supervised processes on this machine, one runner per resource.

The runner (see host_runner.py) is detached, so apps keep serving while `dockyard serve` restarts;
this adapter finds it again through its control socket, or starts it when it is not there.
"""

import contextlib
import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from dockyard.runtimes.protocol import InstanceSpec

RUNNER_START_DEADLINE_S = 10.0
CALL_TIMEOUT_S = 30.0


class RuntimeUnavailable(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class HostProcessRuntime:
    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "runners"

    def _dir(self, resource_id: str) -> Path:
        return self.root / resource_id

    def call(self, resource_id: str, msg: dict[str, Any]) -> dict[str, Any]:
        sock_path = self._dir(resource_id) / "control.sock"
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
        port_file = state_dir / "front_port"
        port = int(port_file.read_text()) if port_file.exists() else 0
        if not port or not _port_free(port):
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
                },
            },
        )

    def promote(self, resource_id: str, deployment_id: str) -> dict[str, Any]:
        return self.call(resource_id, {"op": "promote", "deploymentId": deployment_id})

    def discard(self, resource_id: str, deployment_id: str) -> None:
        with contextlib.suppress(OSError, ValueError, RuntimeUnavailable):
            self.call(resource_id, {"op": "discard", "deploymentId": deployment_id})

    def restart(self, resource_id: str) -> dict[str, Any]:
        return self.call(resource_id, {"op": "restart"})

    def shutdown(self, resource_id: str) -> None:
        with contextlib.suppress(OSError, ValueError, RuntimeUnavailable):
            self.call(resource_id, {"op": "shutdown"})

    def shutdown_all(self) -> None:
        """Stop every app this data dir runs (they outlive `dockyard serve` by design)."""
        for runner in self.root.glob("*/control.sock"):
            self.shutdown(runner.parent.name)

    def url(self, resource_id: str) -> str | None:
        port_file = self._dir(resource_id) / "front_port"
        return f"http://127.0.0.1:{port_file.read_text().strip()}/" if port_file.exists() else None
