"""Whether a route users reach an app by can serve now, and if not, the first thing in the way. Pure: the
facts of one route in, one judgement out. A resource's health (`publicAccess.routeIntentStatus`) and a
domain binding's readiness (`routeReadiness.selectedRoute`) answer with the same judgement.

The checks run in the order a request meets them: the domain's ownership, the edge proxy, the route on
it, the certificate, then the app behind it.
"""

from dataclasses import dataclass

GENERATED_SOURCE = "generated-default-access"
DOMAIN_SOURCE = "durable-domain-binding"


@dataclass(frozen=True)
class RouteFacts:
    source: str  # GENERATED_SOURCE | DOMAIN_SOURCE
    host: str | None  # None: no hostname, the app is reached on its direct port
    domain_verified: bool | None  # None: not a custom domain
    tls_wanted: bool
    certificate_ready: bool
    edge_kind: str  # "nginx" | "caddy" | "none"
    edge_status: str | None  # "ready" | "pending" | "failed" | None
    route_applied: bool
    deployed: bool  # a deployment succeeded and is live
    running: bool  # its instance runs now


@dataclass(frozen=True)
class Judgement:
    proxy_intent: str  # "required" | "not-required"
    proxy_applied: str  # "applied" | "pending" | "failed" | "not-configured"
    domain_verification: str  # "not-applicable" | "verified" | "pending"
    tls: str  # "not-applicable" | "ready" | "pending"
    blocking_reason: str | None
    recommended_action: str
    phase: str
    message: str

    @property
    def ready(self) -> bool:
        return self.blocking_reason is None


def _proxy_applied(f: RouteFacts) -> str:
    if f.host is None or f.edge_kind == "none":
        return "not-configured"
    if f.edge_status == "failed":
        return "failed"
    return "applied" if f.edge_status == "ready" and f.route_applied else "pending"


def judge(f: RouteFacts) -> Judgement:
    proxied = f.host is not None
    verification = (
        "not-applicable" if f.domain_verified is None else ("verified" if f.domain_verified else "pending")
    )
    tls = "not-applicable" if not f.tls_wanted else ("ready" if f.certificate_ready else "pending")
    applied = _proxy_applied(f)
    blocked: tuple[str, str, str, str] | None = None  # reason, action, phase, message
    if f.domain_verified is False:
        blocked = (
            "domain_not_verified",
            "verify-domain",
            "domain-verification",
            f"The ownership of {f.host} is not verified yet: the edge does not route it.",
        )
    elif proxied and f.edge_kind == "none":
        blocked = (
            "proxy_not_configured",
            "configure-proxy",
            "edge-proxy",
            "The server has no edge proxy, so no hostname reaches the app.",
        )
    elif applied == "failed":
        blocked = (
            "proxy_failed",
            "check-proxy",
            "edge-proxy",
            "The server's edge proxy failed to apply its routes.",
        )
    elif not f.deployed:
        blocked = (
            "runtime_not_deployed",
            "deploy",
            "deployment",
            "No deployment of this resource succeeded yet: nothing answers the route.",
        )
    elif applied == "pending":
        blocked = (
            "route_not_applied",
            "redeploy",
            "edge-request-routing",
            f"The edge does not serve {f.host} yet.",
        )
    elif not f.running:
        blocked = (
            "runtime_not_ready",
            "check-health",
            "runtime",
            "The route is in place but the app's instance is not running.",
        )
    if blocked is None:  # it serves; a certificate still to come is advice, not a block (http serves)
        where = f.host or "its direct port"
        message = f"Requests to {where} reach the live deployment."
        if tls == "pending":
            message += f" No certificate for {f.host} is issued yet: https is not served."
        return Judgement(
            "required" if proxied else "not-required",
            applied,
            verification,
            tls,
            None,
            "check-certificate" if tls == "pending" else "none",
            "tls" if tls == "pending" else "ready",
            message,
        )
    reason, action, phase, message = blocked
    return Judgement(
        "required" if proxied else "not-required", applied, verification, tls, reason, action, phase, message
    )
