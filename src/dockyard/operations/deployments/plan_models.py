"""Typed sections of `deployments.plan`'s answer (shapes shared with the reference's plan document)."""

from typing import Any, Literal

from dockyard.domain.model import CamelModel


class PlanContext(CamelModel):
    project_id: str
    environment_id: str
    resource_id: str
    server_id: str
    destination_id: str | None
    project_name: str
    environment_name: str
    resource_name: str
    server_name: str


class Inspection(CamelModel):
    """What detection found in the source folder (the reference's `source.inspection`)."""

    runtime_family: str | None
    framework: str | None
    package_manager: str | None
    application_shape: str | None
    runtime_version: str | None
    project_name: str | None
    detected_files: list[str]
    detected_scripts: list[str]
    dockerfile_path: str | None
    compose_file_path: str | None
    jar_path: str | None


class PlanSource(Inspection):
    kind: str | None
    display_name: str | None
    locator: str | None
    reasoning: list[str]


class Planner(CamelModel):
    planner_key: str
    support_tier: Literal["first-class", "unsupported"]
    build_strategy: str
    packaging_mode: str
    target_kind: Literal["single-server"]
    target_provider_key: str


class BuildpackEvidence(CamelModel):
    platform_files: list[str]
    language_families: list[str]
    framework_hints: list[str]
    builder_evidence: list[str]
    detected_buildpacks: list[dict[str, str]]


class BuilderPolicy(CamelModel):
    default_builder: str | None
    requested_builder: str | None
    override: str
    blocked_builders: list[str]


class Limitation(CamelModel):
    code: str
    message: str
    fix_path: str | None


class Buildpack(CamelModel):
    """Buildpack selection; Dockyard has no buildpack builder, so this section is null."""

    status: str
    support_tier: str
    evidence: BuildpackEvidence
    builder_policy: BuilderPolicy
    artifact_intent: str
    limitations: list[Limitation]


class PlanArtifact(CamelModel):
    kind: Literal["workspace", "image", "dockerfile-image"]
    runtime_artifact_kind: str
    runtime_artifact_intent: str
    image: str | None
    compose_file: str | None
    metadata: dict[str, str]


class PlanNetwork(CamelModel):
    internal_port: int | None
    upstream_protocol: Literal["http"]
    exposure_mode: str
    host_port: int | None
    target_service_name: str | None


class PlanHealth(CamelModel):
    enabled: bool
    kind: str
    path: str | None
    port: int | None


class AccessPlan(CamelModel):
    route_source: str
    hostname: str
    scheme: Literal["http", "https"]
    route_count: int
    route_group_count: int


class InjectionStatus(CamelModel):
    status: Literal["ready", "blocked", "not-ready"]
    reason: str | None = None


class DependencyBindingReference(CamelModel):
    """A dependency binding a deployment injects (Dockyard has no bindings yet: lists stay empty)."""

    binding_id: str
    dependency_resource_id: str
    kind: str
    target_name: str
    scope: str
    injection_mode: str
    snapshot_readiness: InjectionStatus


class DependencyBindings(CamelModel):
    status: Literal["ready", "blocked", "not-ready"]
    references: list[DependencyBindingReference]
    runtime_injection: InjectionStatus


class EvidenceItem(CamelModel):
    kind: str
    label: str
    value: str | None
    source: str | None


class RuntimePlan(CamelModel):
    """The runtime plan recorded on a deployment when it was planned (pipeline.planner's document)."""

    id: str
    source: dict[str, Any]
    build_strategy: str
    packaging_mode: str
    runtime_artifact: dict[str, Any] | None = None
    execution: dict[str, Any]
    target: dict[str, Any]
    detect_summary: str | None = None
    steps: list[str]
    generated_at: str


class EnvironmentSnapshot(CamelModel):
    """The variables a deployment runs with, frozen when it was asked for; secrets are masked."""

    id: str
    environment_id: str
    created_at: str
    precedence: list[str]
    variables: list[dict[str, Any]]


def no_bindings() -> DependencyBindings:
    """Dockyard has no dependency bindings yet: nothing to inject, so nothing blocks."""
    return DependencyBindings(
        status="ready", references=[], runtime_injection=InjectionStatus(status="ready")
    )
