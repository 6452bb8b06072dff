"""The monitor: every DOCKYARD_MONITOR_INTERVAL_S (default 15 s) it starts the process supervisor
again if it is gone, and samples each deployed resource —
the runner's view of its live instance, one health check through its live port, CPU and memory —
and keeps a health observation and a runtime sample (24 h of them).

CPU and memory of a host process are those of its process group (/proc); of a container, the
engine's figures for it.
"""

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import delete, select

from dockyard.domain import health
from dockyard.domain.ids import new_id
from dockyard.domain.profiles import HealthCheck
from dockyard.operations.context import iso, utc_now
from dockyard.operations.deployments.rollups import newest
from dockyard.operations.resources import access_failures, edge_failures, public_access
from dockyard.operations.resources.access_models import AccessFailure
from dockyard.operations.resources.control_models import attempt_of
from dockyard.operations.resources.health_models import (
    Check,
    HealthLatestDeployment,
    HealthPolicyView,
    LastError,
    ProxyView,
    ResourceHealth,
    RuntimeHealth,
    SourceError,
)
from dockyard.operations.resources.route_intent import RouteRow, RouteSetting, route_rows
from dockyard.services import Services
from dockyard.store.tables import Deployment, HealthObservation, Resource, RuntimeSample, Server
from dockyard.work.host_metrics import read_host

log = logging.getLogger("dockyard.monitor")
RETENTION_HOURS = 24
CHECK_TIMEOUT_S = 2.0
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def process_groups() -> dict[int, tuple[float, int]]:
    """CPU seconds and resident bytes of every process group on this machine (one /proc scan)."""
    groups: dict[int, tuple[float, int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        pgrp, cpu, rss = int(fields[2]), (int(fields[11]) + int(fields[12])) / CLK_TCK, int(fields[21]) * PAGE
        seen = groups.get(pgrp, (0.0, 0))
        groups[pgrp] = (seen[0] + cpu, seen[1] + rss)
    return groups


def container_usage(deployment_id: str) -> tuple[float | None, int | None]:
    """(CPU percent, memory bytes) of a deployment's container, from the engine."""
    from dockyard.runtimes import engine

    stats = engine.connect().api.stats(f"dockyard-{deployment_id.lower()}", stream=False)
    memory = (stats.get("memory_stats") or {}).get("usage")
    cpu, pre = stats.get("cpu_stats") or {}, stats.get("precpu_stats") or {}
    used = (cpu.get("cpu_usage") or {}).get("total_usage", 0) - (pre.get("cpu_usage") or {}).get(
        "total_usage", 0
    )
    system = (cpu.get("system_cpu_usage") or 0) - (pre.get("system_cpu_usage") or 0)
    cores = cpu.get("online_cpus") or os.cpu_count() or 1
    percent = round(used / system * cores * 100, 2) if system > 0 and used >= 0 else None
    return percent, memory


def _check(policy: HealthCheck, front_port: int | None, now: str) -> Check:
    http = policy.http
    if not policy.enabled or policy.type == "none" or http is None or http.port or front_port is None:
        return Check(name="health-check", target="health-check", status="skipped", observed_at=now)
    started = time.monotonic()
    url = f"{http.scheme}://127.0.0.1:{front_port}{http.path}"
    try:
        resp = httpx.request(
            http.method, url, timeout=min(policy.timeout_seconds, CHECK_TIMEOUT_S), verify=False
        )
    except httpx.HTTPError as exc:
        return Check(
            name="health-check",
            target="health-check",
            status="failed",
            observed_at=now,
            duration_ms=int((time.monotonic() - started) * 1000),
            message=f"{http.method} {http.path}: {type(exc).__name__}",
            reason_code="health-check-unreachable",
            phase="http-request",
            retriable=True,
            metadata={"method": http.method, "path": http.path},
        )
    from dockyard.pipeline.verify import passes

    ok = passes(resp, http)
    return Check(
        name="health-check",
        target="health-check",
        status="passed" if ok else "failed",
        observed_at=now,
        duration_ms=int((time.monotonic() - started) * 1000),
        status_code=resp.status_code,
        message=f"{http.method} {http.path} answered {resp.status_code}",
        reason_code=None if ok else "health-check-failed",
        phase="http-response",
        retriable=not ok,
        metadata={"method": http.method, "path": http.path},
    )


def _policy_view(raw: dict | None) -> HealthPolicyView:
    policy = HealthCheck.model_validate(raw or {})
    status = (
        "disabled" if not policy.enabled or policy.type == "none" else ("configured" if raw else "default")
    )
    return HealthPolicyView(
        status=status,  # type: ignore[arg-type]
        enabled=policy.enabled,
        type=policy.type,
        path=policy.http.path if policy.http else None,
        port=policy.http.port if policy.http else None,
        expected_status_code=policy.http.expected_status_code if policy.http else None,
        interval_seconds=policy.interval_seconds,
        timeout_seconds=policy.timeout_seconds,
        retries=policy.retries,
        start_period_seconds=policy.start_period_seconds,
    )


def _latest(dep: Deployment | None) -> HealthLatestDeployment | None:
    if dep is None:
        return None
    failure = dep.failure or {}
    return HealthLatestDeployment(
        id=dep.id,
        status=dep.status,
        created_at=dep.created_at,
        started_at=dep.started_at,
        finished_at=dep.finished_at,
        server_id=dep.server_id,
        destination_id=dep.destination_id,
        last_error=LastError(
            timestamp=dep.finished_at, phase=failure.get("phase"), message=failure["message"]
        )
        if failure.get("message") and dep.status != "succeeded"
        else None,
    )


@dataclass(frozen=True)
class Facts:
    """What the store says about one resource, read in one session."""

    resource_id: str
    project_id: str
    environment_id: str
    latest: Deployment | None
    live: Deployment | None
    edge: dict
    health_policy: dict | None
    routes: list[RouteRow] = field(default_factory=list)
    access_failure: AccessFailure | None = None
    runtime_control: dict | None = None  # the resource's latest stop/start/restart


def facts(session, resource: Resource) -> Facts:  # type: ignore[no-untyped-def]
    live = newest(session, resource.id, Deployment.status == "succeeded")
    latest = newest(session, resource.id)
    server = session.get(Server, (live or latest).server_id) if (live or latest) else None
    policy = (live.source_snapshot or {}).get("healthPolicy") if live else resource.health_policy
    return Facts(
        resource.id,
        resource.project_id,
        resource.environment_id,
        latest,
        live,
        dict(server.edge_proxy or {}) if server else {},
        policy,
        route_rows(session, resource.id),
        access_failures.latest(session, [resource.id], utc_now()).get(resource.id),
        resource.latest_runtime_control,
    )


def observe(svc: Services, f: Facts, include_checks: bool = True) -> ResourceHealth:
    """The resource's health now: runner state, one health check through the live port."""
    now = utc_now()
    status = svc.runtime.status(f.resource_id)
    remembered = None if status else svc.runtime.remembered(f.resource_id)
    active = ((status or remembered) or {}).get("active") or {}
    policy = HealthCheck.model_validate(f.health_policy or {})
    deployed = f.live is not None
    checks = [
        Check(
            name="runtime",
            target="runtime",
            status="passed"
            if active.get("state") == "running"
            else ("skipped" if not deployed else "failed"),
            observed_at=now,
            message=f"instance {active.get('state', 'absent')}, {active.get('restarts', 0)} restart(s)",
            phase="runtime-state",
            metadata={
                "state": str(active.get("state", "absent")),
                "restarts": str(active.get("restarts", 0)),
            },
        )
    ]
    check = checks[0]
    if deployed and active.get("state") == "running":
        check = _check(policy, svc.runtime.front_port(f.resource_id), now)
        checks.append(check)
    started = active.get("startedAt")
    verdict = health.judge(
        health.Observed(
            deployed=deployed,
            reachable=status is not None,
            state=active.get("state") if status else None,
            restarts=int(active.get("restarts") or 0),
            uptime_s=time.time() - started if started else None,
            check=check.status if check.target == "health-check" else "skipped",
        )
    )
    state = (f.live.runtime_state or {}) if f.live else {}
    setting = RouteSetting(
        f.live,
        f.edge,
        active.get("state") == "running",
        runtime_health=verdict.runtime_health,
        observed_at=now,
        observation_source="resource-health",
    )
    access, _, _ = public_access.view(f.routes, setting, f.resource_id, f.access_failure)
    if access.status == "ready" and verdict.overall not in ("healthy", "degraded"):
        access = access.model_copy(update={"status": "not-ready", "reason_code": verdict.reason_code})
    kind = f.edge.get("kind", "none")
    return ResourceHealth(
        resource_id=f.resource_id,
        generated_at=now,
        observed_at=now,
        overall=verdict.overall,  # type: ignore[arg-type]
        latest_deployment=_latest(f.latest),
        runtime=RuntimeHealth(
            lifecycle=verdict.lifecycle,  # type: ignore[arg-type]
            health=verdict.runtime_health,  # type: ignore[arg-type]
            observed_at=now,
            runtime_kind=active.get("runtimeKind"),
            reason_code=verdict.reason_code,
            message=checks[-1].message,
            restarts=int(active.get("restarts") or 0),
            deployment_id=active.get("deploymentId"),
        ),
        latest_runtime_control=attempt_of(f.runtime_control),
        health_policy=_policy_view(f.health_policy),
        public_access=access,
        proxy=ProxyView(
            status="not-configured"
            if kind == "none"
            else (
                f.edge.get("status") if f.edge.get("status") in ("ready", "failed", "pending") else "pending"
            ),  # type: ignore[arg-type]
            provider_key=None if kind == "none" else kind,
            last_route_realization_deployment_id=f.live.id if state.get("routedUrl") else None,
            reason_code=f.edge.get("lastErrorCode"),
        ),
        checks=checks if include_checks else [],
        source_errors=[_unreachable(f.live, remembered)] if deployed and status is None else [],
    )


def _unreachable(live: Deployment, remembered: dict[str, Any] | None) -> SourceError:
    """The runner of a deployed resource did not answer: what is shown is what it last saved."""
    # the runner saves what it holds and whether it was stopped on purpose
    last = None if not remembered else "stopped" if remembered.get("stopped") else "running"
    return SourceError(
        source="runtime-target",
        code="runtime-target-unreachable",
        category="runtime",
        phase="runtime-state",
        retriable=True,
        related_entity_id=live.id,
        related_state=last or "unknown",
        message="The resource's runner did not answer, so its state could not be read"
        + (f" (it last held it {last})" if last else "")
        + ". Start it again with resources.runtime-start (`dockyard start`), or read its log.",
    )


CHUNK = 200  # resources read per session


class Monitor:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self._stop = threading.Event()
        self._cpu: dict[str, tuple[float, float]] = {}  # resource → (CPU seconds, wall time) last seen

    def start(self) -> None:
        threading.Thread(target=self._loop, name="dockyard-monitor", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        interval = self.svc.settings.recovery.monitor_interval_s
        while not self._stop.wait(interval):
            try:
                self.tick()
            except Exception:
                log.exception("sampling resources failed; trying again in %.0f s", interval)

    def tick(self) -> int:
        """Sample every deployed resource once; returns how many were sampled."""
        if self.svc.runtime.revive():
            log.warning("the process supervisor was gone: started it again (it adopts running apps)")
        here = self.svc.runtime.known()
        found: list[Facts] = []
        # Only what this machine runs, read in chunks: the store may hold far more deployed resources
        # (other servers, or instances long gone) than one machine's monitor can sample every tick.
        for start in range(0, len(here), CHUNK):
            with self.svc.db.session() as s:
                resources = s.scalars(
                    select(Resource).where(
                        Resource.id.in_(here[start : start + CHUNK]), Resource.deleted_at.is_(None)
                    )
                )
                found += [f for f in (facts(s, r) for r in resources) if f.live is not None]
                s.expunge_all()
        groups = process_groups()
        host = read_host(self.svc.settings.data_dir) if found else None  # one reading per tick
        rows: list = []
        for f in found:
            summary = observe(self.svc, f)
            rows.append(
                HealthObservation(
                    id=new_id("health_observation"),
                    resource_id=f.resource_id,
                    observed_at=summary.observed_at,
                    overall=summary.overall,
                    runtime_lifecycle=summary.runtime.lifecycle,
                    runtime_health=summary.runtime.health,
                    latest_deployment_id=f.latest.id if f.latest else None,
                    summary=summary.model_dump(mode="json", by_alias=True),
                )
            )
            rows.append(self._sample(f, summary, groups, host))
        cutoff = iso(datetime.now(UTC) - timedelta(hours=RETENTION_HOURS))
        with self.svc.db.session() as s:
            s.add_all(rows)
            s.execute(delete(HealthObservation).where(HealthObservation.observed_at < cutoff))
            s.execute(delete(RuntimeSample).where(RuntimeSample.observed_at < cutoff))
            access_failures.forget_expired(s)
            edge_failures.ingest(s, self.svc.settings.data_dir, iso(datetime.now(UTC)))
        return len(found)

    def _sample(
        self,
        f: Facts,
        summary: ResourceHealth,
        groups: dict[int, tuple[float, int]],
        host: dict[str, Any] | None = None,
    ) -> RuntimeSample:
        status = self.svc.runtime.status(f.resource_id) or {}
        active = status.get("active") or {}
        cpu = memory = None
        if active.get("runtimeKind") == "container" and active.get("state") == "running":
            try:
                cpu, memory = container_usage(active["deploymentId"])
            except Exception as exc:  # the engine is away: the sample is partial
                log.debug("no container stats for %s: %s", f.resource_id, exc)
        elif active.get("pid") and active["pid"] in groups:
            seconds, memory = groups[active["pid"]]
            now = time.monotonic()
            before = self._cpu.get(f.resource_id)
            if before and now > before[1] and seconds >= before[0]:
                cpu = round((seconds - before[0]) / (now - before[1]) * 100, 2)
            self._cpu[f.resource_id] = (seconds, now)
        return RuntimeSample(
            id=new_id("runtime_sample"),
            resource_id=f.resource_id,
            project_id=f.project_id,
            environment_id=f.environment_id,
            server_id=f.live.server_id if f.live else None,
            deployment_id=active.get("deploymentId"),
            runtime_kind=active.get("runtimeKind"),
            observed_at=summary.observed_at,
            cpu_percent=cpu,
            memory_bytes=memory,
            restarts=int(active.get("restarts") or 0),
            host=host,
        )
