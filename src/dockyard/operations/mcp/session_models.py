"""Models of gateway sessions, server sessions and server runs (/mcp-api)."""

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, model_validator

from dockyard.domain.model import SnakeModel
from dockyard.operations.mcp.common import McpId, McpPageQuery, Metadata, OneOrMany, Pagination

SessionId = McpId("mcp_session")
ServerRunId = McpId("server_run")


ProviderDeploymentRefId = McpId("provider_deployment")
ServerDeploymentRefId = McpId("custom_server_deployment")


MAX_SESSION_SERVERS = 10


def _session_servers_schema() -> dict[str, Any]:
    """The rules of `_some_server` as JSON Schema: one list not empty, at most 10 in both."""
    lists = ("provider_deployment_ids", "custom_server_deployment_ids")
    some = [{"required": [name], "properties": {name: {"minItems": 1}}} for name in lists]
    split = [
        {"properties": {lists[0]: {"maxItems": n}, lists[1]: {"maxItems": MAX_SESSION_SERVERS - n}}}
        for n in range(MAX_SESSION_SERVERS + 1)
    ]
    return {"allOf": [{"anyOf": some}, {"anyOf": split}]}


class CreateSession(SnakeModel):
    model_config = ConfigDict(json_schema_extra=_session_servers_schema())
    provider_deployment_ids: list[ProviderDeploymentRefId] = Field(default_factory=list, max_length=10)
    custom_server_deployment_ids: list[ServerDeploymentRefId] = Field(
        default_factory=list,
        max_length=10,
        description="Completed custom server deployments: each serves the exact version it deployed, all "
        "its tools (a provider deployment pinned to that version is made on first use and reused).",
    )
    expires_in_s: Annotated[int, Field(ge=60, le=30 * 86400)] = Field(
        default=86400, description="The client secret's lifetime in seconds."
    )
    metadata: Metadata = Field(default_factory=dict)

    @model_validator(mode="after")
    def _some_server(self) -> "CreateSession":
        if not self.provider_deployment_ids and not self.custom_server_deployment_ids:
            raise ValueError("give provider_deployment_ids or custom_server_deployment_ids (at least one)")
        if len(self.provider_deployment_ids) + len(self.custom_server_deployment_ids) > MAX_SESSION_SERVERS:
            raise ValueError("a session combines at most 10 servers")
        return self


class Usage(SnakeModel):
    total_productive_message_count: int
    total_productive_client_message_count: int
    total_productive_server_message_count: int


class McpPeer(SnakeModel):
    object: str
    name: str | None = None
    version: str | None = None
    capabilities: dict[str, Any] = Field(default_factory=dict)


class McpInfo(SnakeModel):
    object: Literal["mcp"] = "mcp"
    version: str | None = None
    connection_type: Literal["streamable_http", "sse"] | None = None
    client: McpPeer | None = None
    server: McpPeer | None = None


class ServerSessionPreview(SnakeModel):
    object: Literal["session.server_session#preview"] = "session.server_session#preview"
    id: str
    status: str
    mcp: McpInfo
    usage: Usage
    refused_tool_call_count: int = 0
    namespace: str | None = None
    provider_deployment_id: str
    session_id: str
    created_at: str


class ClientSecret(SnakeModel):
    object: Literal["session.client_secret"] = "session.client_secret"
    type: Literal["session_client_secret"] = "session_client_secret"
    secret: str | None = Field(description="Only in the answer to create; afterwards null.")
    expires_at: str


class ConnectionUrls(SnakeModel):
    streamable_http: str
    sse: str


class SessionOut(SnakeModel):
    object: Literal["session"] = "session"
    id: str
    status: Literal["active", "closed", "expired"]
    connection_url: str
    connection_urls: ConnectionUrls
    client_secret: ClientSecret
    server_sessions: list[ServerSessionPreview]
    usage: Usage
    metadata: dict[str, Any]
    created_at: str
    updated_at: str


class SessionList(SnakeModel):
    items: list[SessionOut]
    pagination: Pagination


class SessionRef(SnakeModel):
    session_id: SessionId  # type: ignore[valid-type]


class SessionFilter(McpPageQuery):
    status: OneOrMany | None = None


class ServerPreview(SnakeModel):
    object: Literal["server#preview"] = "server#preview"
    id: str
    name: str
    description: str | None
    type: Literal["public", "custom"] = Field(
        default="custom",
        description="Dockyard runs only the servers its users add: `custom`; `public` never occurs.",
    )
    created_at: str
    updated_at: str


class ServerDeploymentPreview(SnakeModel):
    object: Literal["server.server_deployment#preview"] = "server.server_deployment#preview"
    id: str
    name: str | None
    description: str | None
    metadata: dict[str, Any]
    created_at: str
    updated_at: str
    server: ServerPreview


class ServerRunOut(SnakeModel):
    object: Literal["server.server_run"] = "server.server_run"
    id: str
    type: Literal["hosted", "external"]
    status: Literal["active", "completed", "failed"]
    server_version_id: str
    server: ServerPreview | None
    server_deployment: ServerDeploymentPreview | None
    server_session: ServerSessionPreview
    usage: Usage
    failure: dict[str, Any] | None
    created_at: str
    updated_at: str
    started_at: str | None
    stopped_at: str | None


class ServerRunList(SnakeModel):
    items: list[ServerRunOut]
    pagination: Pagination


class ServerRunFilter(McpPageQuery):
    status: OneOrMany | None = None
    session_id: OneOrMany | None = None
    server_session_id: OneOrMany | None = None
    server_deployment_id: OneOrMany | None = Field(default=None, description="Provider deployment ids.")


class ServerRunRef(SnakeModel):
    server_run_id: ServerRunId  # type: ignore[valid-type]


class RunLogOut(SnakeModel):
    object: Literal["server.server_run.log"] = "server.server_run.log"
    sequence: int
    timestamp: str
    stream: str
    line: str


class RunLogList(SnakeModel):
    items: list[RunLogOut]
