"""A resource's public access: which of its routes users reach it by, whether that route serves now
(`routeIntentStatus`), and — when asked — one real request through it that proves the live deployment
answers (a failure is kept as evidence, see access_failures)."""

from sqlalchemy.orm import Session

from dockyard.domain import access_failures
from dockyard.operations.resources import access_failures as evidence
from dockyard.operations.resources.access_models import AccessFailure
from dockyard.operations.resources.health_models import PublicAccess
from dockyard.operations.resources.route_intent import (
    RouteIntentStatus,
    RouteRow,
    RouteSetting,
    selected,
    status,
)
from dockyard.probes import public_access as probe
from dockyard.runtimes.host_process import HostProcessRuntime


def url_of(row: RouteRow, setting: RouteSetting) -> str | None:
    """The URL a visitor types for `row` (None: the resource has no live URL)."""
    state = (setting.live.runtime_state or {}) if setting.live else {}
    if row.host is None:
        return state.get("url")
    edge = setting.edge
    https = row.tls_wanted and row.certificate_ready
    port = int(edge.get("httpsPort") or 443) if https else int(edge.get("httpPort") or 80)
    default = 443 if https else 80
    return (
        f"{'https' if https else 'http'}://{row.host}{'' if port == default else f':{port}'}{row.path_prefix}"
    )


def view(
    rows: list[RouteRow], setting: RouteSetting, resource_id: str, failure: AccessFailure | None
) -> tuple[PublicAccess, RouteRow, RouteIntentStatus]:
    row = selected(rows, setting.live, resource_id)
    intent = status(row, setting, resource_id)
    url = url_of(row, setting) if setting.live else None
    kind = (
        "durable-domain"
        if row.domain_binding_id
        else ("generated" if row.host else ("direct" if url else "none"))
    )
    access = PublicAccess(
        status="ready"
        if url and intent.blocking_reason is None
        else ("not-ready" if url else "not-configured"),
        url=url,
        kind=kind,  # type: ignore[arg-type]
        reason_code=intent.blocking_reason,
        phase=intent.copy_safe_summary.phase,
        route_intent_status=intent,
        latest_access_failure=failure,
    )
    return access, row, intent


def probed(
    session: Session,
    runtime: HostProcessRuntime,
    access: PublicAccess,
    row: RouteRow,
    intent: RouteIntentStatus,
    setting: RouteSetting,
    now: str,
    timeout: float,
) -> PublicAccess:
    """`access` after one GET through the route and the runner's word on the deployment behind it; a
    failure is recorded and becomes the latest one."""
    if access.url is None or setting.live is None:
        return access
    path = row.path_prefix
    if row.host is None:
        base, host = access.url.rstrip("/"), None
    else:
        base, host = probe.edge_address(setting.edge), row.host
    answer = probe.request(base, path, host, timeout)
    foreign = host is not None and answer.connected and not answer.edge_not_found
    foreign = foreign and not probe.is_our_edge(base, timeout)
    port = runtime.front_port(intent.context.resource_id)
    token = ((runtime.status(intent.context.resource_id) or {}).get("probeToken")) if port else None
    served = probe.routed_deployment(port, token, timeout) if port and token else None
    answer = access_failures.Answer(
        answer.connected,
        answer.status,
        answer.edge_not_found,
        served,
        setting.live.id,
        answer.timed_out,
        foreign,
    )
    failure = access_failures.classify(answer, proxied=host is not None)
    if failure is None:
        return access.model_copy(update={"status": "ready", "phase": "ready", "reason_code": None})
    found = evidence.record(session, failure, intent, access.url, path, now, row.domain_binding_id)
    return access.model_copy(
        update={
            "status": "not-ready",
            "phase": failure.phase,
            "reason_code": failure.code,
            "latest_access_failure": found,
        }
    )
