"""The stable port without a Python hop: a kernel NAT redirect (nftables) from each resource's front
port to its active instance's port, for connections made on this machine to 127.0.0.1 (the direct
URL, and the edge's upstream).

One nft table per data dir (`dockyard_<digest>`, its comment naming the folder), holding a map
front port → the instance's own address (127.0.0.1 and its port for a host process; a container's
address on its engine network and its port inside, which skips the engine's published-port NAT) and
one rule at the nat output hook; what leaves loopback that way is masqueraded, as the engine does.
A switch replaces the map in one transaction: new connections go to the new instance at once,
established ones keep the instance they were mapped to (conntrack) until they end, which is what a
drain waits for. The table outlives the supervisor, so a killed supervisor never takes the apps'
URLs with it.

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

    def apply(self, routes: dict[int, tuple[str, int]]) -> None:
        """Make the map exactly `routes` (front port → (address, port)), creating the table if needed."""
        for address, _ in routes.values():
            if not address.startswith("127."):
                allow_loopback_source(address)
        elements = ", ".join(f"{front} : {ip} . {port}" for front, (ip, port) in sorted(routes.items()))
        comment = json.dumps(f"dockyard {self.root.resolve()}")
        t = self.table
        _nft(
            f"table ip {t} {{\n"
            f"  comment {comment}\n"
            "  map fronts { type inet_service : ipv4_addr . inet_service; }\n"
            "  chain out { type nat hook output priority -100; policy accept; }\n"
            "  chain post { type nat hook postrouting priority 100; policy accept; }\n"
            "}\n"
            f"flush chain ip {t} out\n"
            f"flush chain ip {t} post\n"
            f"flush map ip {t} fronts\n"
            f"add rule ip {t} out ip daddr 127.0.0.1 meta l4proto tcp meta mark != {BYPASS_MARK:#x} "
            "dnat ip to tcp dport map @fronts\n"
            f'add rule ip {t} post ip saddr 127.0.0.1 ct status dnat oifname != "lo" masquerade\n'
            + (f"add element ip {t} fronts {{ {elements} }}\n" if elements else "")
        )

    def current(self) -> dict[int, tuple[str, int]]:
        """What the kernel redirects now ({} when there is no table)."""
        try:
            out = json.loads(_nft(None, "-j", "list", "map", "ip", self.table, "fronts"))
        except (RedirectFailed, ValueError):
            return {}
        for item in out.get("nftables", []):
            if "map" in item:
                return {int(k): _target(v) for k, v in item["map"].get("elem", [])}
        return {}

    def remove(self) -> None:
        with contextlib.suppress(RedirectFailed):  # there was none
            _nft(None, "delete", "table", "ip", self.table)


def _target(value: object) -> tuple[str, int]:
    """A map value as nft's JSON shows it: {"concat": [address, port]}."""
    ip, port = value["concat"]  # type: ignore[index]
    return str(ip), int(port)


def allow_loopback_source(address: str) -> None:
    """Let connections from 127.0.0.1 be routed to `address` through its interface (route_localnet:
    the engine sets it on its bridge when it publishes on 127.0.0.1; set here when it did not)."""
    try:
        route = json.loads(
            subprocess.run(
                ["ip", "-j", "route", "get", address], capture_output=True, text=True, timeout=NFT_TIMEOUT_S
            ).stdout
        )
        device = route[0]["dev"]
    except (OSError, ValueError, IndexError, KeyError, subprocess.TimeoutExpired):
        return
    flag = Path(f"/proc/sys/net/ipv4/conf/{device}/route_localnet")
    with contextlib.suppress(OSError):
        if flag.read_text().strip() != "1":
            flag.write_text("1")


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
