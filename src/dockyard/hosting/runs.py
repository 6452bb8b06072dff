"""Server runs: one boot of a session member's server, owned by a task in the gateway's task group.

A slot boots a run on the first call that needs the server, hands calls to it, shuts it down after
the idle timeout (the next call boots a new run), and records the run's status, times, stderr lines
(as log events) and failure (with the last stderr lines) in the store.
"""

import logging
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from anyio.abc import TaskGroup, TaskStatus
from mcp import ClientSession
from mcp.shared.exceptions import MCPError
from mcp_types import CONNECTION_CLOSED, INTERNAL_ERROR

from dockyard.domain.ids import new_id
from dockyard.hosting.launch import connect
from dockyard.hosting.launch_failures import describe, no_answer
from dockyard.hosting.session_spec import Member
from dockyard.hosting.sources import masker
from dockyard.hosting.usage import UsageCounter
from dockyard.operations.context import utc_now
from dockyard.secrets.masking import Masker
from dockyard.services import Services
from dockyard.store.mcp_tables import McpRunLog, McpServerRun

log = logging.getLogger("dockyard.mcp.runs")
TAIL_LINES = 20
MAX_LINE = 4000


class RunLog:
    """The run's log events, written from any thread (stderr arrives on a pump thread)."""

    def __init__(self, svc: Services, run_id: str, mask: Masker) -> None:
        self.svc, self.run_id, self.mask = svc, run_id, mask
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self._seq = 0
        self._lock = threading.Lock()

    def write(self, line: str, stream: str = "stderr") -> None:
        line = self.mask(line)
        if stream == "stderr":
            self.tail.append(line)
        with self._lock:
            self._seq += 1
            seq = self._seq
        try:
            with self.svc.db.session() as s:
                s.add(
                    McpRunLog(
                        run_id=self.run_id,
                        sequence=seq,
                        timestamp=utc_now(),
                        stream=stream,
                        message=line[:MAX_LINE],
                    )
                )
        except Exception:  # a log line must never take the run down
            log.exception("writing a log line of run %s failed", self.run_id)


class ActiveRun:
    def __init__(self, svc: Services, member: Member) -> None:
        self.id = new_id("server_run")
        self.member = member
        self.log = RunLog(svc, self.id, masker(member.source, member.inputs))
        self.client: ClientSession | None = None
        self.stop = anyio.Event()
        self.in_flight = 0
        self.last_activity = time.monotonic()
        self.failure: dict[str, Any] | None = None

    def touch(self) -> None:
        self.last_activity = time.monotonic()

    def fail(self, code: str, message: str) -> None:
        if self.failure is None:
            self.failure = {"code": code, "message": message, "last_stderr_lines": list(self.log.tail)}


class RunSlot:
    """The runs of one server session: at most one active at a time."""

    def __init__(self, svc: Services, tasks: TaskGroup, usage: UsageCounter, member: Member) -> None:
        self.svc, self.tasks, self.usage, self.member = svc, tasks, usage, member
        self.active: ActiveRun | None = None
        self._lock = anyio.Lock()

    async def call(self, request: Callable[[ClientSession], Awaitable[Any]]) -> Any:
        """Send one request to the server (booting a run when none is active)."""
        run = await self._acquire()
        timeout = self.svc.settings.mcp_call_timeout_s
        try:
            with anyio.fail_after(timeout):
                result = await request(run.client)  # type: ignore[arg-type]
        except MCPError as exc:
            if exc.error.code != CONNECTION_CLOSED:
                raise  # the server answered with an error: the run is fine
            await self._crashed(run, "the server closed the connection during the call")
        except TimeoutError:
            reason = no_answer("the request", timeout, "DOCKYARD_MCP_CALL_TIMEOUT_S")
            await self._crashed(run, reason, "call_timed_out")
        except Exception as exc:
            await self._crashed(run, describe(exc))
        finally:
            run.in_flight -= 1
            run.touch()
        self.usage.add("run", run.id)
        return result

    async def _crashed(self, run: ActiveRun, reason: str, code: str = "server_crashed") -> None:
        """The run is dead or hung: record why, stop it (the next call boots a new run), tell the client."""
        await anyio.sleep(0.1)  # let the pump thread catch the server's last stderr lines
        run.fail(code, reason)
        await self._retire(run)
        tail = " | ".join(run.log.tail) or "no stderr output"
        raise MCPError(
            INTERNAL_ERROR, f"The MCP server failed during the call ({reason}); last stderr: {tail}"
        )

    async def _retire(self, run: ActiveRun) -> None:
        async with self._lock:
            if self.active is run:
                self.active = None
        run.stop.set()

    async def _acquire(self) -> ActiveRun:
        async with self._lock:
            run = self.active
            if run is None or run.stop.is_set():
                run = await self._boot()
                self.active = run
            run.in_flight += 1
            run.touch()
            return run

    async def _boot(self) -> ActiveRun:
        run = ActiveRun(self.svc, self.member)
        await anyio.to_thread.run_sync(self._record_start, run)
        timeout = self.svc.settings.mcp_discovery_timeout_s
        try:
            with anyio.fail_after(timeout):  # cancels the booting task too
                await self.tasks.start(self._own, run)
        except Exception as exc:
            if isinstance(exc, TimeoutError):
                why = no_answer("initialize", timeout, "DOCKYARD_MCP_DISCOVERY_TIMEOUT_S")
                run.fail("boot_timed_out", why)
            else:
                why = describe(exc)
                run.fail("boot_failed", why)
            await anyio.to_thread.run_sync(self._record_end, run)
            tail = " | ".join(run.log.tail) or "no stderr output"
            message = f"The MCP server could not start ({why}); last stderr: {tail}"
            raise MCPError(INTERNAL_ERROR, message) from exc
        self.tasks.start_soon(self._watch_idle, run)
        return run

    async def _own(self, run: ActiveRun, *, task_status: TaskStatus[None]) -> None:
        started = False
        try:
            async with connect(
                self.member.source,
                self.member.inputs,
                stderr=run.log.write,
                data_dir=self.svc.settings.data_dir,
                egress=self.svc.settings.egress_policy(),
            ) as (client, init):
                run.client = client
                info = init.server_info
                run.log.write(
                    f"connected: {info.name} {info.version}, protocol {init.protocol_version}", "gateway"
                )
                started = True
                task_status.started()
                await run.stop.wait()
        except BaseException as exc:
            if not started:
                raise
            if not isinstance(exc, anyio.get_cancelled_exc_class()):
                run.fail("run_failed", describe(exc))
                log.warning("run %s ended with %s", run.id, describe(exc))
        finally:
            if started:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(self._record_end, run)

    async def _watch_idle(self, run: ActiveRun) -> None:
        timeout = self.svc.settings.mcp_idle_timeout_s
        while not run.stop.is_set():
            async with self._lock:
                idle = time.monotonic() - run.last_activity
                if run.in_flight == 0 and idle >= timeout:
                    if self.active is run:
                        self.active = None
                    run.log.write(f"idle for {timeout:g} s: shutting the run down", "gateway")
                    run.stop.set()
                    return
            with anyio.move_on_after(max(0.05, timeout - idle)):
                await run.stop.wait()

    def _record_start(self, run: ActiveRun) -> None:
        now = utc_now()
        with self.svc.db.session() as s:
            s.add(
                McpServerRun(
                    id=run.id,
                    server_session_id=self.member.server_session_id,
                    provider_version_id=self.member.provider_version_id,
                    type=self.member.run_type,
                    status="active",
                    client_message_count=0,
                    server_message_count=0,
                    started_at=now,
                    created_at=now,
                    updated_at=now,
                )
            )

    def _record_end(self, run: ActiveRun) -> None:
        self.usage.flush()
        now = utc_now()
        with self.svc.db.session() as s:
            row = s.get(McpServerRun, run.id)
            row.status = "failed" if run.failure else "completed"
            row.failure, row.stopped_at, row.updated_at = run.failure, now, now
        log.info("run %s %s", run.id, "failed" if run.failure else "completed")

    async def close(self) -> None:
        run = self.active
        if run is not None:
            await self._retire(run)
