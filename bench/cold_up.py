"""A user's first deploy, with nothing cached: `dockyard up` of each example until its URL answers (issue 15).

Each round starts a fresh `dockyard serve` with a new data dir and a new HOME (so neither Dockyard's
dependency cache, uv's, nor npm's own cache under ~/.npm holds anything), copies the example to a new
folder, then times `dockyard up --json` until the URL answers 200 — the cold figure — and one
redeploy after an edit — the warm figure, for comparison. The control plane's own start is not timed
(it is warm for a user's second app too). Examples: hello-static, hello-python (FastAPI), hello-node,
and a Django site as `django-admin startproject` lays it out, served by gunicorn. Medians of --rounds.

Targets (issue 15): hello-python <= 2.0 s, the Django site <= 3.0 s, hello-node <= 2.0 s, cold.

    .venv/bin/python bench/cold_up.py [--rounds 3] [--examples hello-static,hello-python,hello-node,django]
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

from dockyard.runtimes.host_process import HostProcessRuntime
from serve_process import cli_env, commit, start_server, stop_server
from up_latency import EXAMPLES, PAGES, timed_run, up

TARGETS_S = {"hello-static": None, "hello-python": 2.0, "hello-node": 2.0, "django": 3.0}
ANSWER_DEADLINE_S = 120.0
DJANGO = {
    "requirements.txt": "django>=5.0\ngunicorn>=22\n",
    "manage.py": """#!/usr/bin/env python
import os, sys
if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)
""",
    "mysite/__init__.py": "",
    "mysite/settings.py": """from pathlib import Path
BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "bench-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth"]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "mysite.urls"
WSGI_APPLICATION = "mysite.wsgi.application"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
USE_TZ = True
""",
    "mysite/urls.py": """from django.http import HttpResponse
from django.urls import path
def home(request):
    return HttpResponse("Hello from Dockyard (Django)")
urlpatterns = [path("", home)]
""",
    "mysite/wsgi.py": """import os
from django.core.wsgi import get_wsgi_application
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
application = get_wsgi_application()
""",
}
DJANGO_PAGE = "mysite/urls.py"


def make_app(name: str, folder: Path) -> str:
    """The example's files in `folder`; returns the file a visible edit goes into."""
    if name == "django":
        for rel, text in DJANGO.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text(text)
        return DJANGO_PAGE
    shutil.copytree(EXAMPLES / name, folder)
    return PAGES[name]


def answered(url: str, started: float) -> float:
    """Seconds from `started` until `url` answers 200."""
    with httpx.Client(timeout=5.0, trust_env=False) as client:
        while time.perf_counter() - started < ANSWER_DEADLINE_S:
            try:
                if client.get(url).status_code == 200:
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass
            time.sleep(0.005)
    raise RuntimeError(f"{url} did not answer 200 within {ANSWER_DEADLINE_S:.0f} s")


def one_round(name: str, root: Path) -> tuple[float, float]:
    """(cold, warm) seconds of one example on a fresh control plane, data dir and HOME."""
    home = root / "home"
    home.mkdir(parents=True)
    server = start_server(root / "data", {"HOME": str(home)})
    env = {**cli_env(root, server), "HOME": str(home)}
    try:
        folder = root / "apps" / name
        folder.parent.mkdir(parents=True)
        page = make_app(name, folder)
        started = time.perf_counter()
        result = up(folder, env)
        cold = answered(result["url"], started)
        warm = timed_run(folder, page, env, f"{name}-warm")
    finally:
        stop_server(server)
        HostProcessRuntime(root / "data").shutdown_all()
    return cold, warm


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--examples", default=",".join(TARGETS_S))
    args = parser.parse_args()
    names = [n.strip() for n in args.examples.split(",") if n.strip()]
    unknown = [n for n in names if n not in TARGETS_S]
    if unknown or args.rounds < 1:
        parser.error(f"unknown example(s) {unknown}; choose from {list(TARGETS_S)}; --rounds >= 1")
    print(
        f"cold_up: {args.rounds} rounds per example, nothing cached; {os.cpu_count()} cpus, "
        f"Python {sys.version.split()[0]}, commit {commit()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    verdicts = []
    for name in names:
        colds, warms = [], []
        for r in range(args.rounds):
            root = Path(tempfile.mkdtemp(prefix=f"dockyard-bench-cold-{r}-"))
            try:
                cold, warm = one_round(name, root)
            finally:
                shutil.rmtree(root, ignore_errors=True)
            colds.append(cold)
            warms.append(warm)
        cold, warm, target = statistics.median(colds), statistics.median(warms), TARGETS_S[name]
        ok = target is None or cold <= target
        verdicts.append(ok)
        print(
            f"{'PASS' if ok else 'MISS'}  {name:13} cold {cold:.2f} s"
            + (f" (target <= {target:.1f} s)" if target else " (no target)")
            + f"  runs {', '.join(f'{c:.2f}' for c in colds)}; warm redeploy {warm:.2f} s"
        )
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
