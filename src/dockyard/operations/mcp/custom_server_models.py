"""Models of custom MCP servers and custom providers, their versions and deployments (/mcp-api)."""

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, WithJsonSchema

from dockyard.domain.mcp_config import TRANSFORMER_KEYS
from dockyard.domain.model import SnakeModel
from dockyard.operations.mcp.common import (
    CreatedAtRange,
    McpId,
    McpPageQuery,
    OneOrMany,
    Pagination,
    Text,
    UpdatedAtRange,
)

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Arg = Annotated[str, StringConstraints(max_length=4000)]
EnvMap = dict[Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=120)], Arg]


class FromStdio(SnakeModel):
    """A command that speaks MCP on stdin/stdout, run as a host process (`python` = Dockyard's own)."""

    type: Literal["stdio"]
    command: Annotated[str, StringConstraints(min_length=1, max_length=400)]
    args: list[Arg] = Field(default_factory=list, max_length=100)
    env: EnvMap = Field(default_factory=dict)
    cwd: Annotated[str, StringConstraints(max_length=1000)] | None = None


class FromContainer(SnakeModel):
    """A container image whose entrypoint speaks MCP on stdio; credentials are sealed at rest."""

    type: Literal["container_image"]
    image_ref: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    username: Annotated[str, StringConstraints(max_length=200)] | None = None
    password: Annotated[str, StringConstraints(max_length=2000)] | None = None
    command: list[Arg] | None = None
    env: EnvMap = Field(default_factory=dict)


class FromRemote(SnakeModel):
    """A remote MCP server the gateway proxies; `headers` are sealed at rest."""

    type: Literal["remote_mcp_server"]
    url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s]+$", max_length=2000)]
    transport: Literal["streamable_http", "sse"] = "streamable_http"
    headers: dict[Annotated[str, StringConstraints(max_length=120)], Arg] = Field(default_factory=dict)


From = Annotated[FromStdio | FromContainer | FromRemote, Field(discriminator="type")]


# What domain.mcp_config.parse_transformer reads: template strings by name, args a list of them.
_TEMPLATES = {"type": "object", "additionalProperties": {"type": "string"}}
_ARGS = {"type": "array", "items": {"type": "string"}}
TRANSFORMER_SCHEMA = {
    "anyOf": [
        {
            "type": "object",
            "properties": {key: _ARGS if key == "args" else _TEMPLATES for key in sorted(TRANSFORMER_KEYS)},
            "additionalProperties": False,
        },
        {
            "type": "string",
            "contentMediaType": "application/json",
            "description": "The same object as JSON text.",
        },
        {"type": "null"},
    ]
}


class VersionConfigIn(SnakeModel):
    model_config = SnakeModel.model_config | {"populate_by_name": True}
    config_schema: dict[str, Any] | None = Field(
        default=None, alias="schema", description="JSON Schema of the user config (type: object)."
    )
    transformer: Annotated[dict[str, Any] | str | None, WithJsonSchema(TRANSFORMER_SCHEMA)] = Field(
        default=None, description='Maps config to env/args/headers: {"env": {"K": "{{config.k}}"}}.'
    )


class CreateCustomServer(SnakeModel):
    name: Name
    description: Text | None = None
    from_: From = Field(alias="from")
    config: VersionConfigIn | None = None


class CreateCustomServerVersion(SnakeModel):
    custom_server_id: McpId("custom_server")  # type: ignore[valid-type]
    from_: From = Field(alias="from")
    config: VersionConfigIn | None = None
    identifier: Annotated[str, StringConstraints(min_length=1, max_length=80)] | None = None


class CreateCustomProvider(SnakeModel):
    name: Name
    description: Text | None = None


class CreateCustomProviderVersion(SnakeModel):
    custom_provider_id: McpId("custom_provider")  # type: ignore[valid-type]
    from_: From = Field(alias="from")
    config: VersionConfigIn | None = None
    identifier: Annotated[str, StringConstraints(min_length=1, max_length=80)] | None = None


class StepLog(SnakeModel):
    type: str
    timestamp: str
    line: str | None = None


class StepOut(SnakeModel):
    object: Literal["custom_server.deployment.step"] = "custom_server.deployment.step"
    type: str
    status: Literal["running", "completed", "failed"]
    logs: list[StepLog]
    created_at: str
    started_at: str | None
    ended_at: str | None


class OrganizationActorOut(SnakeModel):
    """Who made the request (`common.actor`): the API token's user, or `system` for Dockyard itself."""

    object: Literal["organization.actor"] = "organization.actor"
    id: str | None
    type: Literal["member", "system"]
    name: str
    image_url: str | None = Field(description="Dockyard keeps no avatars: always null.")
    teams: list[dict[str, Any]] = Field(description="Dockyard has no teams: always [].")


class ActorPreviewOut(SnakeModel):
    """The reference's `custom_provider.actor#preview`, derived from the stored organization actor."""

    object: Literal["custom_provider.actor#preview"] = "custom_provider.actor#preview"
    id: str | None
    type: Literal["member", "system"]
    identifier: str
    name: str
    organization_actor_id: str | None
    created_at: str | None = Field(description="Dockyard does not record when a user was created: null.")

    @classmethod
    def of(cls, stored: dict[str, Any]) -> "ActorPreviewOut":
        org = OrganizationActorOut.model_validate(stored)
        return cls(
            id=org.id,
            type=org.type,
            identifier=org.id or org.name,
            name=org.name,
            organization_actor_id=org.id,
            created_at=None,
        )


class CustomServerDeploymentOut(SnakeModel):
    object: str
    id: str
    status: Literal["queued", "deploying", "completed", "failed"]
    trigger: Literal["manual", "api"]
    creator_actor: OrganizationActorOut
    custom_server_id: str
    custom_server_version_id: str | None
    provider_id: str | None = None
    error: dict[str, Any] | None = None
    created_at: str
    updated_at: str
    started_at: str | None
    ended_at: str | None
    steps: list[StepOut]


class CustomServerDeploymentList(SnakeModel):
    items: list[CustomServerDeploymentOut]
    pagination: Pagination


class CustomServerOut(SnakeModel):
    object: Literal["custom_server"] = "custom_server"
    id: str
    name: str
    description: str | None
    provider_id: str | None
    current_version_id: str | None
    latest_deployment: CustomServerDeploymentOut | None
    created_at: str
    updated_at: str


class CustomServerList(SnakeModel):
    items: list[CustomServerOut]
    pagination: Pagination


class CustomServerRef(SnakeModel):
    custom_server_id: McpId("custom_server")  # type: ignore[valid-type]


class CustomServerDeploymentFilter(McpPageQuery):
    custom_server_id: McpId("custom_server")  # type: ignore[valid-type]
    version_id: OneOrMany | None = None


class CustomServerDeploymentRef(SnakeModel):
    custom_server_id: McpId("custom_server")  # type: ignore[valid-type]
    custom_server_deployment_id: McpId("custom_server_deployment")  # type: ignore[valid-type]


class CustomProviderEnvironmentOut(SnakeModel):
    object: Literal["custom_provider.environment"] = "custom_provider.environment"
    id: str
    name: str
    custom_provider_id: str
    provider_id: str | None
    current_custom_provider_version_id: str | None
    current_provider_version_id: str | None
    instance_id: str | None = Field(default=None, description="Dockyard has one instance: always null.")
    created_at: str
    updated_at: str


class CustomProviderOut(SnakeModel):
    object: Literal["custom_provider"] = "custom_provider"
    id: str
    name: str
    description: str | None
    provider_id: str | None
    environments: list[CustomProviderEnvironmentOut]
    created_at: str
    updated_at: str


class CustomProviderRef(SnakeModel):
    custom_provider_id: McpId("custom_provider")  # type: ignore[valid-type]


class ConfigSchemaOut(SnakeModel):
    type: Literal["json_schema"] = "json_schema"
    schema_: dict[str, Any] = Field(alias="schema")


class VersionConfigOut(SnakeModel):
    object: Literal["custom_provider.version.config"] = "custom_provider.version.config"
    schema_: ConfigSchemaOut = Field(alias="schema")
    transformer: dict[str, Any]


class DeploymentCommitOut(SnakeModel):
    object: Literal["custom_provider.deployment.commit"] = "custom_provider.deployment.commit"
    type: Literal["create_version"] = Field(
        default="create_version", description="Every Dockyard deployment comes from creating a version."
    )


class BucketOut(SnakeModel):
    """The reference's source bucket; Dockyard keeps none, so a deployment's is always null."""

    object: Literal["bucket"] = "bucket"
    scm_repo_link: dict[str, Any] | None


class ScmPushOut(SnakeModel):
    """The reference's SCM push; Dockyard does not deploy from pushes, so a deployment's is always null."""

    object: Literal["scm.push"] = "scm.push"
    actor: dict[str, Any]
    commit: dict[str, Any]
    repository: dict[str, Any]


class CustomProviderDeploymentOut(CustomServerDeploymentOut):
    """A provider version's deployment under the reference's names, plus the custom-server names."""

    custom_provider_id: str
    custom_provider_version_id: str | None
    commit: DeploymentCommitOut
    immutable_bucket: BucketOut | None = Field(description="Dockyard keeps no source buckets: null.")
    actor: ActorPreviewOut
    scm_push: ScmPushOut | None = Field(description="Dockyard does not deploy from SCM pushes: null.")


class VersionEnvironmentOut(CustomProviderEnvironmentOut):
    """An environment whose current version this is; `environment` repeats it as the reference nests it."""

    environment: CustomProviderEnvironmentOut


class ContainerImageOut(SnakeModel):
    container_registry: str | None
    container_image: str
    container_image_tag: str
    username: str | None


class RemoteServerOut(SnakeModel):
    url: str
    transport: Literal["streamable_http", "sse"]
    has_headers: bool


class CustomProviderVersionOut(SnakeModel):
    object: Literal["custom_provider.version"] = "custom_provider.version"
    id: str
    status: Literal["queued", "deploying", "deployment_succeeded", "deployment_failed"]
    config: VersionConfigOut | None
    index: int
    identifier: str
    deployment: CustomProviderDeploymentOut | None
    environments: list[VersionEnvironmentOut]
    custom_provider_id: str
    provider_id: str | None
    provider_version_id: str | None
    actor: ActorPreviewOut
    container_image: ContainerImageOut | None = None
    remote_mcp_server: RemoteServerOut | None = None
    stdio_command: dict[str, Any] | None = None
    created_at: str
    updated_at: str


class CustomProviderVersionList(SnakeModel):
    items: list[CustomProviderVersionOut]
    pagination: Pagination


class CustomProviderVersionFilter(McpPageQuery, CreatedAtRange, UpdatedAtRange):
    status: OneOrMany | None = None
    id: OneOrMany | None = None
    provider_id: OneOrMany | None = None
    provider_version_id: OneOrMany | None = None
    custom_provider_id: OneOrMany | None = None
    custom_provider_deployment_id: OneOrMany | None = None
    custom_provider_environment_id: OneOrMany | None = None


class CustomProviderVersionRef(SnakeModel):
    custom_provider_version_id: McpId("custom_provider_version")  # type: ignore[valid-type]


class PromoteVersion(CustomProviderVersionRef):
    environment: Name = Field(default="production", description="The environment to make it current in.")
