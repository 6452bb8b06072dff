"""What went wrong when a request did not reach an app through its route: the answer a probe got, in;
a stable failure kind (code, phase, who should act, what to do next), out. Pure.

Only answers that prove where they came from are read as the edge's: its own "no app at this hostname"
page, or no connection at all. A 5xx the app itself sends is the app's failure, not the platform's.
"""

from dataclasses import dataclass

RETENTION_HOURS = 24  # evidence is short-lived: enough for a support request, not an archive


@dataclass(frozen=True)
class Answer:
    """What one request through a route got."""

    connected: bool  # False: nothing accepted the connection (the edge, or the direct port)
    status: int | None = None
    edge_not_found: bool = False  # the body is the edge's own page for a hostname it does not route
    identity: str | None = None  # the deployment the runner says it routes to (None: not proven)
    expected: str | None = None  # the deployment that should answer
    timed_out: bool = False
    foreign_edge: bool = False  # what holds the edge's address does not answer as Dockyard's edge


@dataclass(frozen=True)
class Failure:
    code: str
    category: str  # "infra" | "application" | "configuration"
    phase: str
    http_status: int | None
    retriable: bool
    owner_hint: str  # "platform" | "application"
    next_action: str


def classify(a: Answer, proxied: bool) -> Failure | None:
    """The failure `a` shows, or None when the request reached the expected deployment."""
    if not a.connected:
        if a.timed_out:
            return Failure(
                "resource_access_timeout",
                "infra",
                "edge-connect" if proxied else "runtime-connect",
                None,
                True,
                "platform",
                "check-health",
            )
        if proxied:
            return Failure(
                "resource_access_edge_unreachable",
                "infra",
                "edge-connect",
                None,
                True,
                "platform",
                "check-proxy",
            )
        return Failure(
            "resource_access_runtime_unreachable",
            "infra",
            "runtime-connect",
            None,
            True,
            "platform",
            "check-health",
        )
    if proxied and a.foreign_edge:
        return Failure(
            "resource_access_edge_foreign",
            "infra",
            "edge-connect",
            a.status,
            False,
            "platform",
            "check-proxy",
        )
    if a.edge_not_found:
        return Failure(
            "resource_access_route_not_found",
            "infra",
            "edge-request-routing",
            a.status or 404,
            True,
            "platform",
            "check-health",
        )
    if a.status in (502, 503, 504):
        return Failure(
            "resource_access_upstream_unavailable",
            "infra",
            "upstream-connect",
            a.status,
            True,
            "platform",
            "check-health",
        )
    if a.status is not None and a.status >= 500:
        return Failure(
            "resource_access_application_error",
            "application",
            "application-response",
            a.status,
            True,
            "application",
            "check-logs",
        )
    if a.expected is not None and a.identity != a.expected:
        return Failure(
            "resource_access_wrong_deployment",
            "infra",
            "runtime-identity",
            a.status,
            True,
            "platform",
            "redeploy",
        )
    return None
