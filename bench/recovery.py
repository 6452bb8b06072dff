"""Recovery timings (issue 6): reconcile after a crash, and rollback to a retained artifact.

1. Reconcile: a real `dockyard serve` (temp data dir) gets 100 resources; it is stopped and the store
   is left as a SIGKILL mid-deploy leaves it — 100 attempts `running`, their work items `running`
   under leases of a process that no longer exists, a few timeline lines each (no runner processes:
   100 of them would not fit next to the benchmark on 2 cores; a missing runner answers at once).
   Timed: from starting `dockyard serve` again to the API reporting no attempt in an active status.
   A restart of the same store with nothing to reconcile is timed too, for the share of start-up.
   Target: <= 5 s.
2. Rollback: a site deployed twice with `dockyard up` (host process, and a Dockerfile site on the
   container runtime when an engine answers); then, alternately, `POST /deployments/{live}/rollback`
   to the other version. Timed: from the request to the URL answering with that version's text.
   Target: <= 2 s.

    DOCKER_HOST=unix:///run/dockyard-podman.sock .venv/bin/python bench/recovery.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from dockyard.domain.ids import new_id
from dockyard.runtimes.engine import available, engine_url
from dockyard.runtimes.host_process import HostProcessRuntime
from serve_process import cli_env, commit, start_server, stop_server
from up_latency import up

INTERRUPTED = 100
RECONCILE_TARGET_S = 5.0
ROLLBACK_TARGET_S = 2.0
BUSYBOX = os.environ.get("DOCKYARD_BUSYBOX_IMAGE", "localhost/dockyard-busybox:1")
DOCKERFILE = f"""FROM {BUSYBOX}
COPY index.html /www/index.html
EXPOSE 8080
CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]
"""


def client(data: Path, base_url: str) -> httpx.Client:
    token = (data / "admin.token").read_text().strip()
    return httpx.Client(base_url=base_url + "/api", headers={"Authorization": f"Bearer {token}"}, timeout=30)


def seed_resources(root: Path, data: Path) -> list[tuple[str, str, str, str]]:
    """100 resources with a source; returns (project, environment, resource, server) for each."""
    server = start_server(data)
    try:
        with client(data, server.base_url) as api:
            project = api.post("/projects", json={"name": "recovery bench"}).json()["id"]
            env = api.post(
                "/environments", json={"projectId": project, "name": "production", "kind": "production"}
            ).json()["id"]
            target = next(s["id"] for s in api.get("/servers").json()["items"] if s["providerKey"] == "local")
            site = root / "site"
            site.mkdir(exist_ok=True)
            (site / "index.html").write_text("bench")
            out = []
            for n in range(INTERRUPTED):
                body = {"projectId": project, "environmentId": env, "name": f"app {n}"}
                rid = api.post("/resources", json=body).json()["id"]
                api.post(
                    f"/resources/{rid}/source",
                    json={"source": {"kind": "local-folder", "locator": str(site)}},
                )
                out.append((project, env, rid, target))
            return out
    finally:
        stop_server(server)


def interrupt(data: Path, resources: list[tuple[str, str, str, str]]) -> None:
    """Write what a SIGKILL during `execute` leaves behind, for every resource."""
    from dockyard.operations.context import utc_now
    from dockyard.store.db import Database
    from dockyard.store.tables import Deployment, DeploymentLog, WorkItem

    db = Database(f"sqlite:///{data / 'dockyard.db'}")
    now, lease = utc_now(), "2999-01-01T00:00:00.000Z"
    with db.session() as s:
        for project, env, rid, target in resources:
            dep = new_id("deployment")
            s.add(
                Deployment(
                    id=dep,
                    project_id=project,
                    environment_id=env,
                    resource_id=rid,
                    server_id=target,
                    status="running",
                    trigger_kind="create",
                    log_count=3,
                    created_at=now,
                    started_at=now,
                )
            )
            s.flush()
            for seq, phase in enumerate(("detect", "plan", "start"), start=1):
                s.add(
                    DeploymentLog(
                        deployment_id=dep,
                        sequence=seq,
                        timestamp=now,
                        source="dockyard",
                        phase=phase,
                        level="info",
                        message=f"{phase} …",
                    )
                )
            s.add(
                WorkItem(
                    id=new_id("work"),
                    kind="deployment",
                    subject_id=dep,
                    status="running",
                    attempts=1,
                    lease_owner=f"{os.uname().nodename}:999999:dead",
                    lease_expires_at=lease,
                    run_after=now,
                    created_at=now,
                    updated_at=now,
                    started_at=now,
                    deployment_id=dep,
                    resource_id=rid,
                    phase="start",
                    operation_key="deployments.create",
                )
            )
    db.engine.dispose()


def time_restart(data: Path) -> float:
    """From starting `dockyard serve` to no attempt in an active status (the API answering it)."""
    started = time.perf_counter()
    server = start_server(data)
    try:
        with client(data, server.base_url) as api:
            while any(
                api.get("/deployments/count", params={"status": s}).json()["count"]
                for s in ("running", "planning", "planned", "created", "cancel-requested")
            ):
                time.sleep(0.02)
            return time.perf_counter() - started
    finally:
        stop_server(server)


def reconcile_bench(runs: int) -> bool:
    root = Path(tempfile.mkdtemp(prefix="dockyard-bench-recovery-"))
    try:
        data = root / "data"
        resources = seed_resources(root, data)
        baseline, timed = [], []
        for _ in range(runs):
            baseline.append(time_restart(data))
            interrupt(data, resources)
            timed.append(time_restart(data))
        median, base = statistics.median(timed), statistics.median(baseline)
        verdict = "PASS" if median <= RECONCILE_TARGET_S else "MISS"
        print(
            f"{verdict}  restart + reconcile {INTERRUPTED} interrupted  median {median:.3f} s "
            f"(target <= {RECONCILE_TARGET_S:.0f} s)  runs {', '.join(f'{t:.3f}' for t in timed)}  "
            f"restart with nothing to reconcile: median {base:.3f} s"
        )
        return verdict == "PASS"
    finally:
        HostProcessRuntime(root / "data").shutdown_all()
        shutil.rmtree(root, ignore_errors=True)


def rollback_bench(label: str, folder: Path, page: Path, api: httpx.Client, env: dict, runs: int) -> bool:
    texts = ("version one\n", "version two\n")
    deployed = []
    for text in texts:
        page.write_text(text)
        deployed.append(up(folder, env))
    url, ids = deployed[-1]["url"], [d["deploymentId"] for d in deployed]
    live, times = ids[1], []
    for i in range(runs):
        target = i % 2  # v1, v2, v1, ...
        started = time.perf_counter()
        resp = api.post(f"/deployments/{live}/rollback", json={"rollbackCandidateDeploymentId": ids[target]})
        live = resp.json()["id"]
        while True:
            try:
                if httpx.get(url, timeout=2).text == texts[target]:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.01)
        times.append(time.perf_counter() - started)
        while api.get(f"/deployments/{live}").json()["deployment"]["status"] != "succeeded":
            time.sleep(0.02)  # the next rollback starts from a finished one
    median = statistics.median(times)
    verdict = "PASS" if median <= ROLLBACK_TARGET_S else "MISS"
    print(
        f"{verdict}  rollback, {label:14} median {median:.3f} s (target <= {ROLLBACK_TARGET_S:.0f} s)"
        f"  runs {', '.join(f'{t:.3f}' for t in times)}"
    )
    return verdict == "PASS"


def rollback_benches(runs: int) -> bool:
    root = Path(tempfile.mkdtemp(prefix="dockyard-bench-rollback-"))
    engine = available()
    server = start_server(root / "data", {"DOCKER_HOST": engine_url() or ""} if engine else None)
    env = cli_env(root, server)
    ok = True
    try:
        with client(root / "data", server.base_url) as api:
            site = root / "apps" / "site"
            site.mkdir(parents=True)
            ok &= rollback_bench("host process", site, site / "index.html", api, env, runs)
            if engine:
                boxed = root / "apps" / "boxed"
                boxed.mkdir(parents=True)
                (boxed / "Dockerfile").write_text(DOCKERFILE)
                ok &= rollback_bench("container", boxed, boxed / "index.html", api, env, runs)
            else:
                print(f"skip  rollback, container: no engine answers at {engine_url()}")
    finally:
        stop_server(server)
        HostProcessRuntime(root / "data").shutdown_all()
        shutil.rmtree(root, ignore_errors=True)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(
        f"recovery: {args.runs} runs; {os.cpu_count()} cpus, commit {commit()}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    ok = reconcile_bench(args.runs)
    ok = rollback_benches(args.runs) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
