"""Resource profiles: what to deploy (source), how to run it (runtime), how to reach it (network,
access) and how to know it is healthy (health policy). Stored as JSON on the resource."""

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictBool, StringConstraints, WithJsonSchema

from dockyard.domain.access import PATH_PREFIX, PATH_PREFIX_MAX, checked_path_prefix
from dockyard.domain.model import CamelModel

Port = Annotated[int, Field(ge=1, le=65535)]
ShortText = Annotated[str, Field(max_length=1000)]
PathText = Annotated[str, Field(max_length=1000, pattern=r"^/")]
# A route's path prefix: the edge renderer's own rule (the length is repeated for the OpenAPI schema).
PathPrefix = Annotated[
    str,
    StringConstraints(max_length=PATH_PREFIX_MAX),
    AfterValidator(checked_path_prefix),
    WithJsonSchema({"type": "string", "maxLength": PATH_PREFIX_MAX, "pattern": PATH_PREFIX.pattern}),
]

BuildArgName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
MemoryLimit = Annotated[str, Field(pattern=r"^[1-9][0-9]{0,6}[kmg]$")]

SourceKind = Literal[
    "local-folder",
    "git-public",
    "git-repository",
    "docker-image",
    "dockerfile",
    "docker-compose",
    "zip-artifact",
]


class SourceProfile(CamelModel):
    kind: SourceKind
    locator: Annotated[str, Field(min_length=1, max_length=2000)]
    display_name: ShortText | None = None
    source_binding_fingerprint: ShortText | None = None
    git_ref: ShortText | None = None
    commit_sha: Annotated[str, Field(max_length=64)] | None = None
    base_directory: ShortText | None = None
    original_locator: ShortText | None = None
    repository_id: ShortText | None = None
    repository_full_name: ShortText | None = None
    default_branch: ShortText | None = None
    image_name: ShortText | None = None
    image_tag: ShortText | None = None
    image_digest: ShortText | None = None
    metadata: Annotated[dict[str, Annotated[str, Field(max_length=1000)]], Field(max_length=50)] | None = None


class HttpCheck(CamelModel):
    method: Literal["GET", "HEAD", "POST"] = "GET"
    scheme: Literal["http", "https"] = "http"
    host: Annotated[str, Field(max_length=253)] = "127.0.0.1"
    port: Port | None = None
    path: PathText = Field(
        default="/", description="The path checked. `/` (the default): any answer below 500 means up."
    )
    expected_status_code: Annotated[int, Field(ge=100, le=599)] | None = Field(
        default=None,
        description="The status the path must answer. Unset: 200 on a configured path; on `/`, any "
        "status below 500.",
    )
    expected_response_text: ShortText | None = None


class HealthCheck(CamelModel):
    enabled: StrictBool = True
    type: Literal["http", "command", "none"] = "http"
    interval_seconds: Annotated[int, Field(ge=1, le=3600)] = 5
    timeout_seconds: Annotated[int, Field(ge=1, le=600)] = 5
    retries: Annotated[int, Field(ge=1, le=100)] = 10
    start_period_seconds: Annotated[int, Field(ge=0, le=3600)] = 0
    http: HttpCheck | None = Field(default_factory=HttpCheck)


INSTANCE_HOSTS = ("127.0.0.1", "localhost")  # what names the instance: checks connect to 127.0.0.1


def _instance_host(host: str) -> str:
    if host not in INSTANCE_HOSTS:
        raise ValueError(
            "health checks go to the app's own instance, reached on 127.0.0.1: leave host out "
            "(or use 127.0.0.1); to check another port of the instance, set port"
        )
    return host


class HttpCheckChange(HttpCheck):
    host: Annotated[
        str, AfterValidator(_instance_host), Field(json_schema_extra={"enum": list(INSTANCE_HOSTS)})
    ] = "127.0.0.1"


class HealthCheckChange(HealthCheck):
    """What resources.configure-health accepts: a check of the instance only (a host elsewhere made
    the control plane probe any address for a user). Stored policies are read as HealthCheck, and
    verify ignores their host."""

    http: HttpCheckChange | None = Field(default_factory=HttpCheckChange)


RuntimeStrategy = Literal[
    "auto", "static", "workspace-commands", "dockerfile", "docker-compose", "prebuilt-image"
]


class RuntimeProfile(CamelModel):
    strategy: RuntimeStrategy = "auto"
    install_command: ShortText | None = None
    build_command: ShortText | None = None
    start_command: ShortText | None = None
    runtime_name: ShortText | None = None
    publish_directory: ShortText | None = None
    dockerfile_path: ShortText | None = None
    docker_compose_file_path: ShortText | None = None
    build_target: ShortText | None = None
    health_check_path: PathText | None = None
    health_check: HealthCheck | None = None
    # Beyond the seed, for the container runtime: build arguments and resource limits.
    build_args: Annotated[dict[BuildArgName, ShortText], Field(max_length=50)] | None = None
    memory_limit: MemoryLimit | None = Field(default=None, description="e.g. 256m, 1g (containers)")
    cpu_limit: Annotated[float, Field(gt=0, le=256)] | None = Field(
        default=None, description="CPUs (containers)"
    )


class NetworkProfile(CamelModel):
    internal_port: Port | None = None
    upstream_protocol: Literal["http", "tcp"] = "http"
    exposure_mode: Literal["none", "reverse-proxy", "direct-port"] = "reverse-proxy"
    target_service_name: Annotated[str, Field(max_length=120)] | None = None
    host_port: Port | None = None


class AccessProfile(CamelModel):
    generated_access_mode: Literal["inherit", "disabled"] = "inherit"
    path_prefix: PathText = "/"


class AccessProfileChange(AccessProfile):
    """What resources.configure-access accepts: a path prefix the edge can render (domain.access's one
    rule). Stored profiles are read as AccessProfile, so one saved before the rule still loads."""

    path_prefix: PathPrefix = "/"


class Service(CamelModel):
    name: Annotated[str, Field(min_length=1, max_length=63)]
    kind: Literal["web", "worker", "job"] = "web"


def default_health_policy() -> HealthCheck:
    return HealthCheck()
