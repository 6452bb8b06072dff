"""The edge proxy: hostnames on ports 80/443 to each resource's front port (see protocol.py)."""

from dockyard.edge.caddy import CaddyEdge
from dockyard.edge.nginx import NginxEdge
from dockyard.edge.protocol import Edge, EdgeSettings


def make_edge(settings: EdgeSettings) -> Edge | None:
    """The adapter for `settings.kind`, or None when the platform runs without an edge."""
    if settings.kind == "none":
        return None
    if settings.kind == "nginx":
        return NginxEdge(settings)
    if settings.kind == "caddy":
        return CaddyEdge(settings)
    raise ValueError(f"unknown edge kind {settings.kind!r}: choose none, nginx or caddy")
