"""The host supervisor: `python -m dockyard.runtimes.supervise ROOT`, one process for every app of a
data dir (ROOT is its `runners` folder, a subfolder per resource).

Detached (its own session), so apps keep serving while `dockyard serve` restarts or is killed. It
holds one Runner per resource (host_runner.py): the resource's stable port, its instances, their
restarts. One interpreter for all of them keeps Dockyard's cost per deployed app small.

The control plane talks to it over ROOT/control.sock, one JSON object per line, each naming its
`resource`. `attach {frontPort}` gives a resource its runner (refused with PORT_TAKEN when the port
is held by something else); `supervisor` answers the pid and the resources held; `quit` ends a
supervisor that holds none; every other op is the resource's runner's (NOT_ATTACHED when it has
none). At start each resource with a saved state
is attached again, and an instance still running from before (the supervisor was killed) is adopted
rather than started twice. The supervisor leaves when its last resource is shut down.
"""

import asyncio
import contextlib
import hashlib
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from dockyard.runtimes import redirect
from dockyard.runtimes.host_runner import PORT_TAKEN, Runner
from dockyard.secrets.files import private_umask

NOT_ATTACHED = "not-attached"
EXIT_ALREADY_RUNNING = 3
STAMP_EVERY_S = 0.5
MAX_SOCKET_PATH = 100  # AF_UNIX paths are limited to 108 bytes


def control_socket(root: Path) -> Path:
    """`ROOT/control.sock`, or for a deep data dir a short path in a private dir under /tmp."""
    sock = root / "control.sock"
    if len(str(sock)) <= MAX_SOCKET_PATH:
        return sock
    short = Path(f"/tmp/dockyard-{os.getuid()}")
    short.mkdir(mode=0o700, exist_ok=True)
    return short / f"{hashlib.sha256(str(root).encode()).hexdigest()[:20]}.sock"


def saved_front_port(state_dir: Path) -> int | None:
    """The front port of a resource that has a saved state to come back to."""
    if not (state_dir / "state.json").exists():
        return None
    try:
        return int((state_dir / "front_port").read_text())
    except (OSError, ValueError):
        return None


class Supervisor:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.runners: dict[str, Runner] = {}
        self.done = asyncio.Event()
        self.applied: dict[int, tuple[str, int]] = {}  # what the kernel was last told
        why_not = redirect.unavailable()
        self.redirects = redirect.Redirects(root) if why_not is None else None
        # shared by every runner's status: how front ports are served, and why
        self.stable_port: dict[str, Any] = {
            "mechanism": redirect.FORWARDER if why_not else redirect.KERNEL_REDIRECT,
            "reason": why_not,
        }

    async def reroute(self) -> None:
        """Point the kernel's redirects at every active instance. Should that fail, the table goes and
        each runner's own listener serves its port (slower, never wrong)."""
        if self.redirects is None:
            return
        routes = {r.front_port: to for r in self.runners.values() if (to := r.route()) is not None}
        self.applied = routes
        try:
            await asyncio.to_thread(self.redirects.apply, routes)
        except (redirect.RedirectFailed, OSError) as exc:
            print(
                f"[dockyard] kernel redirect failed, forwarding instead: {exc}", file=sys.stderr, flush=True
            )
            await asyncio.to_thread(self.redirects.remove)
            self.redirects = None
            self.stable_port.update(mechanism=redirect.FORWARDER, reason=f"nft failed: {exc}")

    async def attach(self, resource_id: str, front_port: int) -> dict[str, Any]:
        found = self.runners.get(resource_id)
        if found is not None:
            return found.status()
        if not resource_id or "/" in resource_id or resource_id.startswith("."):
            return {"error": f"bad resource id {resource_id!r}"}
        runner = Runner(self.root / resource_id, front_port)
        runner.rerouted, runner.stable_port = self.reroute, self.stable_port
        try:
            await runner.listen()
        except OSError as exc:
            return {
                "error": f"cannot listen on 127.0.0.1:{front_port}: {exc.strerror or exc}",
                "code": PORT_TAKEN,
            }
        self.runners[resource_id] = runner
        await self.reroute()
        return runner.status()

    async def restore(self) -> None:
        """Every resource with a saved state gets its runner back (what cannot listen says so)."""
        if self.redirects is not None:
            await asyncio.to_thread(redirect.forget_stale)
        for state_dir in sorted(p for p in self.root.iterdir() if p.is_dir()):
            port = saved_front_port(state_dir)
            if port is not None:
                reply = await self.attach(state_dir.name, port)
                if "error" in reply:
                    print(f"[dockyard] {state_dir.name}: {reply['error']}", file=sys.stderr, flush=True)

    async def command(self, msg: dict[str, Any]) -> dict[str, Any]:
        resource_id = str(msg.get("resource") or "")
        op = msg.get("op")
        if op == "supervisor":
            return {"pid": os.getpid(), "resources": sorted(self.runners)}
        if op == "quit":  # asked when every resource was shut down: leave unless one came since
            if not self.runners:
                self.done.set()
            return {"ok": not self.runners}
        if op == "attach":
            return await self.attach(resource_id, int(msg["frontPort"]))
        runner = self.runners.get(resource_id)
        if runner is None:
            return {"error": f"no runner for {resource_id!r} here", "code": NOT_ATTACHED}
        reply = await runner.command(msg)
        if runner.done.is_set():
            self.runners.pop(resource_id, None)
            await self.reroute()
            if not self.runners:
                self.done.set()
        return reply

    async def control(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                try:
                    reply = await self.command(json.loads(line))
                except (KeyError, ValueError, TypeError) as exc:
                    reply = {"error": f"bad command: {exc}"}
                writer.write(json.dumps(reply).encode() + b"\n")
                await writer.drain()
        finally:
            writer.close()

    async def tend(self) -> None:
        """Every STAMP_EVERY_S: log times recorded; redirects follow a container that came up (or
        came back with another address)."""
        while True:
            for runner in list(self.runners.values()):
                runner.stamp_logs()
            routes = {r.front_port: to for r in self.runners.values() if (to := r.route()) is not None}
            if self.redirects is not None and routes != self.applied:
                await self.reroute()
            await asyncio.sleep(STAMP_EVERY_S)

    async def close(self) -> None:
        """Leaving on purpose: every app stops, and their redirects go."""
        for runner in list(self.runners.values()):
            await runner.close()
        if self.redirects is not None:
            await asyncio.to_thread(self.redirects.remove)


def answers(sock: Path) -> bool:
    """A supervisor listens on `sock` (a socket file left by a dead one refuses the connection)."""
    import socket

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(sock))
        except OSError:
            return False
    return True


async def main(root: Path) -> int:
    supervisor = Supervisor(root)
    sock = control_socket(root)
    if answers(sock):  # two control planes started one each: the first one stays
        print(f"[dockyard] a supervisor already answers on {sock}", file=sys.stderr, flush=True)
        return EXIT_ALREADY_RUNNING
    await supervisor.restore()  # before the control socket answers: no caller sees half a supervisor
    sock.unlink(missing_ok=True)
    control = await asyncio.start_unix_server(supervisor.control, path=str(sock))
    (root / "supervisor.pid").write_text(str(os.getpid()))
    loop = asyncio.get_running_loop()
    stamper = loop.create_task(supervisor.tend())
    loop.add_signal_handler(signal.SIGTERM, supervisor.done.set)
    async with control:
        await supervisor.done.wait()
    stamper.cancel()
    await supervisor.close()
    with contextlib.suppress(OSError):
        if sock.exists() and not supervisor.runners:
            sock.unlink()
    return 0


def run(root: str) -> None:
    """The process's body (started through `dockyard.runtimes.supervise`)."""
    private_umask()  # app logs and state: the owner's only (apps inherit it)
    sys.exit(asyncio.run(main(Path(root))))
