"""Models of providers, provider versions, provider configs and provider deployments (/mcp-api)."""

from typing import Any, Literal

from pydantic import ConfigDict, Field, StrictBool

from dockyard.domain.model import SnakeModel
from dockyard.operations.mcp.common import (
    CreatedAtRange,
    McpId,
    McpPageQuery,
    Metadata,
    OneOrMany,
    Pagination,
    Text,
    UpdatedAtRange,
)
from dockyard.operations.mcp.custom_server_models import Name

ProviderId = McpId("provider")
ProviderVersionId = McpId("provider_version")
ProviderConfigId = McpId("provider_config")
ProviderDeploymentId = McpId("provider_deployment")


class ProviderVersionOut(SnakeModel):
    object: Literal["provider.version"] = "provider.version"
    id: str
    version: str
    provider_id: str
    name: str
    metadata: dict[str, Any]
    specification_id: str | None = None
    server_info: dict[str, Any] | None = None
    capabilities: dict[str, Any] | None = None
    tools: list[dict[str, Any]] | None = None
    prompts: list[dict[str, Any]] | None = None
    resources: list[dict[str, Any]] | None = None
    config_schema: dict[str, Any] | None = None
    created_at: str
    updated_at: str


class ProviderOut(SnakeModel):
    object: Literal["provider"] = "provider"
    id: str
    name: str
    description: str | None
    custom_provider_id: str
    current_version: ProviderVersionOut | None
    created_at: str
    updated_at: str


class ProviderList(SnakeModel):
    items: list[ProviderOut]
    pagination: Pagination


class ProviderRef(SnakeModel):
    provider_id: ProviderId  # type: ignore[valid-type]


class ProviderVersionList(SnakeModel):
    items: list[ProviderVersionOut]
    pagination: Pagination


class ProviderVersionFilter(McpPageQuery):
    provider_id: ProviderId  # type: ignore[valid-type]


class ProviderVersionRef(SnakeModel):
    provider_version_id: ProviderVersionId  # type: ignore[valid-type]


class ProviderConfigIn(SnakeModel):
    name: Name | None = None
    description: Text | None = None
    metadata: Metadata = Field(default_factory=dict)
    config: dict[str, Any] = Field(
        default_factory=dict, description="Values for the version's config schema."
    )


class CreateProviderConfig(ProviderConfigIn):
    provider_id: ProviderId  # type: ignore[valid-type]
    provider_version_id: ProviderVersionId | None = Field(  # type: ignore[valid-type]
        default=None, description="Validate against this version's schema (default: the current version)."
    )


class ProviderConfigOut(SnakeModel):
    object: str = "provider.config"
    id: str
    name: str | None
    description: str | None
    metadata: dict[str, Any]
    provider_id: str
    config: dict[str, Any] | None = Field(default=None, description="The values, secrets masked.")
    created_at: str
    updated_at: str


class ProviderConfigRef(SnakeModel):
    provider_config_id: ProviderConfigId  # type: ignore[valid-type]


class ToolFilterOut(SnakeModel):
    """The stored filter: `type` always, plus `keys` or `patterns` for the by-key/by-regex kinds."""

    model_config = ConfigDict(extra="allow")
    type: Literal["allow_all", "allow_by_key", "allow_by_regex", "deny_by_key", "deny_by_regex"]


class ProviderDeploymentOut(SnakeModel):
    object: Literal["provider.deployment"] = "provider.deployment"
    id: str
    status: Literal["active", "archived"]
    is_default: bool
    name: str | None
    description: str | None
    metadata: dict[str, Any]
    tool_filter: ToolFilterOut
    provider_id: str
    locked_version: ProviderVersionOut | None
    current_version: ProviderVersionOut | None
    default_config: ProviderConfigOut | None
    created_at: str
    updated_at: str


class ProviderDeploymentList(SnakeModel):
    items: list[ProviderDeploymentOut]
    pagination: Pagination


class CreateProviderDeployment(SnakeModel):
    # provider_config_id or provider_config, not both (the handler's rule, in the schema too)
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"properties": {"provider_config_id": {"type": "null"}}},
                {"properties": {"provider_config": {"type": "null"}}},
            ]
        }
    )
    name: Name | None = None
    description: Text | None = None
    metadata: Metadata = Field(default_factory=dict)
    tool_filters: dict[str, Any] | None = Field(
        default=None,
        description='{"type": "allow_all"} | allow_by_key/deny_by_key {keys} '
        "| allow_by_regex/deny_by_regex {patterns}",
    )
    provider_id: ProviderId  # type: ignore[valid-type]
    locked_provider_version_id: ProviderVersionId | None = None  # type: ignore[valid-type]
    provider_config_id: ProviderConfigId | None = None  # type: ignore[valid-type]
    provider_config: ProviderConfigIn | None = None


class UpdateProviderDeployment(SnakeModel):
    provider_deployment_id: ProviderDeploymentId  # type: ignore[valid-type]
    name: Name | None = None
    description: Text | None = None
    metadata: Metadata | None = None
    tool_filters: dict[str, Any] | None = None


class ProviderDeploymentRef(SnakeModel):
    provider_deployment_id: ProviderDeploymentId  # type: ignore[valid-type]


class DeleteProviderDeployment(ProviderDeploymentRef):
    force: StrictBool = Field(default=False, description="Delete even while sessions use it (they lose it).")


class ProviderDeploymentFilter(McpPageQuery, CreatedAtRange, UpdatedAtRange):
    id: OneOrMany | None = None
    provider_id: OneOrMany | None = None
    provider_version_id: OneOrMany | None = None
    actor_id: OneOrMany | None = None
    consumer_id: OneOrMany | None = None
    identity_id: OneOrMany | None = None
    identity_credential_id: OneOrMany | None = None
    status: OneOrMany | None = None
    search: Text | None = None
