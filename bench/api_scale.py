"""API latency at two store sizes, and the idle memory of `dockyard serve` (issue 2).

For each size (default 100 and 100,000 resources) a fresh data dir is migrated with
`dockyard.startup.prepare`, filled with rows by bulk SQLAlchemy Core inserts (10 projects x 2
environments, one succeeded deployment per resource), and served by the real `dockyard serve`
on a free loopback port. The endpoints are then timed one after the other, sequentially, over one
keep-alive connection. The script prints medians and p95s, the 100k/100 ratios, the server's
idle RSS, and PASS/MISS against the targets: ratio <= 1.3, a page <= 10 ms median, idle RSS <= 60 MB,
one deployment's detail <= 15 ms median at the largest size.
Endpoints marked (info) have no target; they help explain the others.

    .venv/bin/python bench/api_scale.py [--sizes 100,100000] [--requests 200] [--warmup 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, insert, select, text

from dockyard.config import Settings, sqlite_url
from dockyard.domain.ids import new_id
from dockyard.domain.profiles import (
    AccessProfile,
    HealthCheck,
    HttpCheck,
    NetworkProfile,
    RuntimeProfile,
    Service,
    SourceProfile,
)
from dockyard.startup import prepare
from dockyard.store.tables import Deployment, Environment, Organization, Project, Resource, Server
from serve_process import RunningServer, commit, rss_mb, start_server, stop_server

PROJECTS = 10
ENVIRONMENTS = ("production", "staging")
BATCH = 5_000
STEP_MS = 60_000  # one resource a minute: 100k resources span ~69 days
START_DEADLINE_S = 60.0
STOP_DEADLINE_S = 15.0
IDLE_SETTLE_S = 2.0
MAX_SECONDS = 900.0  # the whole run; a stuck server cannot hold the script longer

PAGE_TARGET_MS = 10.0
RATIO_TARGET = 1.3
RSS_TARGET_MB = 60.0

# Endpoints with a target; the others are printed to help explain these.
TARGETED = ("resources page", "projects count", "deployments page", "deployment show")
SHOW_TARGET_MS = 15.0  # GET /deployments/{id} with its related context, plan and snapshot (issue 13)
KINDS = ("application", "static-site", "worker", "mcp-server")


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _dump(model: Any) -> dict[str, Any]:
    return model.model_dump(mode="json")  # as create_resource stores profiles: nulls included


def _plan(resource: dict[str, Any], server_id: str, port: int, at: str) -> dict[str, Any]:
    """A runtime plan in the shape the pipeline records one (deployments.plan_models.RuntimePlan)."""
    return {
        "id": f"plan-{resource['id']}",
        "source": resource["source"],
        "buildStrategy": "workspace-commands",
        "packagingMode": "host-process",
        "runtimeArtifact": None,
        "execution": {"kind": "host-process", "port": port, "startCommand": "python app.py"},
        "target": {"serverId": server_id, "destinationId": None},
        "detectSummary": "python app with requirements.txt",
        "steps": ["install", "build", "start", "verify"],
        "generatedAt": at,
    }


def _profiles(i: int) -> dict[str, Any]:
    """The JSON columns of resource i, shaped as the API stores them (validated by the domain models)."""
    kind = KINDS[i % len(KINDS)]
    port = 3000 + i % 1000
    services = [Service(name="web", kind="web")]
    if kind == "worker":
        services = [Service(name="worker", kind="worker")]
    elif i % 7 == 0:
        services.append(Service(name="jobs", kind="job"))
    source = SourceProfile(
        kind="git-public",
        locator=f"https://github.com/example-org/service-{i}.git",
        display_name=f"example-org/service-{i}",
        git_ref="main",
        commit_sha=f"{i:040x}",
        base_directory="/",
        repository_full_name=f"example-org/service-{i}",
        default_branch="main",
    )
    runtime = RuntimeProfile(
        strategy="workspace-commands",
        install_command="pip install -r requirements.txt",
        build_command=None,
        start_command=f"python -m uvicorn app:app --host 127.0.0.1 --port {port}",
        runtime_name="python",
        health_check_path="/healthz",
    )
    network = NetworkProfile(
        internal_port=port, upstream_protocol="http", exposure_mode="reverse-proxy", target_service_name="web"
    )
    health = HealthCheck(http=HttpCheck(port=port, path="/healthz"))
    return {
        "kind": kind,
        "services": [_dump(s) for s in services],
        "source": _dump(source),
        "runtime_profile": _dump(runtime),
        "network_profile": _dump(network),
        "access_profile": _dump(AccessProfile()),
        "health_policy": _dump(health),
    }


def _batches(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def fill(engine: Engine, n_resources: int) -> None:
    """Insert projects, environments, n resources and one succeeded deployment each, oldest first."""
    now_ms = int(time.time() * 1000)
    t0 = now_ms - (n_resources + 10) * STEP_MS
    with engine.begin() as conn:
        org_id = conn.scalar(select(Organization.id).order_by(Organization.id).limit(1))
        server_id = conn.scalar(select(Server.id).where(Server.is_control_plane.is_(True)))
        projects, envs = [], []
        for p in range(PROJECTS):
            ms = t0 + p
            pid = new_id("project", ms)
            projects.append(
                {
                    "id": pid,
                    "organization_id": org_id,
                    "name": f"Project {p}",
                    "slug": f"project-{p}",
                    "description": f"Bench project {p}",
                    "lifecycle_status": "active",
                    "created_at": _iso(ms),
                }
            )
            for name in ENVIRONMENTS:
                envs.append(
                    {
                        "id": new_id("environment", ms),
                        "project_id": pid,
                        "name": name,
                        "kind": name,
                        "lifecycle_status": "active",
                        "created_at": _iso(ms),
                    }
                )
        conn.execute(insert(Project), projects)
        conn.execute(insert(Environment), envs)

        templates = [_profiles(i) for i in range(1000)]  # ports and repos repeat after 1000

        def resources() -> Iterator[dict[str, Any]]:
            for i in range(n_resources):
                ms = t0 + (i + 1) * STEP_MS
                env = envs[i % len(envs)]
                yield {
                    "id": new_id("resource", ms),
                    "project_id": env["project_id"],
                    "environment_id": env["id"],
                    "destination_id": None,
                    "name": f"service-{i}",
                    "slug": f"service-{i}",
                    "description": None,
                    "lifecycle_status": "active",
                    "created_at": _iso(ms),
                    **templates[i % len(templates)],
                }

        for batch in _batches(resources(), BATCH):
            conn.execute(insert(Resource), batch)
            deployments = []
            for r in batch:
                ms = int(datetime.fromisoformat(r["created_at"]).timestamp() * 1000) + 5_000
                port = r["network_profile"]["internalPort"]
                deployments.append(
                    {
                        "id": new_id("deployment", ms),
                        "project_id": r["project_id"],
                        "environment_id": r["environment_id"],
                        "resource_id": r["id"],
                        "server_id": server_id,
                        "destination_id": None,
                        "status": "succeeded",
                        "trigger_kind": "manual",
                        "source_snapshot": r["source"],
                        "runtime_plan": _plan(r, server_id, port, _iso(ms)),
                        "environment_snapshot": {
                            "id": new_id("deployment", ms).replace("dep_", "esn_"),
                            "environmentId": r["environment_id"],
                            "createdAt": _iso(ms),
                            "precedence": ["environment", "resource"],
                            "variables": [{"key": "MODE", "value": "production", "secret": False}],
                        },
                        "runtime_state": {"url": f"http://127.0.0.1:{20000 + port}/"},
                        "failure": None,
                        "log_count": 12,
                        "created_at": _iso(ms),
                        "started_at": _iso(ms + 100),
                        "finished_at": _iso(ms + 4_000),
                    }
                )
            conn.execute(insert(Deployment), deployments)
    with engine.connect() as conn:
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


@dataclass
class SizeResult:
    size: int
    fill_s: float
    timings_ms: dict[str, list[float]] = field(default_factory=dict)
    rss_start: dict[str, float] = field(default_factory=dict)
    rss_idle: dict[str, float] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)


def endpoints(engine: Engine, size: int) -> dict[str, str]:
    """Targeted endpoints first, then informational ones (a filtered page, a deep page, a count)."""
    with engine.connect() as conn:
        project_id = conn.scalar(select(Resource.project_id).order_by(Resource.id.desc()).limit(1))
        middle = conn.scalar(select(Resource.id).order_by(Resource.id.desc()).limit(1).offset(size // 2))
        deployment = conn.scalar(select(Deployment.id).order_by(Deployment.id.desc()).limit(1))
    out = {
        "resources page": "/api/resources?limit=50",
        "projects count": "/api/projects/count",
        "deployments page": "/api/deployments?limit=50",
        "deployment show": f"/api/deployments/{deployment}",
        "resources page, projectId": f"/api/resources?limit=50&projectId={project_id}",
        # Half way down the list: keyset pagination should cost what the first page costs.
        "resources page, middle cursor": f"/api/resources?limit=50&cursor={middle}",
        "resources count": "/api/resources/count",
    }
    return out


def measure(
    server: RunningServer,
    paths: dict[str, str],
    size: int,
    requests: int,
    warmup: int,
    items: dict[str, int],
    deadline: float,
) -> dict[str, list[float]]:
    """Check the store answers as filled, note each path's item count in `items`, warm up, then time
    every path `requests` times."""
    token = (server.data_dir / "admin.token").read_text().strip()
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=30.0, trust_env=False) as client:
        count = client.get("/api/resources/count").json()["count"]
        page = client.get("/api/resources", params={"limit": 50}).json()["items"]
        if count != size or len(page) != min(50, size):
            raise RuntimeError(
                f"the store answers {count} resources and {len(page)} on a page; filled {size}"
            )
        for label, path in paths.items():
            r = client.get(path)
            if r.status_code != 200:
                raise RuntimeError(f"{path} answered {r.status_code}: {r.text[:2000]}")
            body = r.json()
            items[label] = len(body["items"]) if "items" in body else 1
        timings: dict[str, list[float]] = {}
        # One endpoint at a time: interleaved, a slow page leaves the CPU caches cold for the
        # next request, which made a 2 ms count look ~1 ms slower at 100k than it is on its own.
        for label, path in paths.items():
            for _ in range(warmup):
                client.get(path).raise_for_status()
            timings[label] = []
            for _ in range(requests):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the run took longer than {MAX_SECONDS:.0f} s; stopped")
                t = time.perf_counter()
                r = client.get(path)
                timings[label].append((time.perf_counter() - t) * 1000)
                r.raise_for_status()
    return timings


def run_size(size: int, requests: int, warmup: int, deadline: float) -> SizeResult:
    tmp = Path(tempfile.mkdtemp(prefix=f"dockyard-bench-{size}-"))
    data_dir = tmp / "data"
    try:
        settings = Settings(data_dir=data_dir, database_url=sqlite_url(data_dir))
        t = time.perf_counter()
        db = prepare(settings)
        fill(db.engine, size)
        paths = endpoints(db.engine, size)
        db.engine.dispose()
        result = SizeResult(size=size, fill_s=time.perf_counter() - t)
        print(f"[{size:>7} resources] filled in {result.fill_s:.1f} s; starting dockyard serve", flush=True)
        server = start_server(data_dir)
        try:
            time.sleep(IDLE_SETTLE_S)
            rss_boot = rss_mb(server.proc.pid)
            result.timings_ms = measure(server, paths, size, requests, warmup, result.items, deadline)
            time.sleep(IDLE_SETTLE_S)
            result.rss_start = rss_boot
            result.rss_idle = rss_mb(server.proc.pid)
        finally:
            stop_server(server)
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report(results: list[SizeResult], requests: int) -> None:
    print()
    print(f"{'size':>8}  {'endpoint':<30} {'items':>5} {'median ms':>9} {'p95 ms':>8}  (n={requests} each)")
    for r in results:
        for label, values in r.timings_ms.items():
            mark = "" if label in TARGETED else "  (info)"
            print(
                f"{r.size:>8}  {label:<30} {r.items[label]:>5} "
                f"{statistics.median(values):>9.2f} {p95(values):>8.2f}{mark}"
            )
    print()
    for r in results:
        print(
            f"RSS of dockyard serve, {r.size:>7} resources: {r.rss_start['VmRSS']:.1f} MB after start, "
            f"{r.rss_idle['VmRSS']:.1f} MB idle after the runs (peak {r.rss_idle['VmHWM']:.1f} MB, "
            f"anonymous {r.rss_idle['RssAnon']:.1f} MB)"
        )
    small, large = min(results, key=lambda r: r.size), max(results, key=lambda r: r.size)
    print()
    checks: list[tuple[str, bool]] = []
    if small is not large:
        tag = f"{large.size}/{small.size}"
        for label in small.timings_ms:
            if label not in large.timings_ms:
                continue
            ratio = statistics.median(large.timings_ms[label]) / statistics.median(small.timings_ms[label])
            mark = "" if label in TARGETED else "  (info)"
            print(f"ratio {tag} {label:<30} {ratio:5.2f}{mark}")
            if label in TARGETED:
                checks.append((f"{label} ratio {ratio:.2f} <= {RATIO_TARGET}", ratio <= RATIO_TARGET))
        print()
    for r in results:
        page = statistics.median(r.timings_ms["resources page"])
        checks.append(
            (f"resources page at {r.size}: {page:.2f} ms <= {PAGE_TARGET_MS:.0f} ms", page <= PAGE_TARGET_MS)
        )
    show = statistics.median(large.timings_ms["deployment show"])
    checks.append(
        (f"deployment show at {large.size}: {show:.2f} ms <= {SHOW_TARGET_MS:.0f} ms", show <= SHOW_TARGET_MS)
    )
    rss = small.rss_idle["VmRSS"]
    checks.append((f"idle RSS at {small.size}: {rss:.1f} MB <= {RSS_TARGET_MB:.0f} MB", rss <= RSS_TARGET_MB))
    for text_, ok in checks:
        print(f"{verdict(ok)}  {text_}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--sizes", default="100,100000", help="comma-separated resource counts")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per endpoint and size")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests per endpoint first")
    args = parser.parse_args()
    sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    if not sizes or min(sizes) < 1 or args.requests < 2:
        parser.error("need at least one size >= 1 and --requests >= 2")
    print(
        f"api_scale: sizes {sizes}, {args.requests} requests, {args.warmup} warm-up; "
        f"{os.cpu_count()} cpus, Python {sys.version.split()[0]}, commit {commit()}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    deadline = time.monotonic() + MAX_SECONDS
    results = [run_size(size, args.requests, args.warmup, deadline) for size in sizes]
    report(results, args.requests)
    return 0


if __name__ == "__main__":
    sys.exit(main())
