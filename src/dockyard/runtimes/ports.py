"""Ports on this machine: whether one is taken, who holds it (when /proc says), a free one to hand out.

Apps and runners listen on 127.0.0.1. A port counts as taken when anything could answer a client of
that port on this machine: a listener on 127.0.0.1, on the wildcard, on ::1 (where `localhost`
often resolves first) or on another address. One dual-stack bind on the wildcard address tells
(SO_REUSEADDR, so connections left in TIME_WAIT by a previous owner do not count).
"""

import contextlib
import os
import socket
from collections.abc import Collection
from pathlib import Path

MAX_TRIES = 200
LISTEN_STATE = "0A"  # TCP_LISTEN in /proc/net/tcp*
ESTABLISHED_STATE = "01"


def _probe_family() -> tuple[socket.AddressFamily, str]:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            s.bind(("::", 0))
    except OSError:
        return socket.AF_INET, "0.0.0.0"
    return socket.AF_INET6, "::"


PROBE = _probe_family()


def taken(port: int) -> bool:
    """Whether another socket holds `port` (a listener anywhere on this machine, or a connection)."""
    family, address = PROBE
    with socket.socket(family) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        try:
            s.bind((address, port))
        except OSError:
            return True
    return False


def allocate(reserved: Collection[int] = ()) -> int:
    """A port on 127.0.0.1 nothing holds and that is not `reserved` (handed to someone already) nor
    redirected by the kernel to an app (a stable port whose supervisor is down)."""
    from dockyard.runtimes.redirect import redirected

    reserved = {*reserved, *redirected()}
    seen: set[int] = set()
    for _ in range(MAX_TRIES):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))  # the kernel picks at random among ports free on 127.0.0.1
            port = s.getsockname()[1]
        if port in seen:
            continue
        seen.add(port)
        if port not in reserved and not taken(port):
            return port
    raise OSError(f"no free port on 127.0.0.1 after {MAX_TRIES} tries")


def _sockets(
    port: int, wanted_state: str, either_end: bool = False, netns_of: int | None = None
) -> list[str]:
    """The inodes of the sockets in `wanted_state` whose local port (or, `either_end`, remote port)
    is `port` (/proc/net/tcp*; those of the network namespace of process `netns_of`)."""
    inodes: list[str] = []
    where = f"/proc/{netns_of}/net" if netns_of else "/proc/net"
    for table in (f"{where}/tcp", f"{where}/tcp6"):
        with contextlib.suppress(OSError), open(table) as rows:
            next(rows, None)
            for row in rows:
                fields = row.split()
                ends = (fields[1], fields[2]) if either_end else (fields[1],)
                if fields[3] == wanted_state and any(int(e.rsplit(":", 1)[1], 16) == port for e in ends):
                    inodes.append(fields[9])
    return inodes


def _listening_inodes(port: int) -> set[str]:
    return set(_sockets(port, LISTEN_STATE))


def connected(port: int, netns_of: int | None = None) -> bool:
    """Whether a connection to `port` is still open on this machine, or in the network namespace of
    process `netns_of` (a container's). The kernel's view: it sees connections that reached an app
    without passing through Dockyard."""
    return bool(_sockets(port, ESTABLISHED_STATE, either_end=True, netns_of=netns_of))


def holder(port: int) -> str | None:
    """Who listens on `port`: "pid 1234 (python3 -m http.server 8000)", when /proc can tell."""
    inodes = _listening_inodes(port)
    if not inodes:
        return None
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (proc / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in wanted:
                        command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").strip()
                        return f"pid {proc.name} ({command.decode(errors='replace')[:200]})"
    return "another process"
