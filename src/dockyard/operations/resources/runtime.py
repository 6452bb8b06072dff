"""A deployed resource's runtime: stop, start and restart it, and read or follow what it prints.

Controls run synchronously (the resource's runner answers at once) and need a writable resource;
reading needs only a live one. A resource with nothing deployed is refused with a 409 that says how
to deploy. Logs come from the active instance's log file (stdout and stderr together); a cursor is a
byte offset in that file, so a reader resumes exactly where it stopped.
"""

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Literal, get_args

from dockyard.domain.errors import Conflict, DockyardError, NotFound
from dockyard.domain.ids import new_id
from dockyard.operations.catalog import operation
from dockyard.operations.context import Context, utc_now
from dockyard.operations.resources.handlers import load, load_writable
from dockyard.operations.resources.models import ResourceRef
from dockyard.operations.resources.runtime_models import (
    RuntimeControlAttempt,
    RuntimeControlPhase,
    RuntimeLogEnvelope,
    RuntimeLogLine,
    RuntimeLogs,
    RuntimeLogsQuery,
    RuntimeLogsReadQuery,
    RuntimeLogsStreamQuery,
    RuntimeOperation,
    RuntimeState,
)
from dockyard.operations.variables import store as variable_store
from dockyard.runtimes import log_file
from dockyard.runtimes.host_process import HostProcessRuntime, RuntimeUnavailable
from dockyard.runtimes.protocol import LogSource, RuntimeNotDeployed
from dockyard.secrets.masking import NO_MASK, Masker
from dockyard.store.tables import Resource

HEARTBEAT_S = 10.0
MAX_FOLLOW_S = 3600.0
POLL_S = 0.25
SWITCH_CHECK_S = 2.0  # how often a follower looks for a newly promoted deployment
BATCH_LINES = 500
PHASES: dict[str, list[Literal["stop", "start"]]] = {
    "stop": ["stop"],
    "start": ["start"],
    "restart": ["stop", "start"],
}


class RuntimeUnreachable(DockyardError):
    status = 503
    code = "runtime_unavailable"


def not_deployed(resource_id: str) -> Conflict:
    return Conflict(
        f"Resource {resource_id} has no deployed instance to control or read.",
        code="runtime_not_deployed",
        details={"resourceId": resource_id},
        next_action=(
            "Deploy it first: `dockyard up` in its folder, or "
            f"dockyard deployments create --resource-id {resource_id} ..."
        ),
    )


def _unreachable(resource_id: str, exc: Exception) -> RuntimeUnreachable:
    return RuntimeUnreachable(
        f"The runtime of resource {resource_id} did not answer: {exc}",
        details={"resourceId": resource_id},
        next_action="Retry; if it persists, redeploy the resource (dockyard up) and read the server log.",
    )


def _control(ctx: Context, resource_id: str, op: RuntimeOperation) -> RuntimeControlAttempt:
    row = load_writable(ctx, resource_id)
    started = utc_now()
    runtime = ctx.svc.runtime
    try:
        status = {"stop": runtime.stop, "start": runtime.start, "restart": runtime.restart}[op](row.id)
    except RuntimeNotDeployed:
        raise not_deployed(row.id) from None
    except (RuntimeUnavailable, OSError, ValueError) as exc:
        raise _unreachable(row.id, exc) from None
    active = status.get("active") or {}
    state: RuntimeState = active["state"] if active.get("state") in get_args(RuntimeState) else "unknown"
    # The runner waits for the process to exist; one that could not even be spawned is `crashed`.
    failed = op != "stop" and state == "crashed"
    phases = [RuntimeControlPhase(phase=p, status="succeeded") for p in PHASES[op]]
    if failed:
        phases[-1] = RuntimeControlPhase(phase="start", status="failed", error_code="runtime-start-failed")
    attempt = RuntimeControlAttempt(
        runtime_control_attempt_id=new_id("runtime_control"),
        resource_id=row.id,
        deployment_id=active.get("deploymentId"),
        operation=op,
        status="failed" if failed else "succeeded",
        started_at=started,
        completed_at=utc_now(),
        runtime_state=state,
        error_code="runtime-start-failed" if failed else None,
        phases=phases,
    )
    row.latest_runtime_control = attempt.model_dump(mode="json", by_alias=True)
    return attempt


@operation("resources.runtime-stop", "POST", "/resources/{resourceId}/runtime/stop")
def stop_runtime(ctx: Context, inp: ResourceRef) -> RuntimeControlAttempt:
    """Stop a deployed resource's process; its URL refuses connections until it is started again."""
    return _control(ctx, inp.resource_id, "stop")


@operation("resources.runtime-start", "POST", "/resources/{resourceId}/runtime/start")
def start_runtime(ctx: Context, inp: ResourceRef) -> RuntimeControlAttempt:
    """Start a stopped resource's process again (nothing happens when it runs)."""
    return _control(ctx, inp.resource_id, "start")


@operation("resources.runtime-restart", "POST", "/resources/{resourceId}/runtime/restart")
def restart_runtime(ctx: Context, inp: ResourceRef) -> RuntimeControlAttempt:
    """Restart a deployed resource's process (a stopped one starts); its restart count starts over."""
    return _control(ctx, inp.resource_id, "restart")


# -- logs --------------------------------------------------------------------------------------------


def _service(row: Resource, wanted: str | None) -> str:
    """The service whose process runs: the resource's first (one process per resource for now)."""
    running = ((row.services or [{}])[0] or {}).get("name") or "web"
    if wanted is not None and wanted != running:
        raise NotFound(
            f"Resource {row.id} runs service {running!r}, not {wanted!r}.",
            code="runtime_service_not_found",
            details={"resourceId": row.id, "serviceName": wanted, "running": [running]},
            next_action=f"Pass serviceName={running}, or leave it out.",
        )
    return running


def _masker(ctx: Context, row: Resource, deployment_id: str | None) -> Masker:
    return variable_store.resource_masker(ctx, row, deployment_id)


def _source(ctx: Context, inp: RuntimeLogsQuery) -> tuple[Resource, LogSource, str]:
    row = load(ctx, inp.resource_id)
    service = _service(row, inp.service_name)
    try:
        src = ctx.svc.runtime.log_source(row.id, inp.deployment_id)
    except (RuntimeUnavailable, OSError, ValueError) as exc:
        raise _unreachable(row.id, exc) from None
    if src is None and inp.deployment_id:
        raise NotFound(
            f"Deployment {inp.deployment_id} has no running instance on resource {row.id}.",
            code="runtime_instance_not_found",
            details={"resourceId": row.id, "deploymentId": inp.deployment_id},
            next_action=(
                f"Leave deploymentId out to read what runs now, or read that deployment's own log: "
                f"dockyard deployments logs {inp.deployment_id}"
            ),
        )
    if src is None:
        raise not_deployed(row.id)
    return row, src, service


def _since(inp: RuntimeLogsQuery) -> float:
    if inp.since is None:
        return 0.0
    when = datetime.fromisoformat(inp.since)
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _line(resource_id: str, src: LogSource, service: str, raw: log_file.Line) -> RuntimeLogLine:
    return RuntimeLogLine(
        resource_id=resource_id,
        deployment_id=src.deployment_id,
        service_name=service,
        runtime_kind=src.runtime_kind,
        runtime_instance_id=src.deployment_id,  # one instance per deployment in this runtime
        stream="stdout",
        timestamp=_iso(raw.written_at),
        sequence=raw.offset,
        cursor=str(raw.end),
        message=raw.text,
        masked=raw.masked,
    )


def _history(src: LogSource, inp: RuntimeLogsQuery, mask: Masker) -> tuple[list[log_file.Line], int]:
    """The lines asked for (last N, or up to N after the cursor), masked, and the offset after them."""
    try:
        if inp.cursor is not None:
            raws, resume = log_file.read_after(src.path, int(inp.cursor), inp.tail_lines, time.time(), mask)
        else:
            raws, resume = log_file.tail(src.path, inp.tail_lines, time.time(), mask)
    except FileNotFoundError:  # nothing printed yet
        return [], int(inp.cursor or 0)
    since = _since(inp)
    return [r for r in raws if r.written_at >= since], resume


@operation(
    "resources.runtime-logs",
    "GET",
    "/resources/{resourceId}/runtime-logs",
    follow_with="resources.runtime-logs-stream",
)
def runtime_logs(ctx: Context, inp: RuntimeLogsReadQuery) -> RuntimeLogs:
    """Read what a deployed resource's process printed: the last lines, or those after a cursor."""
    row, src, service = _source(ctx, inp)
    raws, resume = _history(src, inp, _masker(ctx, row, src.deployment_id))
    return RuntimeLogs(
        resource_id=row.id,
        deployment_id=src.deployment_id,
        logs=[_line(row.id, src, service, r) for r in raws],
        cursor=str(resume),
    )


@operation("resources.runtime-logs-stream", "GET", "/resources/{resourceId}/runtime-logs/stream", stream=True)
def stream_runtime_logs(ctx: Context, inp: RuntimeLogsStreamQuery) -> Iterator[RuntimeLogEnvelope]:
    """Follow what a deployed resource's process prints, live (server-sent events)."""
    row, src, service = _source(ctx, inp)
    mask = _masker(ctx, row, src.deployment_id)
    raws, resume = _history(src, inp, mask)
    history = [_line(row.id, src, service, r) for r in raws]
    svc = ctx.svc

    def mask_for(deployment_id: str) -> Masker:  # the stream outlives the request's session
        with svc.db.session() as session:
            fresh = Context(session=session, settings=svc.settings, services=svc)
            return _masker(fresh, load(fresh, row.id), deployment_id)

    return follow(
        ctx.svc.runtime,
        row.id,
        service,
        src,
        history,
        resume,
        pinned=inp.deployment_id is not None,
        since=_since(inp),
        keep_following=inp.follow,
        mask=mask,
        mask_for=mask_for,
    )


def follow(
    runtime: HostProcessRuntime,
    resource_id: str,
    service: str,
    src: LogSource,
    history: list[RuntimeLogLine],
    offset: int,
    *,
    pinned: bool,
    since: float = 0.0,
    keep_following: bool = True,
    mask: Masker = NO_MASK,
    mask_for: Callable[[str], Masker] | None = None,
) -> Iterator[RuntimeLogEnvelope]:
    """The history, then new lines as they are appended; a heartbeat while nothing comes.

    Unless pinned to a deployment, it moves to the new instance's log when another is promoted.
    Ends after MAX_FOLLOW_S with a `closed` item whose cursor resumes where it stopped.
    """
    for line in history:
        yield RuntimeLogEnvelope(kind="log", log=line, cursor=line.cursor)
    started = last_sent = last_check = time.monotonic()
    while keep_following and time.monotonic() - started < MAX_FOLLOW_S:
        try:
            raws, offset = log_file.read_after(src.path, offset, BATCH_LINES, time.time(), mask)
        except OSError:
            raws = []
        for raw in raws:
            if raw.written_at >= since:
                line = _line(resource_id, src, service, raw)
                yield RuntimeLogEnvelope(kind="log", log=line, cursor=line.cursor)
        now = time.monotonic()
        if raws:
            last_sent = now
            continue
        if not pinned and now - last_check >= SWITCH_CHECK_S:
            last_check = now
            newer = _current(runtime, resource_id)
            if newer is not None and newer.deployment_id != src.deployment_id:
                src, offset = newer, 0
                mask = mask_for(src.deployment_id) if mask_for else mask
                continue
        if now - last_sent >= HEARTBEAT_S:
            last_sent = now
            yield RuntimeLogEnvelope(kind="heartbeat", cursor=str(offset))
        time.sleep(POLL_S)
    yield RuntimeLogEnvelope(kind="closed", cursor=str(offset))


def _current(runtime: HostProcessRuntime, resource_id: str) -> LogSource | None:
    try:
        return runtime.log_source(resource_id)
    except (RuntimeUnavailable, OSError, ValueError):
        return None
