"""Time from invoking `dockyard up --json` to the URL answering 200 with the new content (issue 3).

A real `dockyard serve` runs on a free loopback port in a temp data dir (the control plane is warm).
Each example is copied to a temp folder and deployed once untimed, so Python's venv and Node's
node_modules are in the dependency cache; then each run edits a marker into the app's page, invokes
`dockyard up --json` and polls the URL until it answers 200 with that marker. Prints the median of
the runs per example and PASS/MISS against the targets: static <= 1.0 s, Python <= 2.0 s, Node <= 2.0 s.

    .venv/bin/python bench/up_latency.py [--runs 5] [--examples hello-static,hello-python,hello-node]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from dockyard.runtimes.host_process import HostProcessRuntime
from dockyard.runtimes.instance import STABLE_AFTER_S
from serve_process import commit, start_server, stop_server

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TARGETS_S = {"hello-static": 1.0, "hello-python": 2.0, "hello-node": 2.0}
PAGES = {"hello-static": "index.html", "hello-python": "main.py", "hello-node": "server.js"}
ANSWER_DEADLINE_S = 30.0


def mark(page: Path, marker: str) -> None:
    """Put `marker` into the text the app serves (a visible edit, as a user would make)."""
    text = re.sub(r" \[run [\w-]+\]", "", page.read_text())
    page.write_text(text.replace("Hello from Dockyard", f"Hello from Dockyard [run {marker}]", 1))


def up(folder: Path, env: dict[str, str], *extra: str) -> dict:
    exe = Path(sys.executable).parent / "dockyard"
    command = [str(exe), "up", str(folder), "--json", *extra]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"dockyard up failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def timed_run(folder: Path, page: str, env: dict[str, str], marker: str, *extra: str) -> float:
    """Edit `page`, run `dockyard up`, return the seconds until the URL serves the edit."""
    mark(folder / page, marker)
    started = time.perf_counter()
    result = up(folder, env, *extra)
    deadline = started + ANSWER_DEADLINE_S
    with httpx.Client(timeout=5.0, trust_env=False) as client:
        while time.perf_counter() < deadline:
            try:
                resp = client.get(result["url"])
                if resp.status_code == 200 and f"[run {marker}]" in resp.text:
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass
            time.sleep(0.005)
    raise RuntimeError(f"{result['url']} did not serve run {marker} within {ANSWER_DEADLINE_S:.0f} s")


def restart_time(api: httpx.Client, resource_id: str, url: str) -> float:
    """SIGKILL the app, then time until its URL answers 200 again (the runner restarts it)."""
    before = api.get(f"/api/resources/{resource_id}").json()["runtime"]
    started = time.perf_counter()
    os.kill(before["pid"], signal.SIGKILL)
    with httpx.Client(timeout=1.0, trust_env=False) as client:
        while time.perf_counter() - started < ANSWER_DEADLINE_S:
            now = api.get(f"/api/resources/{resource_id}").json()["runtime"]
            if now["pid"] != before["pid"]:
                try:
                    if client.get(url).status_code == 200:
                        return time.perf_counter() - started
                except httpx.TransportError:
                    pass
            time.sleep(0.005)
    raise RuntimeError(f"{url} did not come back within {ANSWER_DEADLINE_S:.0f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="timed deploys per example")
    parser.add_argument("--examples", default=",".join(TARGETS_S), help="comma-separated example names")
    args = parser.parse_args()
    names = [n.strip() for n in args.examples.split(",") if n.strip()]
    unknown = [n for n in names if n not in TARGETS_S]
    if unknown or args.runs < 1:
        parser.error(f"unknown example(s) {unknown}; choose from {list(TARGETS_S)}; --runs >= 1")
    print(
        f"up_latency: {args.runs} runs per example; {os.cpu_count()} cpus, Python {sys.version.split()[0]}, "
        f"commit {commit()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    root = Path(tempfile.mkdtemp(prefix="dockyard-bench-up-"))
    server = start_server(root / "data")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DOCKYARD_")},
        "DOCKYARD_URL": server.base_url,
        "DOCKYARD_TOKEN": (root / "data" / "admin.token").read_text().strip(),
        "XDG_CONFIG_HOME": str(root / "config"),
    }
    verdicts = []
    try:
        for name in names:
            folder = root / "apps" / name
            shutil.copytree(EXAMPLES / name, folder)
            warm_started = time.perf_counter()
            up(folder, env)  # first deploy: fills the dependency cache
            warm_s = time.perf_counter() - warm_started
            runs = [timed_run(folder, PAGES[name], env, f"{name}-{i}") for i in range(args.runs)]
            if name == "hello-static":
                last = up(folder, env)
                headers = {"Authorization": f"Bearer {env['DOCKYARD_TOKEN']}"}
                with httpx.Client(base_url=server.base_url, headers=headers, trust_env=False) as api:
                    kills = []
                    for _ in range(args.runs):
                        time.sleep(STABLE_AFTER_S + 0.5)  # a crash after stable running: first backoff
                        kills.append(restart_time(api, last["resourceId"], last["url"]))
                print(
                    f"info  killed app back in: median {statistics.median(kills):.3f} s "
                    f"(runs {', '.join(f'{k:.3f}' for k in kills)}; target <= 2 s)"
                )
            median = statistics.median(runs)
            ok = median <= TARGETS_S[name]
            verdicts.append(ok)
            print(
                f"{'PASS' if ok else 'MISS'}  {name:13} median {median:.3f} s "
                f"(target <= {TARGETS_S[name]:.1f} s)"
                f"  runs {', '.join(f'{r:.3f}' for r in runs)}  first deploy (cold cache) {warm_s:.2f} s"
            )
    finally:
        stop_server(server)
        HostProcessRuntime(root / "data").shutdown_all()
        shutil.rmtree(root, ignore_errors=True)
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
