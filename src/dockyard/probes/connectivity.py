"""Connectivity checks against a server: can the control plane resolve, reach and talk to it?

Each check is timed and returns passed/warning/failed with a human message; later checks are
skipped once the host is unreachable. The host is resolved once and checked against the egress
policy (a refused one is an `egress-policy` check, no packet sent); the connection goes to the
checked addresses (outbound/guard.py).
"""

import platform
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dockyard.domain.egress import EgressPolicy
from dockyard.outbound import guard
from dockyard.runtimes import redirect

CONNECT_TIMEOUT_S = 3.0
LOW_DISK_BYTES = 1 << 30


@dataclass
class Check:
    name: str
    status: str
    message: str
    duration_ms: int = 0
    metadata: dict[str, str] = field(default_factory=dict)


def _timed(name: str, fn: Callable[[], tuple[str, str, dict[str, str]]]) -> Check:
    start = time.perf_counter()
    try:
        status, message, meta = fn()
    except OSError as exc:
        status, message, meta = "failed", f"{type(exc).__name__}: {exc}", {}
    return Check(name, status, message, int((time.perf_counter() - start) * 1000), meta)


def _connect(policy: EgressPolicy, host: str, port: int) -> tuple[str, str, dict[str, str]]:
    with guard.connect(policy, host, port, CONNECT_TIMEOUT_S) as sock:
        sock.settimeout(CONNECT_TIMEOUT_S)
        try:
            banner = sock.recv(256).split(b"\n", 1)[0].decode(errors="replace").strip()
        except TimeoutError:
            banner = ""
    if banner.startswith("SSH-"):
        return "passed", f"port {port} answers with {banner}", {"banner": banner}
    return "warning", f"port {port} accepts connections but sent no SSH banner", {"banner": banner}


def check_remote(policy: EgressPolicy, host: str, port: int) -> list[Check]:
    start = time.perf_counter()
    try:
        addresses = guard.checked_addresses(policy, host, port)
    except guard.EgressDenied as exc:
        return [Check("egress-policy", "failed", exc.message)]
    except OSError as exc:
        resolved = Check("dns-resolve", "failed", f"{type(exc).__name__}: {exc}")
        return [resolved, Check("tcp-connect", "skipped", "host did not resolve")]
    listed = ", ".join(addresses)
    took = int((time.perf_counter() - start) * 1000)
    resolved = Check("dns-resolve", "passed", f"{host} resolves to {listed}", took, {"addresses": listed})
    return [resolved, _timed("ssh-reachable", lambda: _connect(policy, host, port))]


def _disk(data_dir: Path) -> tuple[str, str, dict[str, str]]:
    usage = shutil.disk_usage(data_dir)
    status = "passed" if usage.free >= LOW_DISK_BYTES else "warning"
    return status, f"{usage.free // (1 << 20)} MiB free for {data_dir}", {"freeBytes": str(usage.free)}


def _host() -> tuple[str, str, dict[str, str]]:
    return (
        "passed",
        f"control plane runs on {platform.system()} {platform.release()}",
        {"kernel": platform.release(), "machine": platform.machine(), "python": platform.python_version()},
    )


def _stable_port() -> tuple[str, str, dict[str, str]]:
    """How apps' stable ports are served: by a kernel redirect (no process between a client and the
    app), or by the supervisor's forwarder (each byte through Python), the last fallback."""
    why_not = redirect.unavailable()
    if why_not is None:
        return (
            "passed",
            "stable ports reach apps through a kernel redirect (nftables)",
            {"mechanism": redirect.KERNEL_REDIRECT},
        )
    return (
        "warning",
        f"stable ports are forwarded through Python, slower: {why_not}. Run Dockyard as root with "
        "nftables installed for a kernel redirect.",
        {"mechanism": redirect.FORWARDER, "reason": why_not},
    )


def check_local(data_dir: Path) -> list[Check]:
    return [
        _timed("local-host", _host),
        _timed("disk-space", lambda: _disk(data_dir)),
        _timed("stable-port", _stable_port),
    ]


def overall(checks: list[Check]) -> str:
    statuses = {c.status for c in checks}
    if "failed" in statuses:
        return "unreachable"
    return "degraded" if "warning" in statuses else "healthy"
