"""The data path: what Dockyard adds to each request to an app, and what each app costs it (issue 14).

A real `dockyard serve` (temp data dir) with the local server's edge set to nginx; APPS copies of one
small Node app (`http.createServer`, a 1 KiB answer) deployed with `dockyard up`. Then, for the first
app, wrk (-t2 -c20 keep-alive, --duration s per case) against:
  (a) the app's own port (the active instance, as the runner reports it);
  (b) a hand-written nginx in front of that same instance (keepalive upstream, `worker_processes
      auto` like Dockyard's edge);
  (c) Dockyard's nginx edge, on the app's generated hostname;
  (d) the app's stable URL without an edge (its front port on 127.0.0.1).
Cases are interleaved per round, in an order rotated each round; figures are medians of --rounds.
Memory: Dockyard's own resident memory (VmRSS of the control plane plus the supervisor it
started), before any app and with APPS deployed, per app; then with --more apps again, the cost of
one more app once the fixed costs (the supervisor, the deploy path's modules) are paid.

Then `kill -9`, under the same wrk load (--timeout 10s, errors counted): of the supervisor with load on
the stable URL and, separately, through the edge (it is started again as the monitor would, adopting
the running apps); then of the control plane, load through the edge. Target: apps keep answering; a
supervisor restart may cost the in-flight connections of the apps it re-adopts (counted).

Targets (issue 14): (c)/(b) >= 0.95; (d)/(a) >= 0.8; <= 3 MB per app. The idle control plane with 100
resources (<= 80 MB) is bench/api_scale.py's figure.

    .venv/bin/python bench/data_path.py [--apps 10] [--rounds 3] [--duration 10]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import httpx

from dockyard.edge.sync import make
from dockyard.runtimes.host_process import HostProcessRuntime
from edge import NGINX_MINIMAL, nginx_instance, stop_nginx, wrk
from serve_process import cli_env, commit, free_port, nginx_edge, rss_mb, start_server, stop_server
from up_latency import up
from zero_downtime import parse_wrk

PAGE = ("Hello from the Dockyard data path benchmark. " * 24)[:1024]
SERVER_JS = f"""const http = require("http");
const page = {PAGE!r};
http.createServer((req, res) => {{
  res.writeHead(200, {{"Content-Type": "text/plain", "Content-Length": Buffer.byteLength(page)}});
  res.end(page);
}}).listen(Number(process.env.PORT), "127.0.0.1");
"""
TARGET_EDGE = 0.95
TARGET_STABLE = 0.8
TARGET_MB_PER_APP = 3.0


def dockyard_rss(data_dir: Path, server_pid: int) -> float:
    """VmRSS in MB of the control plane and of every process of Dockyard's own under `data_dir`
    (the runners), not the apps."""
    total = rss_mb(server_pid)["VmRSS"]
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == server_pid:
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(b"dockyard.runtimes" in a for a in argv) and any(str(data_dir).encode() in a for a in argv):
            with contextlib.suppress(OSError):  # it ended meanwhile
                total += rss_mb(int(proc.name))["VmRSS"]
    return total


def settle(data_dir: Path, pid: int, seconds: float = 2.0) -> float:
    time.sleep(seconds)  # a measurement, not a synchronisation: let start-up garbage go first
    return dockyard_rss(data_dir, pid)


def killed_under_load(port: int, host: str, victim: int, after: Callable[[], object]) -> tuple[int, int]:
    """(requests, failed) of wrk on `port` while `victim` is killed with SIGKILL, then `after` runs."""
    load = ["wrk", "-t2", "-c20", "-d600s", "--timeout", "10s", "-H", f"Host: {host}"]
    running = subprocess.Popen(
        [*load, f"http://127.0.0.1:{port}/"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    time.sleep(2.0)  # load flows first (a measurement, not a synchronisation)
    os.kill(victim, signal.SIGKILL)
    time.sleep(1.0)
    after()
    time.sleep(2.0)
    running.send_signal(signal.SIGINT)  # wrk prints its summary when interrupted
    out, _ = running.communicate(timeout=30)
    requests, failed, _ = parse_wrk(out)
    return requests, failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--apps", type=int, default=10)
    parser.add_argument("--more", type=int, default=10, help="apps deployed after, for the marginal cost")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    args = parser.parse_args()
    if not all(shutil.which(t, path=f"{os.environ['PATH']}:/usr/sbin") for t in ("wrk", "nginx", "node")):
        print("data_path: needs wrk, nginx and node (apt-get install wrk nginx nodejs)", file=sys.stderr)
        return 2
    load = SimpleNamespace(threads=2, connections=20)
    print(
        f"data_path: {args.apps} apps, {args.rounds} rounds x {args.duration:g} s per case, wrk -t2 -c20; "
        f"{os.cpu_count()} cpus, commit {commit()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    root = Path(tempfile.mkdtemp(prefix="dockyard-bench-dp-"))
    root.chmod(0o755)
    data_dir = root / "data"
    server = start_server(data_dir)
    env = cli_env(root, server)
    hand = root / "hand-nginx"
    try:
        headers = {"Authorization": f"Bearer {env['DOCKYARD_TOKEN']}"}
        with httpx.Client(base_url=server.base_url + "/api", headers=headers, trust_env=False) as api:
            edge_port = nginx_edge(api)
            before = settle(data_dir, server.proc.pid)
            deployed = []
            for i in range(args.apps):
                app = root / "apps" / f"dp-{i}"
                app.mkdir(parents=True)
                (app / "server.js").write_text(SERVER_JS)
                (app / "dockyard.yml").write_text("start: node server.js\n")
                deployed.append(up(app, env))
            after = settle(data_dir, server.proc.pid)
            runtime = HostProcessRuntime(data_dir)
            supervisor_mb = rss_mb((runtime.supervisor() or {})["pid"])["VmRSS"]
            for i in range(args.more):  # the cost of one more app, once the fixed costs are paid
                app = root / "apps" / f"dp-more-{i}"
                app.mkdir(parents=True)
                (app / "server.js").write_text(SERVER_JS)
                (app / "dockyard.yml").write_text("start: node server.js\n")
                up(app, env)
            more = settle(data_dir, server.proc.pid)
            first = deployed[0]
            shown = api.get(f"/resources/{first['resourceId']}", params={"includeAccessSummary": "true"})
            summary = shown.json()["accessSummary"] or {}
            hostname = ((summary.get("latestGeneratedAccessRoute") or {}).get("hostname")) or ""
        instance = (runtime.status(first["resourceId"]) or {})["active"]["port"]
        stable = runtime.front_port(first["resourceId"])
        hostname = hostname or str(httpx.URL(first["url"]).host)
        hand_port = free_port()
        nginx_instance(hand, NGINX_MINIMAL.format(d=hand, port=hand_port, backend=instance))
        cases = {
            "app's own port": (instance, "app.localhost"),
            "hand-written nginx": (hand_port, "app.localhost"),
            "Dockyard nginx edge": (edge_port, hostname),
            "stable URL, no edge": (stable, "app.localhost"),
        }
        for name, (port, host) in cases.items():
            answer = httpx.get(f"http://127.0.0.1:{port}/", headers={"Host": host}, trust_env=False)
            if answer.text != PAGE:
                raise RuntimeError(f"{name} on {port} ({host}) did not answer the app: {answer.status_code}")
            wrk(port, load, args.warmup, host)  # type: ignore[arg-type]
        rps: dict[str, list[float]] = {n: [] for n in cases}
        p99: dict[str, list[float]] = {n: [] for n in cases}
        names = list(cases)
        for r in range(args.rounds):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                port, host = cases[name]
                got = wrk(port, load, args.duration, host)  # type: ignore[arg-type]
                rps[name].append(got[0])
                p99[name].append(got[1])
        kills = []
        for label, port, host in (
            ("supervisor, stable URL", stable, "app.localhost"),
            ("supervisor, edge", edge_port, hostname),
        ):
            victim = (runtime.supervisor() or {})["pid"]
            kills.append((label, *killed_under_load(port, host, victim, runtime.revive)))
            if (runtime.status(first["resourceId"]) or {}).get("active", {}).get("port") != instance:
                raise RuntimeError("the restarted supervisor did not adopt the running app")
        kills.append(
            ("control plane, edge", *killed_under_load(edge_port, hostname, server.proc.pid, lambda: None))
        )
    finally:
        stop_nginx(hand)
        stop_server(server)
        HostProcessRuntime(data_dir).shutdown_all()
        edge = make(data_dir, {"kind": "nginx"})
        if edge is not None:
            edge.stop()
        shutil.rmtree(root, ignore_errors=True)
    med = {n: statistics.median(v) for n, v in rps.items()}
    for name in names:
        print(f"{name:22} {med[name]:>9.0f} req/s  p99 {statistics.median(p99[name]):6.2f} ms")
    edge_ratio = med["Dockyard nginx edge"] / med["hand-written nginx"]
    stable_ratio = med["stable URL, no edge"] / med["app's own port"]
    per_app = (after - before) / args.apps
    added = statistics.median(p99["Dockyard nginx edge"]) - statistics.median(p99["hand-written nginx"])
    print(f"p99 added by Dockyard's edge over the hand-written nginx: {added:+.2f} ms")
    grown = after - before - supervisor_mb
    print(
        f"Dockyard's own RSS: {before:.1f} MB with no app, {after:.1f} MB with {args.apps}: the supervisor "
        f"{supervisor_mb:.1f} MB (started by the first deploy), the control plane +{grown:.1f} MB"
    )
    marginal = (more - after) / args.more if args.more else 0.0
    print(
        f"one more app once {args.apps} run: {marginal:.2f} MB ({more:.1f} MB with {args.apps + args.more})"
    )
    for label, requests, failed in kills:
        print(f"kill -9 of the {label:24}: {failed} of {requests} requests failed")
    checks = [
        (f"edge / hand-written nginx = {edge_ratio:.2f} >= {TARGET_EDGE}", edge_ratio >= TARGET_EDGE),
        (
            f"stable URL / app's own port = {stable_ratio:.2f} >= {TARGET_STABLE}",
            stable_ratio >= TARGET_STABLE,
        ),
        (f"memory per app = {per_app:.1f} MB <= {TARGET_MB_PER_APP:.0f} MB", per_app <= TARGET_MB_PER_APP),
    ]
    for text, ok in checks:
        print(f"{'PASS' if ok else 'MISS'}  {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
