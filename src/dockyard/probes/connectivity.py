"""Connectivity checks against a server: can the control plane resolve, reach and talk to it?

Each check is timed and returns passed/warning/failed with a human message; later checks are
skipped once the host is unreachable.
"""

import ipaddress
import os
import platform
import shutil
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

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


def _resolve(host: str, port: int) -> tuple[str, str, dict[str, str]]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = sorted({str(info[4][0]) for info in infos})
    return "passed", f"{host} resolves to {', '.join(addresses)}", {"addresses": ",".join(addresses)}


def _connect(host: str, port: int) -> tuple[str, str, dict[str, str]]:
    with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S) as sock:
        sock.settimeout(CONNECT_TIMEOUT_S)
        try:
            banner = sock.recv(256).split(b"\n", 1)[0].decode(errors="replace").strip()
        except TimeoutError:
            banner = ""
    if banner.startswith("SSH-"):
        return "passed", f"port {port} answers with {banner}", {"banner": banner}
    return "warning", f"port {port} accepts connections but sent no SSH banner", {"banner": banner}


def egress_allowlist() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network] | None:
    """Networks probes may reach, from DOCKYARD_PROBE_ALLOW (CIDRs, comma-separated); None = any."""
    raw = os.environ.get("DOCKYARD_PROBE_ALLOW", "").strip()
    return [ipaddress.ip_network(p.strip()) for p in raw.split(",") if p.strip()] if raw else None


def _egress_refusal(host: str) -> str | None:
    """Why a probe to `host` may not leave this machine, decided before any packet (or DNS query)."""
    allowed = egress_allowlist()
    if allowed is None:
        return None
    try:
        address = ipaddress.ip_address("127.0.0.1" if host == "localhost" else host)
    except ValueError:
        return f"{host} is a name and DOCKYARD_PROBE_ALLOW permits only listed address ranges"
    if any(address in net for net in allowed):
        return None
    return f"{address} is outside DOCKYARD_PROBE_ALLOW"


def check_remote(host: str, port: int) -> list[Check]:
    refusal = _egress_refusal(host)
    if refusal:
        return [Check("egress-policy", "failed", refusal)]
    resolved = _timed("dns-resolve", lambda: _resolve(host, port))
    if resolved.status == "failed":
        return [resolved, Check("tcp-connect", "skipped", "host did not resolve")]
    return [resolved, _timed("ssh-reachable", lambda: _connect(host, port))]


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


def check_local(data_dir: Path) -> list[Check]:
    return [_timed("local-host", _host), _timed("disk-space", lambda: _disk(data_dir))]


def overall(checks: list[Check]) -> str:
    statuses = {c.status for c in checks}
    if "failed" in statuses:
        return "unreachable"
    return "degraded" if "warning" in statuses else "healthy"
