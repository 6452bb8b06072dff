"""Access failures: the public-access probe's evidence of a request that did not reach an app through its
route, kept a day, read back on a resource's health and detail, and looked up by request id."""

import logging
from datetime import UTC, datetime

from pydantic import ValidationError
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from dockyard.domain import access_failures
from dockyard.domain.ids import new_id
from dockyard.operations.catalog import operation
from dockyard.operations.context import Context, iso
from dockyard.operations.resources import edge_failures
from dockyard.operations.resources.access_models import (
    AccessFailure,
    AccessFailureLookup,
    Affected,
    FailedRoute,
    LookupFilters,
    LookupQuery,
    RelatedIds,
)
from dockyard.operations.resources.access_store import failure_fields, store
from dockyard.operations.resources.route_intent import RouteIntentStatus
from dockyard.store.tables import AccessFailure as AccessFailureRow

log = logging.getLogger(__name__)
ROUTE_SOURCES = {"generated-default-access": "generated-default", "durable-domain-binding": "domain-binding"}


def record(
    session: Session,
    failure: access_failures.Failure,
    route: RouteIntentStatus,
    url: str,
    path: str,
    now: str,
    domain_binding_id: str | None = None,
) -> AccessFailure:
    request_id = new_id("access_failure")
    evidence = AccessFailure(
        request_id=request_id,
        generated_at=now,
        **failure_fields(failure, failure.http_status),
        affected=Affected(url=url, hostname=route.intent.host, path=path, method="GET"),
        route=FailedRoute(
            host=route.intent.host,
            path_prefix=route.intent.path_prefix,
            resource_id=route.context.resource_id,
            deployment_id=route.context.deployment_id,
            domain_binding_id=domain_binding_id,
            server_id=route.context.server_id,
            destination_id=route.context.destination_id,
            provider_key=route.proxy.provider_key,
            route_id=route.route_id,
            diagnostic_id=route.diagnostic_id,
            route_source=ROUTE_SOURCES[route.source] if route.intent.host else "direct",  # type: ignore[arg-type]
            route_status=route.proxy.applied,
        ),
        cause_code=route.blocking_reason,
        correlation_id=route.context.deployment_id,
    )
    store(session, evidence, route.context.resource_id, route.intent.host, path, now)
    return evidence


def latest(session: Session, resource_ids: list[str], now: str) -> dict[str, AccessFailure]:
    """The newest unexpired failure of each resource that has one (one query for a whole page)."""
    if not resource_ids:
        return {}
    # by when it was kept: an edge's request id is random, not ordered in time as Dockyard's ids are
    newest = (
        select(AccessFailureRow.resource_id, func.max(AccessFailureRow.captured_at).label("at"))
        .where(AccessFailureRow.resource_id.in_(resource_ids), AccessFailureRow.expires_at > now)
        .group_by(AccessFailureRow.resource_id)
        .subquery()
    )
    rows = session.scalars(
        select(AccessFailureRow)
        .join(
            newest,
            and_(
                AccessFailureRow.resource_id == newest.c.resource_id,
                AccessFailureRow.captured_at == newest.c.at,
            ),
        )
        .order_by(AccessFailureRow.id)
    )
    found = {}
    for r in rows:  # the same moment twice: the last by id
        try:
            found[r.resource_id] = AccessFailure.model_validate(r.evidence)
        except ValidationError:  # written by another version, or damaged: not worth failing a read for
            log.warning("access failure %s no longer reads; it is left out", r.id)
    return found


def forget_expired(session: Session) -> None:
    session.query(AccessFailureRow).filter(AccessFailureRow.expires_at <= iso(datetime.now(UTC))).delete()


@operation("resource-access-failures.show", "GET", "/resource-access-failures/{requestId}")
def lookup(ctx: Context, inp: LookupQuery) -> AccessFailureLookup:
    """Look up the evidence of a failed request through a route by its request id (kept 24 hours)."""
    if ctx.services is not None:  # what the edge answered a moment ago is found at once
        edge_failures.ingest(ctx.session, ctx.settings.data_dir, ctx.now)
    row = ctx.session.get(AccessFailureRow, inp.request_id)
    filters = LookupFilters(resource_id=inp.resource_id, hostname=inp.hostname, path=inp.path)
    matches = (
        row is not None
        and row.expires_at > ctx.now
        and inp.resource_id in (None, row.resource_id)
        and inp.hostname in (None, row.hostname)
        and inp.path in (None, row.path)
    )
    if not matches or row is None:
        return AccessFailureLookup(
            request_id=inp.request_id,
            generated_at=ctx.now,
            filters=filters,
            status="not-found",
            next_action="Evidence is kept 24 hours: run GET /api/resources/{resourceId}/health with "
            "includePublicAccessProbe=true to record a fresh one.",
        )
    evidence = AccessFailure.model_validate(row.evidence)
    route = evidence.route
    return AccessFailureLookup(
        request_id=row.id,
        generated_at=ctx.now,
        filters=filters,
        status="found",
        matched_source="short-retention-evidence-read-model",
        evidence=evidence,
        related_ids=RelatedIds(
            resource_id=route.resource_id,
            deployment_id=route.deployment_id,
            domain_binding_id=route.domain_binding_id,
            server_id=route.server_id,
            destination_id=route.destination_id,
            route_id=route.route_id,
        ),
        next_action=evidence.next_action,
        captured_at=row.captured_at,
        expires_at=row.expires_at,
    )
