"""What the platform needs from an edge proxy: routes in, a running proxy that serves them out.

The edge routes hostnames on its HTTP(S) ports to each resource's stable front port on 127.0.0.1
(the per-resource runner owns that port and swaps instances behind it without dropping requests),
so a redeploy never changes the edge's configuration: only new or removed routes do.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal, Protocol

EdgeKind = Literal["none", "nginx", "caddy"]
ACME_CHALLENGE_PATH = "/.well-known/acme-challenge/"  # HTTP-01 (RFC 8555 §8.3)
# Pending HTTP-01 challenges: token -> key authorization, answered on HTTP for every hostname. They are
# part of the config (not files) because the proxy's workers may not read Dockyard's private data dir.
Challenges = Mapping[str, str]
NO_CHALLENGES: Challenges = MappingProxyType({})


@dataclass(frozen=True)
class TlsFiles:
    certificate_path: str  # PEM chain, leaf first
    key_path: str
    # Of the leaf; written into the config so that a renewal, which replaces the files in place,
    # changes the config and makes the proxy load the new files.
    fingerprint: str = ""


@dataclass(frozen=True)
class Route:
    hostname: str  # e.g. "hello-python.localhost"; lower case, validated before it gets here
    upstream_port: int  # 127.0.0.1:<port>
    path_prefix: str = "/"
    tls: TlsFiles | None = None  # serve HTTPS for this hostname with these files
    redirect_to: str | None = None  # answer 301 to https?://<redirect_to><path> instead of proxying
    resource_id: str | None = None  # for comments in the generated config and for diagnostics


@dataclass(frozen=True)
class SkippedRoute:
    """A route the edge left out of its config, and why (the rest were applied)."""

    hostname: str
    path_prefix: str
    resource_id: str | None
    message: str


ALL_INTERFACES = "0.0.0.0"


@dataclass(frozen=True)
class EdgeSettings:
    kind: EdgeKind
    state_dir: Path  # everything the edge owns: config, pid file, logs (data_dir/edge/<kind>)
    http_port: int = 80
    https_port: int = 443
    listen_address: str = ALL_INTERFACES


@dataclass
class EdgeStatus:
    kind: EdgeKind
    running: bool
    pid: int | None = None
    version: str | None = None
    config_path: str | None = None
    last_error: str | None = None  # the last failed apply/validation, kept until a good apply
    route_count: int = 0
    skipped: list[SkippedRoute] = field(default_factory=list)  # by the last good apply
    details: dict[str, str] = field(default_factory=dict)


class EdgeConfigInvalid(Exception):
    """The proxy refused the generated configuration; the running proxy keeps its last good one."""


class EdgeUnavailable(Exception):
    """The proxy is not installed or cannot be started; the message says what to do."""


class Edge(Protocol):
    settings: EdgeSettings

    def render(self, routes: list[Route], challenges: Challenges = NO_CHALLENGES) -> str:
        """The configuration text these routes produce (pure; used for previews)."""
        ...

    def ensure_running(self) -> EdgeStatus:
        """Start the proxy when it is not running (detached: it outlives `dockyard serve`)."""
        ...

    def apply(self, routes: list[Route], challenges: Challenges = NO_CHALLENGES) -> EdgeStatus:
        """Render, validate, swap in and reload gracefully; raise EdgeConfigInvalid (old config kept).
        A route the config cannot hold is left out and reported in the status's `skipped`."""
        ...

    def status(self) -> EdgeStatus: ...

    def stop(self) -> None: ...
