"""Resource health and runtime monitoring: the latest observation of a resource (or a live one), its
history over a window, and the CPU / memory samples the monitor keeps, raw or rolled up per bucket
with deployment markers. Reads only: nothing here touches a runtime.
"""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from dockyard.domain.profiles import HealthCheck
from dockyard.operations.catalog import operation
from dockyard.operations.context import Context, iso, seconds_since
from dockyard.operations.resources import access_failures, public_access
from dockyard.operations.resources.control_models import attempt_of
from dockyard.operations.resources.handlers import load as load_resource
from dockyard.operations.resources.health_models import (
    COLLECTED,
    Contributor,
    Cpu,
    Disk,
    HealthHistory,
    HealthQuery,
    HistoryQuery,
    Inode,
    Marker,
    Memory,
    MonitoringQuery,
    Network,
    Observation,
    Point,
    ResourceHealth,
    Retention,
    RollupOut,
    RollupQuery,
    Sample,
    SamplesOut,
    SamplesQuery,
    ScopeEvidence,
    Series,
    SourceError,
    Totals,
    Warning_,
    Window,
)
from dockyard.operations.resources.route_intent import RouteSetting, selected
from dockyard.store.tables import Deployment, HealthObservation, RuntimeSample
from dockyard.work.monitor import RETENTION_HOURS, facts, observe

BUCKETS = {"minute": 60, "five-minute": 300, "hour": 3600}
FRESH_S = 120
PROBE_TIMEOUT_S = 10.0


@operation("resources.health", "GET", "/resources/{resourceId}/health")
def resource_health(ctx: Context, inp: HealthQuery) -> ResourceHealth:
    """Read a resource's health: the monitor's latest observation, or a live one (mode=live or
    includeRuntimeProbe=true)."""
    row = load_resource(ctx, inp.resource_id)
    unreadable: list[SourceError] = []
    if inp.mode == "cached" and not (inp.include_runtime_probe or inp.include_public_access_probe):
        latest = ctx.session.scalars(
            select(HealthObservation)
            .where(HealthObservation.resource_id == row.id)
            .order_by(HealthObservation.id.desc())
            .limit(1)
        ).first()
        cached = _stored(latest, unreadable) if latest is not None else None
        if cached is not None:
            failure = access_failures.latest(ctx.session, [row.id], ctx.now).get(row.id)
            access = cached.public_access.model_copy(update={"latest_access_failure": failure})
            return cached.model_copy(
                update={
                    "generated_at": ctx.now,
                    "checks": cached.checks if inp.include_checks else [],
                    "public_access": access,
                    "latest_runtime_control": attempt_of(row.latest_runtime_control),
                }
            )
    f = facts(ctx.session, row)
    found = observe(ctx.svc, f, inp.include_checks)
    if unreadable:  # the stored observation could not be read: this one is live instead
        found = found.model_copy(update={"source_errors": [*found.source_errors, *unreadable]})
    intent = found.public_access.route_intent_status
    if not inp.include_public_access_probe or intent is None:
        return found
    setting = RouteSetting(f.live, f.edge, found.runtime.lifecycle == "running")
    timeout = min(HealthCheck.model_validate(f.health_policy or {}).timeout_seconds, PROBE_TIMEOUT_S)
    access = public_access.probed(
        ctx.session,
        ctx.svc.runtime,
        found.public_access,
        selected(f.routes, f.live, f.resource_id),
        intent,
        setting,
        ctx.now,
        timeout,
    )
    return found.model_copy(update={"public_access": access})


def _stored(row: HealthObservation, errors: list[SourceError]) -> ResourceHealth | None:
    """A stored observation's summary, or None with a source error when it no longer reads (written
    by another version of Dockyard, or damaged)."""
    try:
        return ResourceHealth.model_validate(row.summary)
    except ValidationError:
        errors.append(
            SourceError(
                source="monitoring-store",
                code="observation-unreadable",
                category="monitoring",
                phase="read-observation",
                retriable=False,
                related_entity_id=row.id,
                related_state=row.overall,
                message=f"The stored health observation {row.id} ({row.observed_at}) could not be read "
                "and is left out; the monitor's next observations replace it.",
            )
        )
        return None


def _window(ctx: Context, inp: Window, default_hours: float = RETENTION_HOURS) -> tuple[str, str]:
    to = inp.window_to or datetime.now(UTC)
    start = inp.window_from or to - timedelta(hours=default_hours)
    return iso(start), iso(to)


@operation("resources.health-history", "GET", "/resources/{resourceId}/health-history")
def health_history(ctx: Context, inp: HistoryQuery) -> HealthHistory:
    """Read a resource's retained health observations in a window (newest first)."""
    row = load_resource(ctx, inp.resource_id)
    start, end = _window(ctx, inp)
    rows = ctx.session.scalars(
        select(HealthObservation)
        .where(
            HealthObservation.resource_id == row.id,
            HealthObservation.observed_at >= start,
            HealthObservation.observed_at <= end,
        )
        .order_by(HealthObservation.id.desc())
        .limit(inp.limit)
    ).all()
    observations = []
    unreadable: list[SourceError] = []
    for o in rows:
        summary = _stored(o, unreadable)
        if summary is None:
            continue
        observations.append(
            Observation(
                observation_id=o.id,
                observed_at=o.observed_at,
                overall=o.overall,  # type: ignore[arg-type]
                runtime_lifecycle=o.runtime_lifecycle,
                runtime_health=o.runtime_health,
                public_access_status=summary.public_access.status,
                proxy_status=summary.proxy.status,
                health_policy_status=summary.health_policy.status,
                latest_deployment_id=o.latest_deployment_id,
                summary=summary,
            )
        )
    return HealthHistory(
        resource_id=row.id,
        from_=start,
        to=end,
        generated_at=ctx.now,
        observations=observations,
        source_errors=unreadable,
    )


# -- runtime monitoring -----------------------------------------------------------------------------


def _scope(inp: MonitoringQuery) -> tuple[dict[str, str], list]:
    """The scope asked for (the narrowest id given), and its filter on samples."""
    pairs = [
        ("deployment", "deploymentId", inp.scope_deployment_id, RuntimeSample.deployment_id),
        ("resource", "resourceId", inp.scope_resource_id, RuntimeSample.resource_id),
        ("environment", "environmentId", inp.scope_environment_id, RuntimeSample.environment_id),
        ("project", "projectId", inp.scope_project_id, RuntimeSample.project_id),
        ("server", "serverId", inp.scope_server_id, RuntimeSample.server_id),
    ]
    for kind, key, value, column in pairs:
        if value:
            return {"kind": kind, key: value}, [column == value]
    return {"kind": inp.scope_kind or "server"}, []


def _samples(
    ctx: Context, inp: MonitoringQuery, limit: int | None
) -> tuple[dict, str, str, list[RuntimeSample]]:
    scope, where = _scope(inp)
    start, end = _window(ctx, inp, 1)
    stmt = (
        select(RuntimeSample)
        .where(*where, RuntimeSample.observed_at >= start, RuntimeSample.observed_at <= end)
        .order_by(RuntimeSample.id.desc())
    )
    rows = list(ctx.session.scalars(stmt.limit(limit) if limit else stmt))
    return scope, start, end, rows


def _retention(rows: list[RuntimeSample]) -> Retention:
    times = sorted(r.observed_at for r in rows)
    return Retention(
        raw_retention_hours=RETENTION_HOURS,
        retained_from=times[0] if times else None,
        retained_to=times[-1] if times else None,
    )


def _freshness(rows: list[RuntimeSample]) -> str:
    if not rows:
        return "empty"
    newest = datetime.fromisoformat(max(r.observed_at for r in rows).replace("Z", "+00:00"))
    return "live" if datetime.now(UTC) - newest < timedelta(seconds=FRESH_S) else "stale"


def _stale(rows: list[RuntimeSample], end: str) -> list[SourceError]:
    """A window reaching now whose newest sample is old: the monitor stopped feeding the store."""
    if _freshness(rows) != "stale" or seconds_since(end) > FRESH_S:
        return []
    newest = max(r.observed_at for r in rows)
    return [
        SourceError(
            source="monitoring-store",
            code="samples-stale",
            category="monitoring",
            phase="collect-samples",
            retriable=True,
            related_state="stale",
            message=f"The newest sample is from {newest}, {int(seconds_since(newest))} s ago: the monitor is "
            "not sampling. It runs inside `dockyard serve`; check that it is running and read its log.",
        )
    ]


DISK_KEYS = [
    ("total_bytes", "totalBytes"),
    ("used_bytes", "usedBytes"),
    ("available_bytes", "availableBytes"),
]


def _mean(values: list[float | int]) -> float | None:
    return sum(values) / len(values) if values else None


def _host_mean(readings: list[dict[str, Any]], part: str, key: str) -> int | None:
    mean = _mean([r[part][key] for r in readings if (r.get(part) or {}).get(key) is not None])
    return None if mean is None else int(mean)


def _totals(rows: list[RuntimeSample], inp: MonitoringQuery) -> Totals:
    """Of the signals asked: the instances' CPU percent and memory (averages over the samples that
    have a figure) and the machine's readings (averages over its distinct readings; network counters
    from the newest)."""
    cpus = [r.cpu_percent for r in rows if r.cpu_percent is not None]
    mems = [r.memory_bytes for r in rows if r.memory_bytes is not None]
    by_moment = {r.observed_at: r.host for r in rows if r.host}  # one reading per monitor tick
    readings = [by_moment[at] for at in sorted(by_moment)]
    loads = [r["loadAverage"] for r in readings if r.get("loadAverage")]
    cpu_percent, used = _mean(cpus), _mean(mems)
    cpu = Cpu(
        logical_cores=readings[-1].get("logicalCores") if readings else None,
        load_average_1m=_rounded(_mean([x[0] for x in loads])),
        load_average_5m=_rounded(_mean([x[1] for x in loads])),
        load_average_15m=_rounded(_mean([x[2] for x in loads])),
        container_cpu_percent=_rounded(cpu_percent),
    )
    memory = Memory(
        total_bytes=_host_mean(readings, "memory", "totalBytes"),
        used_bytes=_host_mean(readings, "memory", "usedBytes"),
        available_bytes=_host_mean(readings, "memory", "availableBytes"),
        container_used_bytes=None if used is None else int(used),
    )
    disk = Disk(**{k: _host_mean(readings, "disk", alias) for k, alias in DISK_KEYS})
    inode = Inode(**{k: _host_mean(readings, "inode", k) for k in ("total", "used", "available")})
    newest = next((r["network"] for r in reversed(readings) if r.get("network")), {})
    network = Network(rx_bytes=newest.get("rxBytes"), tx_bytes=newest.get("txBytes"))
    return Totals(
        cpu=cpu if inp.wants("cpu") else None,
        memory=memory if inp.wants("memory") else None,
        disk=disk if inp.wants("disk") else None,
        inode=inode if inp.wants("inode") else None,
        network=network if inp.wants("network") else None,
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _missing(rows: list[RuntimeSample], inp: MonitoringQuery, scope: dict[str, str]) -> list[Warning_]:
    warnings = [
        Warning_(
            code="signal-not-collected",
            message=f"Dockyard does not sample {signal} yet; it samples {', '.join(COLLECTED)}.",
            signal=signal,
            scope=scope,
        )
        for signal in inp.signals or ()
        if signal not in COLLECTED
    ]
    if not rows:
        message = "No samples in this window for this scope."
        warnings.append(Warning_(code="missing-samples", message=message, scope=scope))
    return warnings


def _lacking(row: RuntimeSample, scope: dict[str, str]) -> list[Warning_]:
    """The readings one sample has not got (the instance answered no CPU or memory figure then)."""
    readings = (("cpu", row.cpu_percent), ("memory", row.memory_bytes))
    return [
        Warning_(
            code="missing-samples",
            message=f"This sample has no {signal} reading.",
            signal=signal,
            scope=scope,
        )
        for signal, value in readings
        if value is None
    ]


@operation("runtime-monitoring.samples", "GET", "/runtime-monitoring/samples")
def list_samples(ctx: Context, inp: SamplesQuery) -> SamplesOut:
    """List the retained CPU and memory samples of a scope (server, project, environment, resource,
    deployment), newest first."""
    scope, start, end, rows = _samples(ctx, inp, inp.limit)
    fresh = _freshness(rows)
    return SamplesOut(
        scope=scope,
        from_=start,
        to=end,
        generated_at=ctx.now,
        freshness=fresh,  # type: ignore[arg-type]
        partial=any(r.cpu_percent is None or r.memory_bytes is None for r in rows),
        retention=_retention(rows),
        samples=[
            Sample(
                sample_id=r.id,
                observed_at=r.observed_at,
                collected_at=r.observed_at,
                scope_evidence=ScopeEvidence(
                    scope=scope,
                    server_id=r.server_id,
                    project_id=r.project_id,
                    environment_id=r.environment_id,
                    resource_id=r.resource_id,
                    deployment_id=r.deployment_id,
                ),
                totals=_totals([r], inp),
                freshness="live" if fresh == "live" else "stale",
                partial=r.cpu_percent is None or r.memory_bytes is None,
                labels={"artifactKind": "active-runtime", "runtimeKind": r.runtime_kind or "unknown"},
                restarts=r.restarts,
                warnings=_lacking(r, scope),
            )
            for r in rows
        ],
        warnings=_missing(rows, inp, scope),
        source_errors=_stale(rows, end),
    )


@operation("runtime-monitoring.rollup", "GET", "/runtime-monitoring/rollup")
def rollup(ctx: Context, inp: RollupQuery) -> RollupOut:
    """Roll a scope's samples up per minute, five minutes or hour, with deployment markers and the
    resources that used most."""
    scope, start, end, rows = _samples(ctx, inp, None)
    width = BUCKETS[inp.bucket]
    buckets: dict[int, list[RuntimeSample]] = defaultdict(list)
    for r in rows:
        at = datetime.fromisoformat(r.observed_at.replace("Z", "+00:00")).timestamp()
        buckets[int(at // width * width)].append(r)

    def point(at: int, members: list[RuntimeSample]) -> Point:
        return Point(
            from_=iso(datetime.fromtimestamp(at, UTC)),
            to=iso(datetime.fromtimestamp(at + width, UTC)),
            sample_count=len(members),
            totals=_totals(members, inp),
        )

    points = [point(at, buckets[at]) for at in sorted(buckets)]
    by_resource: dict[str, list[RuntimeSample]] = defaultdict(list)
    for r in rows:
        by_resource[r.resource_id].append(r)
    contributors = sorted(
        (
            Contributor(
                scope={"kind": "resource", "resourceId": rid}, totals=_totals(m, inp), sample_count=len(m)
            )
            for rid, m in by_resource.items()
        ),
        key=lambda c: -((c.totals.cpu.container_cpu_percent if c.totals.cpu else None) or 0),
    )[:10]
    markers = []
    if inp.include_deployment_markers and by_resource:
        deps = ctx.session.scalars(
            select(Deployment).where(
                Deployment.resource_id.in_(list(by_resource)),
                Deployment.finished_at >= start,
                Deployment.finished_at <= end,
            )
        )
        markers = [
            Marker(
                deployment_id=d.id,
                resource_id=d.resource_id,
                environment_id=d.environment_id,
                observed_at=d.finished_at or d.created_at,
                status=d.status,
                label=f"{d.trigger_kind} {d.status}",
            )
            for d in deps
        ]
    return RollupOut(
        scope=scope,
        from_=start,
        to=end,
        bucket=inp.bucket,
        generated_at=ctx.now,
        freshness=_freshness(rows),  # type: ignore[arg-type]
        partial=any(r.cpu_percent is None or r.memory_bytes is None for r in rows),
        retention=_retention(rows),
        series=[Series(signal=signal, points=points) for signal in COLLECTED if inp.wants(signal)],
        totals=_totals(rows, inp),
        top_contributors=contributors if inp.include_top_contributors else [],
        deployment_markers=markers,
        warnings=_missing(rows, inp, scope),
        source_errors=_stale(rows, end),
    )
