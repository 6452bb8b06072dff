"""`GET /deployments/plan`: what a deployment would do, detected and planned, without running anything."""

from dataclasses import replace
from pathlib import Path
from typing import Literal

from pydantic import Field

from dockyard.domain.model import CamelModel
from dockyard.domain.profiles import HealthCheck, NetworkProfile, RuntimeProfile
from dockyard.operations.catalog import operation
from dockyard.operations.context import Context
from dockyard.operations.deployments.models import PlanQuery
from dockyard.operations.deployments.plan_models import (
    AccessPlan,
    Buildpack,
    DependencyBindings,
    EvidenceItem,
    PlanArtifact,
    PlanContext,
    PlanHealth,
    Planner,
    PlanNetwork,
    PlanSource,
    no_bindings,
)
from dockyard.operations.environments.handlers import load as load_environment
from dockyard.operations.projects.handlers import load as load_project
from dockyard.operations.resources.handlers import load as load_resource
from dockyard.operations.servers.handlers import load as load_server
from dockyard.pipeline.detect import Evidence, detect
from dockyard.pipeline.planner import Plan, Reason, artifact, plan
from dockyard.runtimes import engine


class Readiness(CamelModel):
    status: Literal["ready", "blocked"]
    ready: bool
    reason_codes: list[str]


class Action(CamelModel):
    kind: Literal["command", "query"] = "command"
    target_operation: str
    label: str
    profile_field: str | None = None
    docs_anchor: str | None = None
    safe_by_default: bool = True


class NextAction(CamelModel):
    kind: Literal["command", "query"] = "command"
    target_operation: str
    label: str
    safe_by_default: bool = True
    blocked_reason_code: str | None = None


class PlanReason(CamelModel):
    code: str
    reason_code: str
    category: Literal["blocked", "warning", "info"]
    phase: str | None
    message: str
    recommendation: str | None
    evidence: list[EvidenceItem] = Field(default_factory=list)
    fix_path: list[Action] = Field(default_factory=list)
    override_path: list[Action] = Field(default_factory=list)
    affected_profile_field: str | None = None
    related_entity_id: str | None = None
    related_entity_type: str | None = None


class Command(CamelModel):
    kind: Literal["install", "build", "release", "start"]
    command: str
    source: Literal["resource-runtime-profile", "detected"]


class PlanOut(CamelModel):
    schema_version: str = "deployments.plan/v1"
    context: PlanContext
    readiness: Readiness
    source: PlanSource
    planner: Planner
    buildpack: Buildpack | None = None
    artifact: PlanArtifact | None
    commands: list[Command]
    network: PlanNetwork
    health: PlanHealth
    access: AccessPlan | None
    dependency_bindings: DependencyBindings
    warnings: list[PlanReason]
    unsupported_reasons: list[PlanReason]
    next_actions: list[NextAction]
    generated_at: str


def _blocked(reason: Reason, resource_id: str) -> PlanReason:
    action = Action(
        target_operation=reason.fix_operation, label=reason.fix_label, profile_field=reason.profile_field
    )
    return PlanReason(
        code=reason.code,
        reason_code=reason.code,
        category="blocked",
        phase="plan",
        message=reason.message,
        recommendation=reason.fix_label,
        fix_path=[action],
        affected_profile_field=reason.profile_field,
        related_entity_id=resource_id,
        related_entity_type="resource",
    )


def _warning(message: str) -> PlanReason:
    return PlanReason(
        code="detect-warning", reason_code="detect-warning", category="warning", phase="detect",
        message=message, recommendation=None,
    )  # fmt: skip


def _commands(p: Plan, runtime: RuntimeProfile, include: bool) -> list[Command]:
    if not include:
        return []
    found = [
        ("install", p.install_command),
        ("build", p.build_command),
        ("release", p.release_command),
        ("start", p.start_command),
    ]
    return [
        Command(
            kind=kind,  # type: ignore[arg-type]
            command=command,
            source="resource-runtime-profile" if getattr(runtime, f"{kind}_command", None) else "detected",
        )
        for kind, command in found
        if command
    ]


def packaging_mode(runtime_kind: str) -> str:
    """How the artifact is packaged: a workspace run as a host process, or a container image."""
    return "host-process-workspace" if runtime_kind == "host-process" else "container-image"


def _source_missing(resource_id: str) -> Reason:
    return Reason(
        "resource-source-missing",
        f"Resource {resource_id} has no source folder to deploy, or the folder is not there.",
        "resources.configure-source",
        "Set the resource's source",
        "source.locator",
    )


@operation("deployments.plan", "GET", "/deployments/plan")
def plan_deployment(ctx: Context, inp: PlanQuery) -> PlanOut:
    """Preview detection evidence and the runtime plan without creating or running a deployment."""
    project = load_project(ctx, inp.project_id)
    env = load_environment(ctx, inp.environment_id)
    resource = load_resource(ctx, inp.resource_id)
    server = load_server(ctx, inp.server_id)
    source = resource.source or {}
    runtime = RuntimeProfile.model_validate(resource.runtime_profile or {})
    network = NetworkProfile.model_validate(resource.network_profile or {})
    policy = HealthCheck.model_validate(resource.health_policy or {})
    folder = Path(source.get("locator") or "")
    image = source.get("locator") if source.get("kind") == "docker-image" else None
    evidence = Evidence()
    if source.get("kind") == "local-folder" and folder.is_dir():
        evidence = detect(folder)
    has_engine = bool(evidence.dockerfile_path) and engine.available()
    p = plan(evidence, runtime, network, policy, image=image, engine=has_engine)
    if not image and not evidence.detected_files and not folder.is_dir():
        p = replace(p, blocked=(_source_missing(resource.id),))
    blocked = [_blocked(r, resource.id) for r in p.blocked]
    return PlanOut(
        context=PlanContext(
            project_id=project.id,
            environment_id=env.id,
            resource_id=resource.id,
            server_id=server.id,
            destination_id=inp.destination_id or resource.destination_id,
            project_name=project.name,
            environment_name=env.name,
            resource_name=resource.name,
            server_name=server.name,
        ),
        readiness=Readiness(
            status="blocked" if blocked else "ready",
            ready=not blocked,
            reason_codes=[b.code for b in blocked],
        ),
        source=PlanSource.model_validate(
            {
                "kind": source.get("kind"),
                "displayName": source.get("displayName"),
                "locator": source.get("locator"),
                **evidence.to_inspection(),
                "reasoning": list(evidence.reasoning),
            }
        ),
        planner=Planner(
            planner_key=f"{p.runtime_kind}/{p.build_strategy}",
            support_tier="first-class" if p.ready else "unsupported",
            build_strategy=p.build_strategy,
            packaging_mode=packaging_mode(p.runtime_kind),
            target_kind="single-server",
            target_provider_key=server.provider_key,
        ),
        artifact=PlanArtifact(
            kind="workspace"
            if p.runtime_kind == "host-process"
            else ("image" if p.image else "dockerfile-image"),
            runtime_artifact_kind=artifact(p)["kind"],
            runtime_artifact_intent=artifact(p)["intent"],
            image=p.image,
            compose_file=evidence.compose_file_path,
            metadata={},
        ),
        commands=_commands(p, runtime, inp.include_command_specs),
        network=PlanNetwork(
            internal_port=p.container_port or p.fixed_port,
            upstream_protocol="http",
            exposure_mode="none",
            host_port=None,
            target_service_name=None,
        ),
        health=PlanHealth(
            enabled=p.health.enabled,
            kind=p.health.type,
            path=p.health.http.path if p.health.http else None,
            port=p.fixed_port,
        ),
        access=AccessPlan(
            route_source="host-process-front-port",
            hostname="127.0.0.1",
            scheme="http",
            route_count=1,
            route_group_count=1,
        )
        if inp.include_access_plan
        else None,
        dependency_bindings=no_bindings(),
        warnings=[_warning(w) for w in p.warnings],
        unsupported_reasons=blocked,
        next_actions=[
            NextAction(
                target_operation=b.fix_path[0].target_operation,
                label=b.fix_path[0].label,
                blocked_reason_code=b.code,
            )
            for b in blocked
        ]
        or [NextAction(target_operation="deployments.create", label="Deploy")],
        generated_at=ctx.now,
    )
