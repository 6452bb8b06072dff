"""The stable port without a Python hop: a kernel NAT redirect (nftables) from each resource's front
port to its active instance's port, for connections made on this machine to 127.0.0.1 (the direct
URL, and the edge's upstream).

One nft table per data dir (`dockyard_<digest>`, its comment naming the folder), holding a map
front port → instance port and one rule at the nat output hook. A switch replaces the map in one
transaction: new connections go to the new instance at once, established ones keep the instance
they were mapped to (conntrack) until they end, which is what a drain waits for. The table outlives
the supervisor, so a killed supervisor never takes the apps' URLs with it.

A connection marked BYPASS_MARK (SO_MARK) is not redirected: it reaches the runner's own listener on
the front port, which answers the probe (the runner is also what serves when no redirect exists).
"""

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

BYPASS_MARK = 0x646B79
TABLE_PREFIX = "dockyard_"
NFT_TIMEOUT_S = 10.0
KERNEL_REDIRECT = "kernel-redirect"
FORWARDER = "forwarder"


class RedirectFailed(RuntimeError):
    pass


def unavailable() -> str | None:
    """Why this machine cannot redirect (None: it can): root and the `nft` command are needed."""
    if os.environ.get("DOCKYARD_STABLE_PORT") == FORWARDER:
        return "DOCKYARD_STABLE_PORT=forwarder asks for the Python forwarder"
    if os.geteuid() != 0:
        return "not running as root (a kernel redirect needs CAP_NET_ADMIN)"
    if shutil.which("nft") is None:
        return "the nft command is not installed (apt-get install nftables)"
    return None


def bypass_options() -> list[tuple[int, int, int]]:
    """Socket options for a connection that must reach the runner itself (its probe), not the app."""
    import socket

    if unavailable() is not None:
        return []
    return [(socket.SOL_SOCKET, socket.SO_MARK, BYPASS_MARK)]


def table_name(root: Path) -> str:
    return TABLE_PREFIX + hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]


def _nft(script: str | None, *args: str) -> str:
    done = subprocess.run(
        ["nft", *args, *(["-f", "-"] if script is not None else [])],
        input=script,
        capture_output=True,
        text=True,
        timeout=NFT_TIMEOUT_S,
    )
    if done.returncode != 0:
        raise RedirectFailed(done.stderr.strip() or f"nft exited with {done.returncode}")
    return done.stdout


class Redirects:
    """The data dir's table; every call replaces what it holds."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.table = table_name(root)

    def apply(self, routes: dict[int, int]) -> None:
        """Make the map exactly `routes` (front port → instance port), creating the table if needed."""
        elements = ", ".join(f"{front} : {port}" for front, port in sorted(routes.items()))
        comment = json.dumps(f"dockyard {self.root.resolve()}")
        _nft(
            f"table ip {self.table} {{\n"
            f"  comment {comment}\n"
            "  map fronts { type inet_service : inet_service; }\n"
            "  chain out {\n"
            "    type nat hook output priority -100; policy accept;\n"
            "  }\n"
            "}\n"
            f"flush chain ip {self.table} out\n"
            f"flush map ip {self.table} fronts\n"
            f"add rule ip {self.table} out ip daddr 127.0.0.1 meta l4proto tcp meta mark != {BYPASS_MARK:#x} "
            f"redirect to tcp dport map @fronts\n"
            + (f"add element ip {self.table} fronts {{ {elements} }}\n" if elements else "")
        )

    def current(self) -> dict[int, int]:
        """What the kernel redirects now ({} when there is no table)."""
        try:
            out = json.loads(_nft(None, "-j", "list", "map", "ip", self.table, "fronts"))
        except (RedirectFailed, ValueError):
            return {}
        for item in out.get("nftables", []):
            if "map" in item:
                return {int(k): int(v) for k, v in item["map"].get("elem", [])}
        return {}

    def remove(self) -> None:
        with contextlib.suppress(RedirectFailed):  # there was none
            _nft(None, "delete", "table", "ip", self.table)


def redirected() -> set[int]:
    """Every front port a Dockyard table on this machine redirects (any data dir's): never handed
    out again while the redirect stands. Empty where redirects cannot exist."""
    if unavailable() is not None:
        return set()
    try:
        listed = json.loads(_nft(None, "-j", "list", "maps", "ip"))
    except (RedirectFailed, ValueError, OSError):
        return set()
    found: set[int] = set()
    for item in listed.get("nftables", []):
        table_map = item.get("map", {})
        if table_map.get("table", "").startswith(TABLE_PREFIX):
            found.update(int(front) for front, _ in table_map.get("elem", []))
    return found


def forget_stale() -> list[str]:
    """Delete the tables of data dirs that no longer exist (a removed folder's leftover would send a
    reused port to nothing): the tables removed."""
    try:
        listed = json.loads(_nft(None, "-j", "list", "tables"))
    except (RedirectFailed, ValueError, OSError):
        return []
    removed = []
    for item in listed.get("nftables", []):
        name = item.get("table", {}).get("name", "")
        if not name.startswith(TABLE_PREFIX):
            continue
        try:
            shown = json.loads(_nft(None, "-j", "list", "table", "ip", name))
        except (RedirectFailed, ValueError):
            continue
        comment = next((t["table"].get("comment", "") for t in shown["nftables"] if "table" in t), "")
        folder = comment.removeprefix("dockyard ")
        if comment.startswith("dockyard ") and not Path(folder).is_dir():
            try:
                _nft(None, "delete", "table", "ip", name)
            except RedirectFailed:
                continue
            removed.append(name)
    return removed
