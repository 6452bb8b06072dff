"""Host-process runtime: apps run as supervised processes on this machine, all of a data dir's in one
supervisor process (supervisor.py), a runner per resource inside it (host_runner.py).

The supervisor is detached, so apps keep serving while `dockyard serve` restarts; this adapter finds
it again through its control socket, or starts it when it is not there.
"""

import contextlib
import fcntl
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from dockyard.runtimes import ports, redirect
from dockyard.runtimes.host_runner import NOT_DEPLOYED, PORT_TAKEN, SUPERSEDED
from dockyard.runtimes.protocol import InstanceSpec, LogSource, RuntimeNotDeployed, Superseded
from dockyard.runtimes.supervisor import EXIT_ALREADY_RUNNING, NOT_ATTACHED, control_socket

RUNNER_START_DEADLINE_S = 10.0
CALL_TIMEOUT_S = 30.0
PORT_RELEASE_S = 1.0
GRANT_HOLD_S = 120.0  # a port handed to a candidate stays reserved this long (it may not listen yet)


class RuntimeUnavailable(RuntimeError):
    pass


class RunnerDown(ConnectionError):
    """The supervisor holds no runner for the resource (as when nothing listens on its socket)."""


class PortTaken(RuntimeUnavailable):
    """A port the runtime must listen on is held by another process (named when /proc can tell)."""

    def __init__(self, port: int, holder: str | None, message: str, next_action: str) -> None:
        super().__init__(message)
        self.port, self.holder, self.next_action = port, holder, next_action


def free_port() -> int:
    """A port nothing on this machine holds (tests and benches; deployments use `allocate_port`)."""
    return ports.allocate()


def _port_free_soon(port: int) -> bool:
    """A runner that just died lets go of its port a moment after its control socket: wait a little
    before giving the resource another port (and so another URL)."""
    deadline = time.monotonic() + PORT_RELEASE_S
    while ports.taken(port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _port_taken(resource_id: str, state_dir: Path, port: int) -> PortTaken:
    holder = ports.holder(port)
    return PortTaken(
        port,
        holder,
        f"the runner of {resource_id} cannot listen on its stable port 127.0.0.1:{port}: it is held by "
        f"{holder or 'another process'}",
        f"Stop {holder or 'what holds the port'} and deploy again; or, to let it keep the port, remove "
        f"{state_dir / 'front_port'} (the resource then gets a new port, and a new direct URL).",
    )


class HostProcessRuntime:
    kind = "host-process"

    def __init__(self, data_dir: Path, reserved: Callable[[], Iterable[int]] = tuple) -> None:
        """`reserved`: ports handed out elsewhere (the store's: edge listeners, resources' host ports)."""
        self.root = data_dir / "runners"
        self.reserved = reserved
        self._granted: dict[int, float] = {}
        self._grant_lock = threading.RLock()

    def _dir(self, resource_id: str) -> Path:
        return self.root / resource_id

    def _ask(self, msg: dict[str, Any]) -> dict[str, Any]:
        """One line to the supervisor, its one-line reply (OSError when no supervisor answers)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(CALL_TIMEOUT_S)
            sock.connect(str(control_socket(self.root)))
            sock.sendall(json.dumps(msg).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        return json.loads(data)

    def call(self, resource_id: str, msg: dict[str, Any]) -> dict[str, Any]:
        reply = self._ask({**msg, "resource": resource_id})
        if reply.get("code") == NOT_ATTACHED:
            raise RunnerDown(reply["error"])
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
        # Two deployments may both find no runner (or no supervisor): one starts it, the other waits.
        with open(self.root / "start.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._ensure_supervisor()
            return self.status(resource_id) or self._start_runner(resource_id, state_dir)

    def revive(self) -> bool:
        """Start the supervisor again when it is gone while apps were deployed here (it adopts what
        still runs); True when it had to."""
        if self.supervisor() is not None or not self.known():
            return False
        with open(self.root / "start.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self.supervisor() is not None:
                return False
            self._ensure_supervisor()
        return True

    def supervisor(self) -> dict[str, Any] | None:
        """The supervisor's pid and the resources it holds; None when it is not running."""
        try:
            return self._ask({"op": "supervisor"})
        except (OSError, ValueError):
            return None

    def _ensure_supervisor(self) -> None:
        """Start the supervisor unless it answers (it brings back every resource it saved a state for)."""
        if self.supervisor() is not None:
            return
        with open(self.root / "supervisor.log", "ab") as log:
            started = subprocess.Popen(
                [sys.executable, "-m", "dockyard.runtimes.supervise", str(self.root)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        deadline = time.monotonic() + RUNNER_START_DEADLINE_S
        while time.monotonic() < deadline:
            if self.supervisor() is not None:
                return
            if started.poll() not in (None, EXIT_ALREADY_RUNNING):
                break
            time.sleep(0.02)
        raise RuntimeUnavailable(f"the process supervisor did not start; see {self.root / 'supervisor.log'}")

    # -- ports: every one this data dir hands out is recorded, and none is handed out twice --
    def allocated(self, but: str | None = None) -> set[int]:
        """Ports this data dir gave out, listening or not: each resource's front port (kept while
        its runner is down), the port of each instance a runner keeps, ports granted to candidates
        in the last GRANT_HOLD_S, and what `reserved` names. `but`: leave that resource's out."""
        taken = set(self.reserved())
        for state_dir in self.root.glob("*"):
            if state_dir.name == but:
                continue
            with contextlib.suppress(OSError, ValueError):
                taken.add(int((state_dir / "front_port").read_text()))
            with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
                taken.add(int(json.loads((state_dir / "state.json").read_text())["active"]["port"]))
        now = time.monotonic()
        with self._grant_lock:
            self._granted = {p: at for p, at in self._granted.items() if now - at < GRANT_HOLD_S}
            return taken | set(self._granted)

    def allocate_port(self) -> int:
        """A port for an instance: held by nothing on the machine, given to nothing (and so, for
        GRANT_HOLD_S, not given again while the instance starts to listen)."""
        with self._grant_lock:  # two deployments starting at once get two ports
            port = ports.allocate(self.allocated())
            self._granted[port] = time.monotonic()
        return port

    def _new_front_port(self, port_file: Path) -> int:
        """A front port is recorded in the resource's `front_port` file (which `allocated` reads)."""
        port = ports.allocate(self.allocated())
        port_file.write_text(str(port))
        return port

    def _front_port(self, resource_id: str, state_dir: Path) -> tuple[int, str | None]:
        """The resource's stable port: the one it had, unless something else holds it now (then a
        new one, and a note saying so: its direct URL changes)."""
        port_file = state_dir / "front_port"
        with contextlib.suppress(OSError, ValueError):
            kept = int(port_file.read_text())
            if kept not in self.allocated(but=resource_id) and _port_free_soon(kept):
                return kept, None
            holder = ports.holder(kept) or "another process"
            port = self._new_front_port(port_file)
            return port, f"the stable port {kept} is held by {holder}: the resource moves to port {port}"
        return self._new_front_port(port_file), None

    def _start_runner(self, resource_id: str, state_dir: Path) -> dict[str, Any]:
        port, note = self._front_port(resource_id, state_dir)
        found = self._launch_runner(resource_id, state_dir, port)
        return {**found, "notes": [note]} if note else found

    def _launch_runner(self, resource_id: str, state_dir: Path, port: int) -> dict[str, Any]:
        reply = self._ask({"op": "attach", "resource": resource_id, "frontPort": port})
        if reply.get("code") == PORT_TAKEN:
            raise _port_taken(resource_id, state_dir, port)
        if "error" in reply:
            raise RuntimeUnavailable(f"the runner of {resource_id} did not start: {reply['error']}")
        return reply

    def start_candidate(self, resource_id: str, spec: InstanceSpec) -> dict[str, Any]:
        """Start `spec` next to the active instance. The reply is the runner's status, with `notes`
        for the deployment's timeline when the runner had to move to another front port."""
        notes = self.ensure_runner(resource_id).get("notes") or []
        return {"notes": notes} | self.call(
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

    def known(self) -> list[str]:
        """The resources this machine holds a runner's state for (running or not): what it can observe."""
        return sorted(d.name for d in self.root.glob("*") if (d / "state.json").exists())

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
        """Stop every app this data dir runs (they outlive `dockyard serve` by design); the supervisor
        leaves with its last one."""
        for runner in self.root.glob("*/front_port"):
            self.shutdown(runner.parent.name)
        with contextlib.suppress(OSError, ValueError):
            self._ask({"op": "quit"})
        if self.supervisor() is None:  # a supervisor that was killed left its redirects behind
            redirect.Redirects(self.root).remove()

    def front_port(self, resource_id: str) -> int | None:
        """The resource's stable port on 127.0.0.1 (what the edge proxies to), once it was deployed."""
        try:
            return int((self._dir(resource_id) / "front_port").read_text().strip())
        except (OSError, ValueError):
            return None

    def url(self, resource_id: str) -> str | None:
        port_file = self._dir(resource_id) / "front_port"
        return f"http://127.0.0.1:{port_file.read_text().strip()}/" if port_file.exists() else None
