"""Failed requests during 10 redeploys under continuous load, through Dockyard's nginx edge (issue 5).

A real `dockyard serve` (temp data dir) with the local server's edge set to nginx on free high
ports; a static site deployed on each runtime (a host process, and a container when an engine
answers). `wrk` (Debian package) keeps 2 threads x 20 keep-alive connections busy on the app's
hostname through the edge while the site is edited and redeployed 10 times; every non-2xx answer
and every socket error counts as a failed request (wrk's timeout is raised to 10 s: on 2 cores a
request queued behind a build can take over wrk's default 2 s, which is latency, not a failure).
Target: 0. Also reported: how long after `up` returned the edge still answered an older version
(requests on nginx's pooled upstream connections made before the switch; no target yet).

    DOCKER_HOST=unix:///run/dockyard-podman.sock .venv/bin/python bench/zero_downtime.py [--redeploys 10]
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
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from dockyard.edge import failure_log
from dockyard.edge.sync import make
from dockyard.runtimes.engine import available, engine_url
from dockyard.runtimes.host_process import HostProcessRuntime
from serve_process import commit, nginx_edge, start_server, stop_server
from up_latency import up

BUSYBOX = os.environ.get("DOCKYARD_BUSYBOX_IMAGE", "localhost/dockyard-busybox:1")
DOCKERFILE = f"""FROM {BUSYBOX}
COPY index.html /www/index.html
EXPOSE 8080
CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]
"""


def parse_wrk(out: str) -> tuple[int, int, float]:
    """(requests, failed, req/s) from wrk's summary."""
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = (int(non_2xx.group(1)) if non_2xx else 0) + (sum(map(int, sockets.groups())) if sockets else 0)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return requests, failed, rate


# nginx retires a pooled upstream connection after 3 s (keepalive_time); a request on one made
# before the switch still reaches the old instance, which drains meanwhile.
STALE_DEADLINE_S = 15.0


def run_case(
    label: str, folder: Path, env: dict[str, str], edge_port: int, redeploys: int, edge_state: Path
) -> bool:
    """`edge_state`: the edge's state dir, whose failure log says what the edge answered itself."""
    failure_log.read_new(edge_state)  # what an earlier case left is not this one's
    first = up(folder, env)
    host = urlsplit(first["url"]).hostname or ""
    load = ["wrk", "-t2", "-c20", "-d600s", "--timeout", "10s", "--latency", "-H", f"Host: {host}"]
    wrk = subprocess.Popen(
        [*load, f"http://127.0.0.1:{edge_port}/"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    time.sleep(1.0)  # load is flowing before the first redeploy (this is a benchmark, not a test)
    started = time.perf_counter()
    stale: list[float] = []  # after `up` returned: how long the edge still answered an older version
    for i in range(redeploys):
        (folder / "index.html").write_text(f"version {i}\n")
        result = up(folder, env)
        assert result["status"] == "succeeded", result
        returned = time.perf_counter()
        while (seen := httpx.get(f"http://127.0.0.1:{edge_port}/", headers={"Host": host}).text) != (
            f"version {i}\n"
        ):
            assert time.perf_counter() - returned < STALE_DEADLINE_S, f"still {seen!r} after the deploy"
            time.sleep(0.02)
        stale.append(time.perf_counter() - returned)
    took = time.perf_counter() - started
    time.sleep(1.0)
    wrk.send_signal(signal.SIGINT)  # wrk prints its summary when interrupted
    out, _ = wrk.communicate(timeout=30)
    requests, failed, rate = parse_wrk(out)
    p99 = re.search(r"99%\s+([\d.]+\w+)", out)
    if failed:
        print("\n".join(line for line in out.splitlines() if "Socket" in line or "Non-2xx" in line))
        # what the edge itself answered, and which upstream it had tried (its failure log)
        for seen in failure_log.read_new(edge_state):
            print(f"  edge answered {seen.status} at {seen.at}, upstream {seen.upstream or '-'}")
    ok = failed == 0
    print(
        f"{'PASS' if ok else 'MISS'}  {label:22} {redeploys} redeploys in {took:.1f} s under load: "
        f"{requests} requests, {failed} failed (target 0), {rate:.0f} req/s through the edge, "
        f"p99 {p99.group(1) if p99 else '?'}; an older version answered for up to {max(stale):.2f} s "
        f"after `up` returned (median {statistics.median(stale):.2f} s)"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--redeploys", type=int, default=10)
    args = parser.parse_args()
    if not shutil.which("wrk") or not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        print("needs wrk and nginx (apt-get install wrk nginx)", file=sys.stderr)
        return 2
    print(
        f"zero_downtime: {args.redeploys} redeploys per runtime; {os.cpu_count()} cpus, commit {commit()}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    root = Path(tempfile.mkdtemp(prefix="dockyard-bench-zd-"))
    server = start_server(root / "data", {"DOCKER_HOST": engine_url() or ""} if available() else {})
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DOCKYARD_")},
        "DOCKYARD_URL": server.base_url,
        "DOCKYARD_TOKEN": (root / "data" / "admin.token").read_text().strip(),
        "XDG_CONFIG_HOME": str(root / "config"),
    }
    ok = True
    try:
        headers = {"Authorization": f"Bearer {env['DOCKYARD_TOKEN']}"}
        with httpx.Client(base_url=server.base_url + "/api", headers=headers) as api:
            edge_port = nginx_edge(api)
        edge_state = root / "data" / "edge" / "nginx"
        site = root / "apps" / "zd-process"
        site.mkdir(parents=True)
        (site / "index.html").write_text("start\n")
        ok = run_case("host-process runtime", site, env, edge_port, args.redeploys, edge_state)
        if available():
            box = root / "apps" / "zd-container"
            box.mkdir(parents=True)
            (box / "index.html").write_text("start\n")
            (box / "Dockerfile").write_text(DOCKERFILE)
            ok = run_case("container runtime", box, env, edge_port, args.redeploys, edge_state) and ok
        else:
            print("skip  container runtime: no engine answers (DOCKER_HOST)")
    finally:
        stop_server(server)
        HostProcessRuntime(root / "data").shutdown_all()
        edge = make(root / "data", {"kind": "nginx"})
        if edge is not None:
            edge.stop()
        shutil.rmtree(root, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
