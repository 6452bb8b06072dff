"""One resource's runner, inside the host supervisor (supervisor.py) that holds every resource's.

It owns the resource's processes: it listens on the resource's stable front port and forwards TCP to
the active instance; it starts candidates next to the active one, promotes a verified candidate (new
connections go to it at once, the old instance drains, then stops) and restarts a crashed instance
with backoff. An instance still running when the supervisor comes back (it was killed) is adopted:
watched through a pidfd, never started twice.

Ops: status; start {spec} (a candidate; refused when a newer deployment is already the candidate
or active, so a slow older attempt never replaces a newer one); promote (with `hold`, the old
instance keeps running as `previous` until `confirm` drains it or `revert` makes it active again —
the switch is confirmed through the front port first); discard; stop / start (no spec) / restart
of the active instance; shutdown. A stopped active keeps its spec (and stays stopped across a
runner restart) while the front port closes every new connection.

The front port forwards bytes, not requests (any protocol, no parsing); the one exception is the
first chunk of a connection, compared with `GET PROBE_PATH<token> `: that request is answered by the
runner itself with the deployment the connection was routed to (header DEPLOYMENT_HEADER), so the
control plane can prove that what answers on the port is this runner and this deployment, not
another process that holds the port. The token (random per runner, in `status`) keeps the path
from being the app's to lose or anyone's to read. A runner that cannot listen on its front port
is refused (PORT_TAKEN) before it holds any state.

Each instance's output goes straight to its log file (no pipe through the runner, so an app outlives
a dead runner). To give lines a time, the runner records `SIZE MTIME` in `LOG.times` whenever the
file has grown: a line's time is that of the first record covering its end.
"""

import asyncio
import contextlib
import json
import os
import secrets
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from dockyard.runtimes.instance import Instance, instance_of, spawned, started, stop, supervise
from dockyard.runtimes.protocol import DEPLOYMENT_HEADER, PROBE_PATH
from dockyard.secrets.files import write_private

DRAIN_TIMEOUT_S = 10.0
HOLD_S = 60.0  # a held previous instance is drained anyway when nobody confirms or reverts
NOT_DEPLOYED = "not-deployed"
SUPERSEDED = "superseded"
PORT_TAKEN = "port-taken"


class Runner:
    def __init__(self, state_dir: Path, front_port: int) -> None:
        self.state_dir, self.front_port = state_dir, front_port
        self.active: Instance | None = None
        self.candidate: Instance | None = None
        self.previous: Instance | None = None  # held after a promote until confirm or revert
        self.draining: set[Instance] = set()
        self.done = asyncio.Event()
        self.probe_token = secrets.token_hex(16)
        self.probe_line = f"GET {PROBE_PATH}{self.probe_token} ".encode()
        self.front: asyncio.Server | None = None
        self.rerouted: Callable[[], Awaitable[None]] = _nothing  # the supervisor's: routes changed
        self.stable_port: dict[str, Any] = {"mechanism": "forwarder"}  # how the front port is served

    def route(self) -> tuple[str, int] | None:
        """Where the kernel may send the front port's new connections: the active instance itself
        (a host process's port on 127.0.0.1, a container's own address once it runs), unless it is
        stopped. None: the runner's listener serves (and forwards)."""
        inst = self.active
        if inst is None or inst.stopping:
            return None
        return inst.address()

    async def listen(self) -> None:
        """Take the front port (OSError when something else holds it), then the saved state."""
        self.front = await asyncio.start_server(
            self.forward, "127.0.0.1", self.front_port, reuse_address=True
        )
        self.restore()

    async def close(self) -> None:
        """Let go of the front port and stop every instance (the supervisor is leaving)."""
        if self.front is not None:
            self.front.close()
        for inst in self.everything():
            await stop(inst)

    def everything(self) -> list[Instance]:
        return [i for i in (self.candidate, self.active, self.previous, *self.draining) if i is not None]

    # -- persistence: the active spec (and whether it was stopped) survives a runner restart --
    def save(self) -> None:
        active = self.active
        write_private(  # the spec's environment may hold secret values
            self.state_dir / "state.json",
            json.dumps(
                {
                    "frontPort": self.front_port,
                    "active": active.spec() if active else None,
                    "stopped": bool(active and active.stopping),
                    "pid": active.pid if active else None,
                    "pidStart": active.pid_start if active else "",
                }
            ),
        )

    def restore(self) -> None:
        path = self.state_dir / "state.json"
        if path.exists():
            state = json.loads(path.read_text())
            spec = state.get("active")
            if spec and state.get("stopped"):
                self.active = instance_of(spec)
                self.active.stopping, self.active.state = True, "stopped"
            elif spec:
                pid, pid_start = state.get("pid"), state.get("pidStart")
                alive = isinstance(pid, int) and pid_start and started(pid) == pid_start
                self.active = self._launch(spec, adopt=(pid, pid_start) if alive else None)

    def _launch(self, spec: dict[str, Any], adopt: tuple[int, str] | None = None) -> Instance:
        """A supervised instance of `spec`: started, or `adopt`ed (pid, start time) when it still runs."""
        inst = instance_of(spec)
        inst.spawned = lambda: self.save() if inst is self.active else None
        if adopt:
            (inst.pid, inst.pid_start), inst.state, inst.started_at = adopt, "running", time.time()
        inst.task = asyncio.get_running_loop().create_task(supervise(inst, adopted=bool(adopt)))
        return inst

    async def _relaunch_active(self, why: str) -> None:
        """Replace the active instance by a fresh one of the same spec: counters and backoff reset."""
        assert self.active is not None
        spec = self.active.spec()
        await stop(self.active)
        _note(self.active, why)
        self.active = self._launch(spec)
        self.save()
        await self.rerouted()
        await spawned(self.active)

    # -- commands --
    async def command(self, msg: dict[str, Any]) -> dict[str, Any]:
        op = msg.get("op")
        if op == "status":
            return self.status()
        if op == "start" and "spec" in msg:  # a candidate next to the active instance
            newest = max((i.deployment_id for i in (self.candidate, self.active) if i), default="")
            if msg["spec"]["deploymentId"] < newest:  # ids sort by creation: per-resource order holds
                return {"error": f"a newer deployment ({newest}) is already here", "code": SUPERSEDED}
            # Commands interleave at every await: take the place first, then stop what it replaces.
            old, self.candidate = self.candidate, self._launch(msg["spec"])
            if old:
                await stop(old)
            await spawned(self.candidate)  # a reply saying `starting` would read as not alive
            return self.status()
        if op in ("stop", "start", "restart") and self.active is None:
            return {"error": "no active instance: nothing was deployed here", "code": NOT_DEPLOYED}
        if op == "stop":
            assert self.active is not None
            if not self.active.stopping:
                self.active.stopping = True  # no new connection reaches it from here on
                await self.rerouted()
                await stop(self.active)
                _note(self.active, "stopped on request")
                self.save()
            return self.status()
        if op == "start":
            assert self.active is not None
            if self.active.stopping:
                await self._relaunch_active("starting on request")
            return self.status()
        if op == "promote":
            return await self.promote(msg["deploymentId"], bool(msg.get("hold")))
        if op == "confirm":
            self.release()
            return self.status()
        if op == "revert":
            return await self.revert(msg["deploymentId"])
        if op == "discard":
            found = self.candidate
            if found and found.deployment_id == msg["deploymentId"]:
                self.candidate = None
                await stop(found)
            return self.status()
        if op == "restart":
            await self._relaunch_active("restarting on request")
            return self.status()
        if op == "shutdown":
            await self.close()
            (self.state_dir / "state.json").unlink(missing_ok=True)
            self.done.set()
            return {"ok": True}
        return {"error": f"unknown op {op!r}"}

    async def promote(self, deployment_id: str, hold: bool = False) -> dict[str, Any]:
        if not self.candidate or self.candidate.deployment_id != deployment_id:
            return {"error": f"no candidate {deployment_id}"}
        self.release()  # an earlier switch nobody confirmed
        old, self.active, self.candidate = self.active, self.candidate, None
        self.save()
        await self.rerouted()
        if old and hold:
            self.previous = old
            asyncio.get_running_loop().call_later(HOLD_S, self.release, old)
        elif old:
            asyncio.get_running_loop().create_task(self.drain(old))
        return self.status()

    def release(self, only: Instance | None = None) -> None:
        """The switch stands: drain the held previous instance (if it is still `only`)."""
        old = self.previous
        if old is not None and (only is None or old is only):
            self.previous = None
            asyncio.get_running_loop().create_task(self.drain(old))

    async def revert(self, deployment_id: str) -> dict[str, Any]:
        """The switch to `deployment_id` failed: the held previous instance serves again."""
        if not self.active or self.active.deployment_id != deployment_id:
            return {"error": f"{deployment_id} is not the active instance"}
        failed, self.active, self.previous = self.active, self.previous, None
        self.save()
        await self.rerouted()
        await stop(failed)
        _note(failed, "the switch to this version failed; the previous version serves again")
        return self.status()

    async def drain(self, old: Instance) -> None:
        self.draining.add(old)
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        # connections the forwarder carries, and those the kernel redirected straight to the app
        while (old.connections or old.connected()) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await stop(old)
        self.draining.discard(old)

    def status(self) -> dict[str, Any]:
        return {
            "frontPort": self.front_port,
            "runnerPid": os.getpid(),
            "probeToken": self.probe_token,
            "stablePort": self.stable_port,
            "active": self.active.view() if self.active else None,
            "candidate": self.candidate.view() if self.candidate else None,
            "previous": self.previous.view() if self.previous else None,
            # retired, still finishing the connections they had (the kernel keeps them going there)
            "draining": [i.view() for i in sorted(self.draining, key=lambda i: i.deployment_id)],
        }

    def stamp_logs(self) -> None:
        """Record in LOG.times when each instance's log grew (the time its lines were written)."""
        for inst in self.everything():
            with contextlib.suppress(OSError):
                st = os.stat(inst.log_path)
                if st.st_size > inst.stamped:
                    with open(inst.log_path + ".times", "a") as times:
                        times.write(f"{st.st_size} {st.st_mtime:.3f}\n")
                    inst.stamped = st.st_size

    # -- the front port: plain TCP forwarding to the active instance --
    async def forward(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        inst = self.active
        if inst is None or inst.stopping:  # nothing deployed, or stopped: refuse by closing
            client_w.close()
            return
        inst.connections += 1
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", inst.port)
        except OSError:
            inst.connections -= 1
            client_w.close()
            return
        try:
            await asyncio.gather(self._inbound(inst, client_r, up_w, client_w), _pipe(up_r, client_w))
        finally:
            inst.connections -= 1

    async def _inbound(
        self,
        inst: Instance,
        client_r: asyncio.StreamReader,
        up_w: asyncio.StreamWriter,
        client_w: asyncio.StreamWriter,
    ) -> None:
        """Client → instance, except a first request that is this runner's probe: answered here."""
        try:
            head = await _head(client_r, self.probe_line)
        except (ConnectionError, OSError):
            head = b""
        if not head.startswith(self.probe_line):
            await _pipe(client_r, up_w, head)
            return
        body = json.dumps({"deploymentId": inst.deployment_id, "frontPort": self.front_port}).encode()
        client_w.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"{DEPLOYMENT_HEADER}: {inst.deployment_id}\r\nContent-Length: {len(body)}\r\n".encode()
            + b"Connection: close\r\n\r\n"
            + body
        )
        with contextlib.suppress(Exception):
            await client_w.drain()
        up_w.close()  # the instance's side ends, so does the other direction (which closes the client)


async def _nothing() -> None:
    return None


def _note(inst: Instance, text: str) -> None:
    """A line of Dockyard's own in the instance's log, so its output explains the gap."""
    with contextlib.suppress(OSError), open(inst.log_path, "a") as log:
        log.write(f"[dockyard] {text}\n")


async def _head(reader: asyncio.StreamReader, probe: bytes) -> bytes:
    """The first bytes of a connection, enough to tell whether they are `probe` (one read, nearly always)."""
    data = await reader.read(65536)
    while data and len(data) < len(probe) and probe.startswith(data):
        more = await reader.read(65536)
        if not more:
            break
        data += more
    return data


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, first: bytes = b"") -> None:
    try:
        if first:
            writer.write(first)
            await writer.drain()
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()
