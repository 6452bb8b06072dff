"""Requests per second a deployed static site answers, straight at its URL (issue 12).

A real `dockyard serve` (temp data dir); a folder holding a 1 KiB `index.html` deployed with
`dockyard up` on the host-process runtime; `wrk -t2 -c20` (kept-alive connections) against the URL
`up` printed — the runner's front port, then Dockyard's static server. No edge in between (see
bench/edge.py and bench/zero_downtime.py for the edge). Prints each run's rate and the median.

    .venv/bin/python bench/static_serve.py [--runs 3] [--duration 6]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from serve_process import commit, start_server, stop_server
from up_latency import up


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=6, help="seconds of load per run")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("needs wrk (apt-get install wrk)", file=sys.stderr)
        return 2
    root = Path(tempfile.mkdtemp(prefix="dockyard-bench-static-"))
    server = start_server(root / "data", {})
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DOCKYARD_")},
        "DOCKYARD_URL": server.base_url,
        "DOCKYARD_TOKEN": (root / "data" / "admin.token").read_text().strip(),
        "XDG_CONFIG_HOME": str(root / "config"),
    }
    site = root / "site"
    site.mkdir()
    (site / "index.html").write_text("x" * 1024)
    try:
        url = up(site, env)["url"]
        rates = []
        for _ in range(args.runs):
            wrk = ["wrk", "-t2", "-c20", f"-d{args.duration}s", url]
            out = subprocess.run(wrk, capture_output=True, text=True, check=True).stdout
            rates.append(float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)))  # type: ignore[union-attr]
    finally:
        stop_server(server)
        shutil.rmtree(root, ignore_errors=True)
    print(
        f"static_serve: commit {commit()}, {os.cpu_count()} cpus, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
        f"1 KiB page, wrk -t2 -c20 -d{args.duration}s: runs {', '.join(f'{r:.0f}' for r in rates)} req/s, "
        f"median {statistics.median(rates):.0f} req/s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
