"""The edge's own failures (edge/failure_log.py) kept as access-failure evidence: each answer the edge
gave for an app that did not answer, or for a path no route takes, becomes a row under the request id
the answer carried, so `GET /resource-access-failures/{requestId}` and a resource's health show it.
Read by the monitor each tick and by the lookup itself (so an id a user just got is found at once).
"""

from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from dockyard.domain import access_failures
from dockyard.edge import failure_log
from dockyard.edge.sync import edge_settings
from dockyard.operations.context import iso
from dockyard.operations.deployments.rollups import newest
from dockyard.operations.resources.access_models import AccessFailure, Affected, FailedRoute
from dockyard.operations.resources.access_store import failure_fields, store
from dockyard.store.tables import AccessFailure as AccessFailureRow
from dockyard.store.tables import AccessRoute, Deployment, Server

# the edge's statuses, as a probe would have seen them
ANSWERS = {
    404: access_failures.Answer(connected=True, status=404, edge_not_found=True),
    502: access_failures.Answer(connected=True, status=502),
    504: access_failures.Answer(connected=True, status=504),
}


def ingest(session: Session, data_dir: Path, now: str) -> int:
    """Keep what every server's edge on this machine logged since the last read; returns how many."""
    kept = 0
    for server in session.scalars(select(Server).where(Server.is_control_plane.is_(True))):
        settings = edge_settings(data_dir, server.edge_proxy or {})
        if settings is None:
            continue
        for seen in failure_log.read_new(Path(settings.state_dir)):
            kept += _keep(session, server, settings.kind, seen, now)
    return kept


def _keep(session: Session, server: Server, kind: str, seen: failure_log.EdgeFailure, now: str) -> int:
    answer = ANSWERS.get(seen.status)
    route = session.scalar(select(AccessRoute).where(AccessRoute.hostname == seen.host))
    if answer is None or route is None or session.get(AccessFailureRow, seen.request_id) is not None:
        return 0
    failure = access_failures.classify(answer, proxied=True)
    assert failure is not None  # each of ANSWERS is a failure
    live = newest(session, route.resource_id, Deployment.status == "succeeded")
    evidence = AccessFailure(
        request_id=seen.request_id,
        generated_at=_stored_time(seen.at, now),
        **failure_fields(failure, seen.status),
        affected=Affected(
            url=f"http://{seen.host}{seen.path}", hostname=seen.host, path=seen.path, method=seen.method
        ),
        route=FailedRoute(
            host=route.hostname,
            path_prefix=route.path_prefix,
            resource_id=route.resource_id,
            deployment_id=live.id if live else None,
            server_id=server.id,
            destination_id=live.destination_id if live else None,
            provider_key=kind,
            route_id=route.id,
            route_source=route.source,  # type: ignore[arg-type]
            route_status="applied",
            upstream_address=seen.upstream or None,
        ),
        cause_code=f"edge-answered-{seen.status}",
        correlation_id=live.id if live else None,
    )
    store(session, evidence, route.resource_id, seen.host, seen.path, now)
    return 1


def _stored_time(edge_time: str, fallback: str) -> str:
    """The edge's ISO 8601 time (+00:00) as the store writes moments."""
    try:
        return iso(datetime.fromisoformat(edge_time))
    except ValueError:
        return fallback
