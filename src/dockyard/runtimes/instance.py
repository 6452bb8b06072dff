"""One supervised instance of a resource: its process started (or adopted after a supervisor
restart, watched through a pidfd), restarted with backoff when it exits on its own, and stopped."""

import asyncio
import contextlib
import json
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dockyard.runtimes import ports
from dockyard.runtimes.protocol import address_file

BACKOFF_START_S = 0.1
BACKOFF_MAX_S = 5.0
STABLE_AFTER_S = 10.0
STOP_GRACE_S = 5.0
SPAWN_WAIT_S = 2.0


@dataclass(eq=False)
class Instance:
    deployment_id: str
    command: str
    cwd: str
    env: dict[str, str]
    port: int
    log_path: str
    runtime_kind: str = "host-process"
    proc: asyncio.subprocess.Process | None = None
    pid: int | None = None  # the process group leader, ours or adopted
    pid_start: str = ""  # its start time (/proc/PID/stat), so a reused pid is never taken for it
    restarts: int = 0
    state: str = "starting"
    started_at: float = 0.0
    last_exit_code: int | None = None
    stopping: bool = False
    spawning: bool = False  # its process is being created
    connections: int = 0
    stamped: int = 0  # log size last recorded in LOG.times
    task: asyncio.Task | None = field(default=None, repr=False)
    spawned: Callable[[], None] = field(default=lambda: None, repr=False)  # called with each new pid

    def address(self) -> tuple[str, int] | None:
        """Where the instance itself answers (None: a container that does not run yet)."""
        if self.runtime_kind != "container":
            return ("127.0.0.1", self.port)
        found = self._container()
        return (str(found["ip"]), int(found["port"])) if found else None

    def _container(self) -> dict[str, Any] | None:
        with contextlib.suppress(OSError, ValueError, KeyError):
            found = json.loads(address_file(self.log_path).read_text())
            return found if found.get("ip") and found.get("port") else None
        return None

    def connected(self) -> bool:
        """Whether a connection to the instance is still open, as the kernel sees it: connections
        that reached it without the runner (a redirect) count, a container's in its own namespace."""
        if self.runtime_kind != "container":
            return ports.connected(self.port)
        found = self._container()
        return bool(found) and ports.connected(int(found["port"]), netns_of=int(found["pid"]))

    def spec(self) -> dict[str, Any]:
        return {
            "deploymentId": self.deployment_id,
            "command": self.command,
            "cwd": self.cwd,
            "env": self.env,
            "port": self.port,
            "logPath": self.log_path,
            "runtimeKind": self.runtime_kind,
        }

    def view(self) -> dict[str, Any]:
        return {
            "deploymentId": self.deployment_id,
            "pid": self.pid if self.state != "stopped" else None,
            "port": self.port,
            "state": self.state,
            "restarts": self.restarts,
            "lastExitCode": self.last_exit_code,
            "startedAt": self.started_at,
            "logPath": self.log_path,
            "runtimeKind": self.runtime_kind,
            "connections": self.connections,
        }


async def _spawn(inst: Instance) -> None:
    log = open(inst.log_path, "ab", buffering=0)  # noqa: SIM115 - owned by the child process
    inst.spawning = True
    try:
        inst.proc = await asyncio.create_subprocess_exec(
            "/bin/sh",
            "-c",
            inst.command,
            cwd=inst.cwd,
            env=inst.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    finally:
        inst.spawning = False
        log.close()
    inst.pid, inst.pid_start = inst.proc.pid, started(inst.proc.pid) or ""
    inst.started_at = time.time()
    inst.state = "running"
    inst.spawned()


def started(pid: int) -> str | None:
    """The start time of a live process (field 22 of /proc/PID/stat); None when it is gone or a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] in ("Z", "X") else fields[19]


async def _pid_exit(pid: int) -> None:
    """Until a process that is not our child exits (a pidfd turns readable)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    loop = asyncio.get_running_loop()
    gone: asyncio.Future[None] = loop.create_future()
    loop.add_reader(fd, lambda: gone.done() or gone.set_result(None))
    try:
        if started(pid) is not None:  # a zombie's pidfd is readable too, but say so plainly
            await gone
    finally:
        loop.remove_reader(fd)
        os.close(fd)


async def exited(inst: Instance) -> int | None:
    """Until the instance's process exits: its exit code (None for an adopted one: not ours to reap)."""
    if inst.proc is not None:
        return await inst.proc.wait()
    if inst.pid is not None:
        await _pid_exit(inst.pid)
    return None


async def supervise(inst: Instance, adopted: bool = False) -> None:
    """Run the instance (or watch the adopted one); when it exits on its own, start it again after a
    growing pause."""
    backoff = BACKOFF_START_S
    while not inst.stopping:
        try:
            if not adopted:
                await _spawn(inst)
            adopted = False
        except OSError as exc:
            inst.state, inst.last_exit_code = "crashed", None
            with open(inst.log_path, "a") as log:
                log.write(f"[dockyard] could not start: {exc}\n")
        else:
            inst.last_exit_code = await exited(inst)
            if inst.stopping:
                break
            inst.state = "crashed"
            if time.time() - inst.started_at > STABLE_AFTER_S:
                backoff = BACKOFF_START_S
        inst.restarts += 1
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, BACKOFF_MAX_S)
    inst.state = "stopped"


async def stop(inst: Instance) -> None:
    inst.stopping = True
    # A process being created now would outlive a task canceled mid-creation: let it exist first.
    deadline = time.monotonic() + SPAWN_WAIT_S
    while inst.spawning and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    running = inst.proc.returncode is None if inst.proc else started(inst.pid or 0) == inst.pid_start
    if inst.pid is not None and running:
        for sig, wait in ((signal.SIGTERM, STOP_GRACE_S), (signal.SIGKILL, STOP_GRACE_S)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(inst.pid, sig)
            try:
                await asyncio.wait_for(exited(inst), wait)
                break
            except TimeoutError:
                continue
    if inst.task:
        inst.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await inst.task
    inst.state = "stopped"


def instance_of(spec: dict[str, Any]) -> Instance:
    return Instance(
        spec["deploymentId"],
        spec["command"],
        spec["cwd"],
        spec["env"],
        spec["port"],
        spec["logPath"],
        spec.get("runtimeKind", "host-process"),
    )


async def spawned(inst: Instance) -> None:
    """Wait (briefly) until the process exists, so a reply shows `running` rather than `starting`."""
    deadline = time.monotonic() + SPAWN_WAIT_S
    while inst.state == "starting" and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
