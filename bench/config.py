"""Configuration at scale (issue 7): the effective config of a resource with 1,000 variables across
layers, and what 1,000 variables cost a deploy.

A real `dockyard serve` runs on a free loopback port in a temp data dir. Project "loaded" gets 1,000
variables: 200 on the project layer, 100 environment defaults, 300 on the environment, 400 on the
resource (imported as one .env), with 100 keys set on several layers (so precedence has work to do)
and 100 secrets (sealed with AES-GCM). Project "empty" has none. Both deploy the same static site on
the host-process runtime.

- effective-config: GET /api/resources/{id}/effective-config over one keep-alive connection, warm-up
  then timed requests; median and p95. Target: <= 20 ms median.
- deploy: POST /api/deployments/stream read until it closes (the whole deployment: snapshot, detect,
  plan, package, start, verify, switch), alternating the two resources; median of each and the ratio
  loaded/empty. Target: ratio <= 1.1.

    .venv/bin/python bench/config.py [--requests 200] [--warmup 20] [--deploys 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from serve_process import commit, start_server, stop_server

EFFECTIVE_TARGET_MS = 20.0
RATIO_TARGET = 1.1
VARIABLES = 1000


def _ok(resp: httpx.Response) -> dict:
    if resp.status_code >= 300:
        raise RuntimeError(
            f"{resp.request.method} {resp.request.url} -> {resp.status_code}: {resp.text[:300]}"
        )
    return resp.json() if resp.content else {}


def make_resource(client: httpx.Client, name: str, site: Path) -> dict[str, str]:
    project = _ok(client.post("/api/projects", json={"name": name}))["id"]
    env = _ok(client.post("/api/environments", json={"projectId": project, "name": "production"}))["id"]
    resource = _ok(
        client.post(
            "/api/resources",
            json={
                "projectId": project,
                "environmentId": env,
                "name": f"{name}-site",
                "source": {"kind": "local-folder", "locator": str(site)},
            },
        )
    )["id"]
    servers = _ok(client.get("/api/servers"))["items"]
    server = next(s["id"] for s in servers if s["providerKey"] == "local")
    return {"projectId": project, "environmentId": env, "resourceId": resource, "serverId": server}


def load_variables(client: httpx.Client, ids: dict[str, str]) -> int:
    """1,000 variables across the project, environment and resource layers; returns how many."""
    env_vars = f"/api/environments/{ids['environmentId']}/variables"
    count = 0

    def key(i: int) -> str:
        return f"SHARED_{i}" if i < 100 else f"VAR_{i}"  # the first 100 keys repeat on every layer

    for i in range(200):
        _ok(client.post(env_vars, json={"key": key(i), "value": f"project-{i}", "scope": "project"}))
        count += 1
    for i in range(100):
        _ok(client.post(env_vars, json={"key": key(i), "value": f"default-{i}", "scope": "defaults"}))
        count += 1
    for i in range(200, 500):
        secret = i < 300
        body = {"key": key(i) + ("_SECRET" if secret else ""), "value": f"environment-value-{i}"}
        _ok(client.post(env_vars, json={**body, **({"kind": "secret"} if secret else {})}))
        count += 1
    lines = [f"{key(i)}=resource-{i}" for i in range(50)] + [f"VAR_{i}=resource-{i}" for i in range(500, 850)]
    report = _ok(
        client.post(
            f"/api/resources/{ids['resourceId']}/variables/import", json={"content": "\n".join(lines)}
        )
    )
    return count + len(report["importedEntries"])


def time_effective(client: httpx.Client, resource: str, warmup: int, requests: int) -> list[float]:
    path = f"/api/resources/{resource}/effective-config"
    for _ in range(warmup):
        _ok(client.get(path))
    out = []
    for _ in range(requests):
        started = time.perf_counter()
        resp = client.get(path)
        out.append((time.perf_counter() - started) * 1000)
        if resp.status_code != 200:
            raise RuntimeError(resp.text[:300])
    return out


def deploy(client: httpx.Client, ids: dict[str, str]) -> float:
    started = time.perf_counter()
    lines = []
    with client.stream("POST", "/api/deployments/stream", json=ids, timeout=120) as resp:
        lines = [line for line in resp.iter_lines() if line.startswith("data: ")]
    elapsed = time.perf_counter() - started
    deployment = json.loads(lines[0][6:])["event"]["deploymentId"]
    status = _ok(client.get(f"/api/deployments/{deployment}"))["deployment"]["status"]
    if status != "succeeded":
        raise RuntimeError(f"deployment {deployment} ended {status}: dockyard deployments logs {deployment}")
    return elapsed


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--deploys", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dockyard-bench-config-") as tmp:
        root = Path(tmp)
        site = root / "site"
        site.mkdir()
        (site / "index.html").write_text("<h1>bench</h1>")
        data_dir = root / "data"
        data_dir.mkdir()
        server = start_server(data_dir)
        try:
            token = (data_dir / "admin.token").read_text().strip()
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(
                base_url=server.base_url, headers=headers, timeout=30, trust_env=False
            ) as client:
                empty = make_resource(client, "empty", site)
                loaded = make_resource(client, "loaded", site)
                started = time.perf_counter()
                stored = load_variables(client, loaded)
                print(f"stored {stored} variables in {time.perf_counter() - started:.1f} s")
                effective = _ok(client.get(f"/api/resources/{loaded['resourceId']}/effective-config"))
                print(
                    f"effective entries: {len(effective['effectiveEntries'])}, "
                    f"overrides: {len(effective['overrides'])}"
                )
                times = time_effective(client, loaded["resourceId"], args.warmup, args.requests)
                deploy(client, empty)  # first deploys untimed: runner start, workspace dirs
                deploy(client, loaded)
                runs: dict[str, list[float]] = {"empty": [], "loaded": []}
                for _ in range(args.deploys):
                    runs["empty"].append(deploy(client, empty))
                    runs["loaded"].append(deploy(client, loaded))
        finally:
            stop_server(server)
    med = statistics.median(times)
    ratio = statistics.median(runs["loaded"]) / statistics.median(runs["empty"])
    print(f"\ncommit {commit()}  {datetime.now(UTC).isoformat(timespec='seconds')}")
    print(
        f"effective-config, {stored} variables: median {med:.2f} ms, p95 {p95(times):.2f} ms "
        f"(target <= {EFFECTIVE_TARGET_MS:.0f} ms): {'PASS' if med <= EFFECTIVE_TARGET_MS else 'MISS'}"
    )
    for name, values in runs.items():
        each = " ".join(f"{v:.3f}" for v in values)
        print(f"deploy, {name:<6}: median {statistics.median(values):.3f} s  ({each})")
    verdict = "PASS" if ratio <= RATIO_TARGET else "MISS"
    print(f"deploy ratio loaded/empty: {ratio:.3f} (target <= {RATIO_TARGET}): {verdict}")
    fastest = min(runs["loaded"]) / min(runs["empty"])
    print(f"(info) ratio of the fastest runs, less exposed to a busy machine: {fastest:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
