"""What the nginx and Caddy adapters share: the binary, the proxy's pid, a detached start, the state file.

The proxy is not a child we can wait for (nginx daemonizes itself; Caddy is started through a short-lived
intermediate), so liveness is read from /proc, and a zombie (PID 1 here may not reap) counts as exited.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dockyard.domain.access import path_prefix_error
from dockyard.edge.protocol import EdgeStatus, EdgeUnavailable, Route, SkippedRoute, TlsFiles

POLL_S = 0.01
SBIN_DIRS = ("/usr/local/sbin", "/usr/sbin", "/sbin")
NOT_FOUND_BODY = "No app is served at this hostname (Dockyard).\n"
HOSTNAME_RE = re.compile(r"^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # base64url (RFC 8555 §8.3)
KEY_AUTHORIZATION_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}\.[A-Za-z0-9_-]{1,256}$")


def find_binary(name: str, package: str) -> str:
    """The proxy's executable, or EdgeUnavailable saying which Debian package provides it."""
    search = os.pathsep.join([os.environ.get("PATH", ""), *SBIN_DIRS])  # nginx is in /usr/sbin
    found = shutil.which(name, path=search)
    if found:
        return found
    raise EdgeUnavailable(
        f"{name} is not installed: install the Debian package `{package}` (apt-get install {package}, "
        "or `make system-deps` as root), or choose another edge"
    )


@functools.cache
def version_of(argv: tuple[str, ...], pattern: str = r"(\d+\.\d+\.\d+\S*)") -> str | None:
    """The version a `--version`-style command prints (to stdout or stderr), cached per command."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(pattern, done.stdout + done.stderr)
    return found.group(1) if found else None


def check_route(route: Route) -> None:
    """Refuse what could break out of a config statement (the API validates; this is the last line)."""
    if not HOSTNAME_RE.fullmatch(route.hostname):  # fullmatch: `$` lets a final "\n" by
        raise ValueError(f"invalid hostname for the edge: {route.hostname!r}")
    problem = path_prefix_error(route.path_prefix)
    if problem:
        raise ValueError(f"invalid path prefix for {route.hostname}: {route.path_prefix!r} ({problem})")
    if not 0 < route.upstream_port < 65536:
        raise ValueError(f"invalid upstream port for {route.hostname}: {route.upstream_port}")
    if route.redirect_to is not None and not re.fullmatch(r"[A-Za-z0-9.:\[\]-]+", route.redirect_to):
        raise ValueError(f"invalid redirect target for {route.hostname}: {route.redirect_to!r}")
    for path in (route.tls.certificate_path, route.tls.key_path) if route.tls else ():
        if not path.startswith("/") or re.search(r"[\s;{}\"'\\]", path):
            raise ValueError(f"invalid TLS file path for {route.hostname}: {path!r}")


def renderable(routes: list[Route]) -> tuple[list[Route], list[SkippedRoute]]:
    """The routes `check_route` accepts, and the others with the reason: the edge applies the first and
    reports the second, so one bad route (e.g. stored before the API refused it) blocks no other."""
    good, skipped = [], []
    for route in routes:
        try:
            check_route(route)
        except ValueError as exc:
            skipped.append(SkippedRoute(route.hostname, route.path_prefix, route.resource_id, str(exc)))
        else:
            good.append(route)
    return good, skipped


def _route_order(r: Route) -> tuple[bool, str, int, str]:
    return (r.hostname.startswith("*."), r.hostname, -len(r.path_prefix), r.path_prefix)


def sorted_routes(routes: list[Route]) -> list[Route]:
    """Deterministic order: exact hostnames before wildcards, by name, then longest path prefix first
    (Caddy takes the first matching route; this gives nginx's precedence)."""
    return sorted(routes, key=_route_order)


def by_hostname(routes: list[Route]) -> list[tuple[str, TlsFiles | None, list[Route]]]:
    """Checked routes grouped per hostname in `sorted_routes` order, with the hostname's TLS files: those
    of its first route that has any (a hostname is served over HTTPS as a whole)."""
    groups: dict[str, list[Route]] = {}
    for route in sorted_routes(routes):
        check_route(route)
        groups.setdefault(route.hostname, []).append(route)
    return [(h, next((r.tls for r in rs if r.tls), None), rs) for h, rs in groups.items()]


def listen_on(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def pid_alive(pid: int | None, name: str) -> bool:
    """Whether `pid` is a live (not zombie) process whose command line mentions `name`."""
    if not pid:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    return state not in ("Z", "X") and name.encode() in cmdline


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def children_of(pid: int) -> set[int]:
    """The pids whose parent is `pid` (nginx's workers)."""
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
                found.add(int(entry.name))
    return found


def wait_for(check: Callable[[], bool], timeout: float) -> bool:
    """Poll `check` until it is true (True) or `timeout` seconds pass (False)."""
    end = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() >= end:
            return False
        time.sleep(POLL_S)


def terminate(pid: int, name: str, first: signal.Signals, timeout: float) -> None:
    """Send `first` (the graceful stop), then SIGTERM, then SIGKILL, until the process has exited."""
    for sig, wait in ((first, timeout), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        if not pid_alive(pid, name):
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        if wait_for(lambda: not pid_alive(pid, name), wait):
            return
    raise EdgeUnavailable(f"{name} (pid {pid}) did not exit")


_DETACH = (
    "import subprocess, sys\n"
    "p = subprocess.Popen(\n"
    "    sys.argv[2:], stdin=subprocess.DEVNULL, stdout=2, stderr=2, start_new_session=True,\n"
    "    umask=int(sys.argv[1]),\n"
    ")\n"
    "print(p.pid, flush=True)\n"
)


def spawn_detached(
    argv: list[str], log_path: Path, env: dict[str, str] | None = None, umask: int = -1
) -> int:
    """Start `argv` in its own session (with `umask` unless -1), output appended to `log_path`,
    reparented away from us (no zombie left in a long-lived caller, no ResourceWarning); returns its pid."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        done = subprocess.run(
            [sys.executable, "-I", "-S", "-c", _DETACH, str(umask), *argv],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            env=env,
            timeout=30,
            check=False,
        )
    if done.returncode != 0:
        raise EdgeUnavailable(f"could not start {argv[0]}: see {log_path}")
    return int(done.stdout.split()[0])


TCP_MIGRATE_REQ = Path("/proc/sys/net/ipv4/tcp_migrate_req")


def tcp_migrate_req(enable: bool) -> str:
    """net.ipv4.tcp_migrate_req (Linux >= 5.14), turned on when `enable` and we may. A proxy that reloads by
    opening a new SO_REUSEPORT socket and closing the old one (Caddy >= 2.6) otherwise resets connections
    still queued on the old socket; the setting only changes what happens to those. Returns the state."""
    try:
        if TCP_MIGRATE_REQ.read_text().strip() != "0":
            return "1"
    except OSError:
        return "unsupported by this kernel"
    if not enable:
        return "0"
    try:
        TCP_MIGRATE_REQ.write_text("1\n")
    except OSError:
        return "0 (needs root: sysctl -w net.ipv4.tcp_migrate_req=1)"
    return "1"


def atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def log_tail(path: Path, lines: int = 20, since: int = 0) -> str:
    """The last `lines` lines of `path` after byte offset `since` (empty when there is no file)."""
    try:
        with path.open("rb") as f:
            f.seek(since)
            data = f.read()
    except OSError:
        return ""
    return "\n".join(data.decode(errors="replace").splitlines()[-lines:])


@dataclass
class EdgeState:
    """What a later process must know about the last apply (state_dir/edge-state.json)."""

    last_error: str | None = None
    route_count: int = 0
    skipped: list[SkippedRoute] = field(default_factory=list)

    @classmethod
    def load(cls, state_dir: Path) -> EdgeState:
        try:
            data = json.loads((state_dir / "edge-state.json").read_text())
            return cls(
                last_error=data.get("last_error"),
                route_count=int(data.get("route_count", 0)),
                skipped=[SkippedRoute(**r) for r in data.get("skipped", [])],
            )
        except (OSError, ValueError, TypeError, AttributeError):
            return cls()

    @classmethod
    def applied(cls, state_dir: Path, routes: list[Route], skipped: list[SkippedRoute]) -> None:
        """Record a good apply of `routes` (the ones left out: `skipped`)."""
        cls(last_error=None, route_count=len(routes), skipped=skipped).save(state_dir)

    def save(self, state_dir: Path) -> None:
        atomic_write(state_dir / "edge-state.json", json.dumps(asdict(self), indent=1) + "\n")

    @classmethod
    def record_error(cls, state_dir: Path, message: str) -> None:
        """Keep `message` as last_error (the route count stays that of the last good apply)."""
        state = cls.load(state_dir)
        state.last_error = message
        state.save(state_dir)


@contextlib.contextmanager
def state_lock(state_dir: Path) -> Iterator[None]:
    """One start/apply/stop at a time per state dir, across threads and processes."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with (state_dir / "edge.lock").open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def edge_status(
    kind: str,
    state_dir: Path,
    pid: int | None,
    version_argv: Callable[[], tuple[str, ...]],
    config_path: Path,
    details: dict[str, str],
) -> EdgeStatus:
    """The status both adapters report: liveness, version, the last apply's outcome, their details."""
    state = EdgeState.load(state_dir)
    try:
        version = version_of(version_argv())
    except EdgeUnavailable as exc:  # the binary is gone
        version, state.last_error = None, state.last_error or str(exc)
    return EdgeStatus(
        kind=kind,  # type: ignore[arg-type]
        running=pid is not None,
        pid=pid,
        version=version,
        config_path=str(config_path),
        last_error=state.last_error,
        route_count=state.route_count,
        skipped=state.skipped,
        details=details,
    )


def checked_challenges(challenges: Mapping[str, str]) -> list[tuple[str, str]]:
    """(token, key authorization) pairs, sorted; ValueError for anything that is not base64url, since
    both are pasted into the proxy's config."""
    for token, key_authorization in challenges.items():
        if not TOKEN_RE.fullmatch(token) or not KEY_AUTHORIZATION_RE.fullmatch(key_authorization):
            raise ValueError(f"invalid ACME HTTP-01 challenge {token[:40]!r}: not base64url")
    return sorted(challenges.items())
