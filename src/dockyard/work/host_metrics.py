"""What the machine itself looks like at a moment: load, memory, the data dir's disk and inodes,
network counters. Read from /proc and statvfs (Linux), each part None when it cannot be read."""

import contextlib
import os
from pathlib import Path
from typing import Any


def _meminfo(text: str) -> dict[str, int] | None:
    fields = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            fields[name] = int(parts[0]) * 1024  # kB
    if "MemTotal" not in fields or "MemAvailable" not in fields:
        return None
    total, available = fields["MemTotal"], fields["MemAvailable"]
    return {"totalBytes": total, "availableBytes": available, "usedBytes": total - available}


def _network(text: str) -> dict[str, int] | None:
    """Bytes received and sent by every interface but loopback, since boot (/proc/net/dev)."""
    rx = tx = 0
    seen = False
    for line in text.splitlines()[2:]:
        name, _, counters = line.partition(":")
        values = counters.split()
        if name.strip() == "lo" or len(values) < 9:
            continue
        rx, tx, seen = rx + int(values[0]), tx + int(values[8]), True
    return {"rxBytes": rx, "txBytes": tx} if seen else None


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text()
    except OSError:
        return None


def read_host(data_dir: Path) -> dict[str, Any]:
    """One reading; the disk and inode figures are those of the filesystem holding `data_dir`."""
    out: dict[str, Any] = {"logicalCores": os.cpu_count()}
    with contextlib.suppress(OSError):
        out["loadAverage"] = list(os.getloadavg())
    meminfo, netdev = _read("/proc/meminfo"), _read("/proc/net/dev")
    out["memory"] = _meminfo(meminfo) if meminfo else None
    out["network"] = _network(netdev) if netdev else None
    try:
        fs = os.statvfs(data_dir)
    except OSError:
        return out
    total, free = fs.f_blocks * fs.f_frsize, fs.f_bavail * fs.f_frsize
    out["disk"] = {"totalBytes": total, "availableBytes": free, "usedBytes": total - fs.f_bfree * fs.f_frsize}
    out["inode"] = {"total": fs.f_files, "available": fs.f_favail, "used": fs.f_files - fs.f_ffree}
    return out
