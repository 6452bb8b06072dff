"""Time from `dockyard up --json` to a 200 with the new content, on the container runtime (issue 4).

The engine is warm and the base images exist (run `bash scripts/container-engine.sh` first, as
`make test` does). A real `dockyard serve` runs with DOCKER_HOST pointing at the engine. Two apps:
a static site with its own Dockerfile, and examples/hello-python with `--runtime container` (a
generated image; its dependency layer is cached by the engine after the first, untimed deploy).
Each run edits a marker into the served text. Prints medians of the runs and PASS/MISS against the
target: the Dockerfile static site <= 3 s.

    DOCKER_HOST=unix:///run/dockyard-podman.sock .venv/bin/python bench/container_up.py [--runs 5]
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

from dockyard.runtimes.engine import available, engine_url
from dockyard.runtimes.host_process import HostProcessRuntime
from serve_process import cli_env, commit, start_server, stop_server
from up_latency import EXAMPLES, timed_run, up

BUSYBOX = os.environ.get("DOCKYARD_BUSYBOX_IMAGE", "localhost/dockyard-busybox:1")
PYTHON = os.environ.get("DOCKYARD_PYTHON_IMAGE", "localhost/dockyard-python:3.11")
STATIC_TARGET_S = 3.0
DOCKERFILE = f"""FROM {BUSYBOX}
COPY index.html /www/index.html
EXPOSE 8080
CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not available():
        print(
            f"no container engine answers at {engine_url()}; run scripts/container-engine.sh", file=sys.stderr
        )
        return 2
    print(
        f"container_up: {args.runs} runs; engine {engine_url()}; {os.cpu_count()} cpus, commit {commit()}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    bases = {"DOCKYARD_BASE_IMAGE_STATIC": BUSYBOX, "DOCKYARD_BASE_IMAGE_PYTHON": PYTHON}
    root = Path(tempfile.mkdtemp(prefix="dockyard-bench-ctr-"))
    server = start_server(root / "data", {"DOCKER_HOST": engine_url() or "", **bases})
    env = cli_env(root, server)
    ok = True
    try:
        site = root / "apps" / "dockerfile-site"
        site.mkdir(parents=True)
        (site / "Dockerfile").write_text(DOCKERFILE)
        (site / "index.html").write_text("Hello from Dockyard (container)\n")
        python = root / "apps" / "hello-python"
        shutil.copytree(EXAMPLES / "hello-python", python)
        cases = [
            ("dockerfile static site", site, "index.html", (), STATIC_TARGET_S),
            ("hello-python container", python, "main.py", ("--runtime", "container"), None),
        ]
        for label, folder, page, extra, target in cases:
            started = time.perf_counter()
            up(folder, env, *extra)  # first deploy: base layers and the dependency layer
            first = time.perf_counter() - started
            runs = [timed_run(folder, page, env, f"c{i}", *extra) for i in range(args.runs)]
            median = statistics.median(runs)
            verdict = "info" if target is None else ("PASS" if median <= target else "MISS")
            ok = ok and verdict != "MISS"
            goal = f" (target <= {target:.1f} s)" if target else ""
            print(
                f"{verdict}  {label:24} median {median:.3f} s{goal}"
                f"  runs {', '.join(f'{r:.3f}' for r in runs)}"
                f"  first deploy {first:.2f} s"
            )
    finally:
        stop_server(server)
        HostProcessRuntime(root / "data").shutdown_all()
        shutil.rmtree(root, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
