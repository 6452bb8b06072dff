"""The wire shape of an access failure (`resource-access-failure/v1`) and of its lookup by request id."""

from typing import Literal

from pydantic import Field

from dockyard.domain.model import CamelModel
from dockyard.operations.common import ResourceId


class Affected(CamelModel):
    url: str
    hostname: str | None
    path: str
    method: str


class FailedRoute(CamelModel):
    host: str | None
    path_prefix: str
    resource_id: str
    deployment_id: str | None
    domain_binding_id: str | None = None
    server_id: str | None = None
    destination_id: str | None = None
    provider_key: str | None = None
    route_id: str | None = None
    diagnostic_id: str | None = None
    route_source: Literal["generated-default", "domain-binding", "direct"]
    route_status: str | None = None
    upstream_address: str | None = None  # where the edge tried to reach the app (seen by the edge)


class AccessFailure(CamelModel):
    schema_version: Literal["resource-access-failure/v1"] = "resource-access-failure/v1"
    request_id: str
    generated_at: str
    code: str = Field(
        description="e.g. resource_access_route_not_found, resource_access_upstream_unavailable"
    )
    category: Literal["infra", "application", "configuration"]
    phase: str = Field(description="Where the request stopped: edge-connect, edge-request-routing, …")
    http_status: int | None
    retriable: bool
    owner_hint: Literal["platform", "application"]
    next_action: str
    affected: Affected
    route: FailedRoute
    cause_code: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None


class LookupQuery(CamelModel):
    request_id: str = Field(min_length=1, max_length=40)
    resource_id: ResourceId | None = None
    hostname: str | None = Field(default=None, min_length=1, max_length=253)
    path: str | None = Field(default=None, min_length=1, max_length=2048)


class LookupFilters(CamelModel):
    resource_id: str | None
    hostname: str | None
    path: str | None


class RelatedIds(CamelModel):
    resource_id: str | None = None
    deployment_id: str | None = None
    domain_binding_id: str | None = None
    server_id: str | None = None
    destination_id: str | None = None
    route_id: str | None = None


class AccessFailureLookup(CamelModel):
    schema_version: Literal["resources.access-failure-evidence.lookup/v1"] = (
        "resources.access-failure-evidence.lookup/v1"
    )
    request_id: str
    generated_at: str
    filters: LookupFilters
    status: Literal["found", "not-found"]
    matched_source: Literal["short-retention-evidence-read-model"] | None = None
    evidence: AccessFailure | None = None
    related_ids: RelatedIds | None = None
    next_action: str
    captured_at: str | None = None
    expires_at: str | None = None
