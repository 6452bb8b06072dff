"""The Python interpreters on this machine, found without uv's discovery (pyenv's shims confuse it):
Dockyard's own, /usr/bin/python3.X, /usr/local/bin/python3.X and pyenv's versions. Each is asked its
version once per process."""

import glob
import os
import re
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from dockyard.pipeline.detect.python_version import Interpreter, Request, choose

NAME_RE = re.compile(r"python3\.\d+$")  # not python3.11-config
ASK = "import sys;print(*sys.version_info[:3])"
_versions: dict[str, tuple[int, ...] | None] = {}
_lock = threading.Lock()


def candidate_paths() -> list[str]:
    """Dockyard's interpreter first, then the others in a stable order."""
    pyenv = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    found = [
        path
        for pattern in ("/usr/bin/python3.*", "/usr/local/bin/python3.*")
        for path in sorted(glob.glob(pattern))
        if NAME_RE.search(path)
    ]
    found += sorted(glob.glob(os.path.join(pyenv, "versions", "*", "bin", "python3")))
    return list(dict.fromkeys([sys.executable, *found]))


def _ask(path: str) -> tuple[int, ...] | None:
    if path == sys.executable:
        return tuple(sys.version_info[:3])
    try:
        done = subprocess.run(
            [path, "-c", ASK], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL
        )
        return tuple(int(p) for p in done.stdout.split()) if done.returncode == 0 else None
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None


def interpreters(paths: list[str]) -> list[Interpreter]:
    """The paths that answered with a version, in their order; each path is asked once per process."""
    with _lock:
        missing = [p for p in paths if p not in _versions]
    if missing:
        with ThreadPoolExecutor(max_workers=4) as pool:
            answers = dict(zip(missing, pool.map(_ask, missing), strict=True))
        with _lock:
            _versions.update(answers)
    return [Interpreter(v, p) for p in paths if (v := _versions.get(p)) is not None]


def find(request: Request | None) -> tuple[Interpreter | None, list[Interpreter]]:
    """(the interpreter for `request` or None, the interpreters that were considered). Dockyard's own
    Python answers without asking the others when it satisfies the request."""
    own = interpreters([sys.executable])
    chosen = choose(request, own)
    if chosen is not None:
        return chosen, own
    every = interpreters(candidate_paths())
    return choose(request, every), every
