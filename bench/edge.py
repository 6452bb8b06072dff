"""Throughput and p99 latency through Dockyard's edge proxies against hand-written minimal ones.

Same backend, same run, all on loopback: a separate nginx serving a 1 KiB static file (fast enough not
to be the bottleneck). Cases: (a) direct to the backend; (b) Dockyard's nginx edge (NginxEdge, one route);
(c) a hand-written nginx reverse proxy (one server, proxy_pass, HTTP/1.1 keepalive upstream); (d) Dockyard's
Caddy edge (CaddyEdge, one route); (e) a hand-written Caddyfile reverse proxy. Both hand-written proxies
run `worker_processes auto` / Caddy defaults and no access log, like Dockyard's. The load generator is wrk
(`apt-get install wrk`): --connections on --threads for --duration each, after a --warmup per case; the
cases are interleaved per run, in an order rotated each run (no case always goes first). Prints the
median req/s and p99 per case and PASS/MISS for Dockyard / hand-written >= 0.95 (nginx, Caddy).

    .venv/bin/python bench/edge.py [--runs 3] [--duration 10] [--connections 50] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from dockyard.edge.caddy import CaddyEdge
from dockyard.edge.nginx import NginxEdge
from dockyard.edge.protocol import EdgeSettings, Route
from serve_process import commit, free_port

HOST = "app.localhost"
TARGET_RATIO = 0.95
READY_DEADLINE_S = 15.0
PAGE = ("<!doctype html><title>edge bench</title>" + "Hello from the Dockyard edge benchmark. " * 24)[:1024]

BACKEND_CONF = """\
worker_processes auto;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    server {{ listen 127.0.0.1:{port}; root {d}/www; keepalive_requests 100000; }}
}}
"""

# What an operator would write by hand: the 10-line reverse proxy (Debian's temp paths are left as they are).
NGINX_MINIMAL = """\
worker_processes auto;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    upstream app {{ server 127.0.0.1:{backend}; keepalive 32; }}
    server {{ listen 127.0.0.1:{port}; location / {{ proxy_pass http://app; proxy_http_version 1.1;
        proxy_set_header Connection ""; proxy_set_header Host $host; }} }}
}}
"""

CADDY_MINIMAL = """\
{{
    admin off
    auto_https off
}}
http://:{port} {{
    bind 127.0.0.1
    reverse_proxy 127.0.0.1:{backend}
}}
"""


@dataclass
class Case:
    name: str
    port: int
    rps: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)


def nginx_instance(folder: Path, conf: str) -> None:
    """Start a separate nginx (daemonized) with `conf` in `folder`; stopped by `stop_nginx`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "nginx.conf").write_text(conf)
    subprocess.run(
        ["nginx", "-p", f"{folder}/", "-c", str(folder / "nginx.conf"), "-e", str(folder / "error.log")],
        check=True,
    )


def stop_nginx(folder: Path) -> None:
    try:
        pid = int((folder / "nginx.pid").read_text())
    except (OSError, ValueError):
        return
    os.kill(pid, signal.SIGQUIT)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            break
        time.sleep(0.05)


def wait_ok(name: str, port: int) -> None:
    """Wait until `name` on `port` serves the page for HOST."""
    deadline = time.monotonic() + READY_DEADLINE_S
    last = "no answer"
    with httpx.Client(timeout=2.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            try:
                resp = client.get(f"http://127.0.0.1:{port}/", headers={"Host": HOST})
                if resp.status_code == 200 and resp.text == PAGE:
                    return
                last = f"{resp.status_code} {resp.text[:100]!r}"
            except httpx.TransportError as exc:
                last = repr(exc)
            time.sleep(0.05)
    raise RuntimeError(
        f"{name} on 127.0.0.1:{port} did not serve the page within {READY_DEADLINE_S:.0f} s: {last}"
    )


def wrk(port: int, args: argparse.Namespace, duration: float, host: str = HOST) -> tuple[float, float]:
    """req/s and p99 in ms of one wrk run with `host` as Host; refuses a run with errors or non-2xx
    answers. `args`: threads and connections."""
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{duration:g}s",
        "--latency",
        "-H",
        f"Host: {host}",
        f"http://127.0.0.1:{port}/",
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw errors on port {port}:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"\s99%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    return rps, float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="timed wrk runs per case (interleaved)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=float, default=2.0, help="untimed seconds of load per case first")
    args = parser.parse_args()
    missing = [
        tool
        for tool in ("wrk", "nginx", "caddy")
        if not shutil.which(tool, path=f"{os.environ['PATH']}:/usr/sbin")
    ]
    if missing:
        print(f"edge: needs {', '.join(missing)}: apt-get install {' '.join(missing)}", file=sys.stderr)
        return 2
    nginx_v = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip().split("/")[-1]
    caddy_v = subprocess.run(["caddy", "version"], capture_output=True, text=True).stdout.split()[0]
    print(
        f"edge: {args.runs} runs x {args.duration:g} s per case, wrk -t{args.threads} -c{args.connections}; "
        f"{os.cpu_count()} cpus, nginx {nginx_v}, caddy {caddy_v}, commit {commit()}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    root = Path(tempfile.mkdtemp(prefix="dockyard-bench-edge-"))
    root.chmod(0o755)  # the backend's workers (user nobody when we are root) read the page from here
    cleanup: list[Callable[[], None]] = []
    verdicts: list[bool] = []
    try:
        backend = free_port()
        (root / "backend" / "www").mkdir(parents=True)
        (root / "backend" / "www" / "index.html").write_text(PAGE)
        nginx_instance(root / "backend", BACKEND_CONF.format(d=root / "backend", port=backend))
        cleanup.append(lambda: stop_nginx(root / "backend"))
        route = [Route(HOST, backend, resource_id="bench")]

        def settings(kind: str) -> EdgeSettings:
            return EdgeSettings(
                kind=kind,  # type: ignore[arg-type]
                state_dir=root / f"dockyard-{kind}",
                http_port=free_port(),
                https_port=free_port(),
                listen_address="127.0.0.1",
            )

        dy_nginx = NginxEdge(settings("nginx"))
        cleanup.append(dy_nginx.stop)
        dy_nginx.apply(route)

        hand_nginx = free_port()
        nginx_instance(
            root / "hand-nginx", NGINX_MINIMAL.format(d=root / "hand-nginx", port=hand_nginx, backend=backend)
        )
        cleanup.append(lambda: stop_nginx(root / "hand-nginx"))

        dy_caddy = CaddyEdge(settings("caddy"))
        cleanup.append(dy_caddy.stop)
        dy_caddy.apply(route)

        hand_caddy = free_port()
        folder = root / "hand-caddy"
        folder.mkdir()
        (folder / "Caddyfile").write_text(CADDY_MINIMAL.format(port=hand_caddy, backend=backend))
        env = {**os.environ, "XDG_DATA_HOME": str(folder), "XDG_CONFIG_HOME": str(folder)}
        with (folder / "caddy.log").open("wb") as log:
            caddy = subprocess.Popen(
                ["caddy", "run", "--config", str(folder / "Caddyfile"), "--adapter", "caddyfile"],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )

        def stop_caddy() -> None:
            caddy.terminate()
            caddy.wait(15)

        cleanup.append(stop_caddy)

        cases = [
            Case("direct", backend),
            Case("dockyard-nginx", dy_nginx.settings.http_port),
            Case("hand-nginx", hand_nginx),
            Case("dockyard-caddy", dy_caddy.settings.http_port),
            Case("hand-caddy", hand_caddy),
        ]
        for case in cases:
            wait_ok(case.name, case.port)
            if args.warmup > 0:
                wrk(case.port, args, args.warmup)
        for run in range(args.runs):
            for case in cases[run % len(cases) :] + cases[: run % len(cases)]:  # no case always goes first
                rps, p99 = wrk(case.port, args, args.duration)
                case.rps.append(rps)
                case.p99_ms.append(p99)
                print(f"info  run {run + 1} {case.name:15} {rps:10.0f} req/s  p99 {p99:7.2f} ms", flush=True)
        by_name = {case.name: case for case in cases}
        for case in cases:
            runs = ", ".join(f"{r:.0f}" for r in case.rps)
            print(
                f"info  {case.name:15} median {statistics.median(case.rps):10.0f} req/s  "
                f"p99 {statistics.median(case.p99_ms):7.2f} ms  (runs {runs})"
            )
        for proxy in ("nginx", "caddy"):
            ours, hand = by_name[f"dockyard-{proxy}"], by_name[f"hand-{proxy}"]
            ratio = statistics.median(ours.rps) / statistics.median(hand.rps)
            p99_ratio = statistics.median(ours.p99_ms) / statistics.median(hand.p99_ms)
            ok = ratio >= TARGET_RATIO
            verdicts.append(ok)
            print(
                f"{'PASS' if ok else 'MISS'}  {proxy:6} dockyard/hand-written req/s {ratio:.3f} "
                f"(target >= {TARGET_RATIO}); p99 dockyard/hand-written {p99_ratio:.3f}"
            )
    finally:
        for step in reversed(cleanup):
            try:
                step()
            except Exception as exc:  # keep cleaning up the rest
                print(f"edge: cleanup step failed: {exc!r}", file=sys.stderr)
        shutil.rmtree(root, ignore_errors=True)
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
