"""Plan: a pure function of detection evidence and the resource's profiles → the runtime plan.

The plan says how the host-process runtime installs, builds, starts and verifies the app. A plan
that cannot run is `blocked`, with reason codes and the operation that fixes each.
"""

import shlex
import sys
from dataclasses import dataclass, field
from typing import Any

from dockyard.domain.profiles import HealthCheck, NetworkProfile, RuntimeProfile
from dockyard.pipeline.detect import Evidence


@dataclass(frozen=True)
class Reason:
    code: str
    message: str
    fix_operation: str
    fix_label: str
    profile_field: str | None = None


@dataclass(frozen=True)
class Plan:
    build_strategy: str
    install_command: str | None
    build_command: str | None
    start_command: str | None
    publish_directory: str | None
    python_requirements: str | None
    fixed_port: int | None
    health: HealthCheck
    steps: tuple[str, ...]
    blocked: tuple[Reason, ...] = ()
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())
    runtime_kind: str = "host-process"  # or "container"
    image: str | None = None  # a prebuilt image to run
    dockerfile: str | None = None  # the user's Dockerfile; None with a container = generated
    container_port: int | None = None
    build_target: str | None = None
    build_args: tuple[tuple[str, str], ...] = ()
    memory_limit: str | None = None
    cpu_limit: float | None = None
    release_command: str | None = None  # once per deployment, after the build, before the start
    framework: str | None = None  # what detection found (Django gets its allowed hosts)

    @property
    def ready(self) -> bool:
        return not self.blocked


def static_start(publish_directory: str, spa: bool = False) -> str:
    """Static sites are served by Dockyard's own file server (runtimes.static_server) on the control
    plane's interpreter: files of the workspace (the working directory) only, no dotfiles."""
    return (
        f"exec {shlex.quote(sys.executable)} -m dockyard.runtimes.static_server "
        f"--root {shlex.quote(publish_directory)} --within . --port $PORT" + (" --spa" if spa else "")
    )


MISSING_START = Reason(
    "missing-start-command",
    "No start command was found or configured.",
    "resources.configure-runtime",
    "Set a start command (it must listen on $PORT)",
    "runtimeProfile.startCommand",
)
CONTAINER_NAMES = ("container", "docker-container")
GENERATED_PORT = 8080  # generated images listen here ($PORT inside the container)


def wants_container(runtime: RuntimeProfile, strategy: str) -> bool:
    return (runtime.runtime_name or "").lower() in CONTAINER_NAMES or strategy in (
        "dockerfile",
        "prebuilt-image",
        "docker-compose",
    )


def _strategy(evidence: Evidence, runtime: RuntimeProfile, image: str | None, engine: bool) -> str:
    if image:
        return "prebuilt-image"
    name = (runtime.runtime_name or "").lower()
    explicit = runtime.strategy != "auto" or runtime.start_command
    if (
        evidence.dockerfile_path
        and not explicit
        and name != "host-process"
        and (engine or name in CONTAINER_NAMES)
    ):
        return "dockerfile"  # a Dockerfile says how to run the app, when an engine can build it
    if runtime.strategy not in ("auto", "workspace-commands"):
        return runtime.strategy
    if runtime.start_command or runtime.strategy == "workspace-commands":
        return "workspace-commands"
    family = evidence.runtime_family
    if family == "static" or (evidence.application_shape == "static" and not evidence.start_command):
        return "static"
    return {
        "python": "python-venv",
        "node": "node-packages",
        "custom": "workspace-commands",
        "dockerfile": "dockerfile",
    }.get(family or "", "unknown")


def _health(evidence: Evidence, runtime: RuntimeProfile, policy: HealthCheck) -> HealthCheck:
    path = runtime.health_check_path or evidence.health_path
    if path and policy.http and policy.http.path == "/":
        return policy.model_copy(update={"http": policy.http.model_copy(update={"path": path})})
    return policy


def plan(
    evidence: Evidence,
    runtime: RuntimeProfile,
    network: NetworkProfile,
    policy: HealthCheck,
    image: str | None = None,
    engine: bool = False,
) -> Plan:
    """`image`: the source is a prebuilt image (a docker-image source's locator); `engine`: a
    container engine answers, so a Dockerfile in the folder is used."""
    strategy = _strategy(evidence, runtime, image, engine)
    install = runtime.install_command or evidence.install_command
    build = runtime.build_command or evidence.build_command
    start = runtime.start_command or evidence.start_command
    publish = runtime.publish_directory or evidence.publish_directory
    blocked: list[Reason] = []
    container = wants_container(runtime, strategy)
    if container:
        return _container_plan(evidence, runtime, network, policy, strategy, image)
    if strategy == "static":
        publish = publish or "."
        start = static_start(publish, evidence.spa)
    elif strategy == "unknown":
        blocked.append(
            Reason(
                "source-not-detected",
                "Nothing deployable was detected: " + "; ".join(evidence.warnings or ("no app found",)),
                "resources.configure-runtime",
                "Set install/build/start commands",
                "runtimeProfile.startCommand",
            )
        )
    elif not start:
        blocked.append(MISSING_START)
    steps = ["detect", "plan", "package"]
    if strategy == "python-venv" or install:
        steps.append("install")
    if build:
        steps.append("build")
    if evidence.release_command:
        steps.append("release")
    steps += ["start", "verify", "switch"]
    return Plan(
        build_strategy=strategy,
        install_command=install,
        build_command=build,
        start_command=start,
        publish_directory=publish,
        python_requirements=evidence.python_requirements,
        fixed_port=network.internal_port or evidence.port,
        health=_health(evidence, runtime, policy),
        steps=tuple(steps),
        blocked=tuple(blocked),
        warnings=evidence.warnings,
        notes=evidence.reasoning,
        release_command=evidence.release_command,
        framework=evidence.framework,
    )


def _container_plan(
    evidence: Evidence,
    runtime: RuntimeProfile,
    network: NetworkProfile,
    policy: HealthCheck,
    strategy: str,
    image: str | None,
) -> Plan:
    """Dockerfile, prebuilt image, or a detected app in a generated image."""
    blocked: list[Reason] = []
    generated = strategy in ("static", "python-venv", "node-packages")
    port = network.internal_port or (GENERATED_PORT if generated else evidence.port)
    start = runtime.start_command or (
        None if strategy in ("dockerfile", "prebuilt-image") else evidence.start_command
    )
    if strategy == "docker-compose":
        blocked.append(
            Reason(
                "compose-not-supported",
                "Compose files are not deployed yet; deploy one service's Dockerfile or image instead.",
                "resources.configure-runtime",
                "Set strategy dockerfile or prebuilt-image",
                "runtimeProfile.strategy",
            )
        )
    elif strategy in ("unknown", "workspace-commands") or (
        strategy == "dockerfile" and not evidence.dockerfile_path
    ):
        blocked.append(
            Reason(
                "container-source-not-detected",
                "A container needs a Dockerfile, an image, or a detected static, Python or Node app.",
                "resources.configure-runtime",
                "Add a Dockerfile, or deploy an image",
                "runtimeProfile.dockerfilePath",
            )
        )
    elif strategy in ("python-venv", "node-packages") and not start:
        blocked.append(MISSING_START)
    steps = [
        "detect",
        "plan",
        "package",
        "build",
        *(["release"] if evidence.release_command else []),
        "start",
    ]
    steps += ["verify", "switch"]
    return Plan(
        build_strategy=strategy,
        install_command=runtime.install_command or evidence.install_command if generated else None,
        build_command=runtime.build_command or evidence.build_command if generated else None,
        start_command=start,
        publish_directory=(runtime.publish_directory or evidence.publish_directory or ".")
        if strategy == "static"
        else None,
        python_requirements=evidence.python_requirements,
        fixed_port=None,
        health=_health(evidence, runtime, policy),
        steps=tuple(
            steps if strategy != "prebuilt-image" else [s for s in steps if s not in ("package", "build")]
        ),
        blocked=tuple(blocked),
        warnings=evidence.warnings,
        notes=evidence.reasoning,
        runtime_kind="container",
        image=image,
        dockerfile=runtime.dockerfile_path or evidence.dockerfile_path if strategy == "dockerfile" else None,
        container_port=port,
        build_target=runtime.build_target,
        build_args=tuple(sorted((runtime.build_args or {}).items())),
        memory_limit=runtime.memory_limit,
        cpu_limit=runtime.cpu_limit,
        release_command=evidence.release_command,
        framework=evidence.framework,
    )


def runtime_plan_document(
    plan_id: str, p: Plan, evidence: Evidence, source: dict[str, Any], server: dict[str, Any], now: str
) -> dict[str, Any]:
    """The seed's `runtimePlan` shape, recorded on the deployment."""
    return {
        "id": plan_id,
        "source": {
            "kind": source.get("kind"),
            "locator": source.get("locator"),
            "displayName": source.get("displayName"),
            "integrationKey": None,
            "inspection": evidence.to_inspection(),
            "metadata": source.get("metadata") or {},
            "entryProfile": evidence.entry_profile,
        },
        "buildStrategy": p.build_strategy,
        "packagingMode": "host-process-workspace" if p.runtime_kind == "host-process" else "container-image",
        "runtimeArtifact": artifact(p),
        "execution": {
            "kind": "host-process" if p.runtime_kind == "host-process" else "docker-container",
            "workingDirectory": ".",
            "installCommand": p.install_command,
            "buildCommand": p.build_command,
            "startCommand": p.start_command,
            "healthCheckPath": p.health.http.path if p.health.http else None,
            "healthCheck": p.health.model_dump(mode="json"),
            "port": p.container_port or p.fixed_port,
            "image": p.image,
            "dockerfilePath": p.dockerfile or evidence.dockerfile_path,
            "composeFile": evidence.compose_file_path,
            "accessRoutes": [
                {
                    "proxyKind": "none",
                    "domains": [],
                    "pathPrefix": "/",
                    "tlsMode": "disabled",
                    "targetPort": p.container_port or p.fixed_port,
                }
            ],
            "releaseCommand": p.release_command,
            "verificationSteps": [{"kind": "internal-http", "label": "HTTP health check on the candidate"}]
            if p.health.enabled and p.health.type == "http"
            else [],
            "metadata": {},
        },
        "target": {
            "kind": "single-server",
            "providerKey": server.get("providerKey"),
            "serverIds": [server.get("id")],
            "metadata": {},
        },
        "detectSummary": "; ".join(p.notes) or None,
        "steps": list(p.steps),
        "generatedAt": now,
    }


def artifact(p: Plan) -> dict[str, Any]:
    if p.runtime_kind == "host-process":
        return {
            "kind": "workspace",
            "intent": "copy-source",
            "image": None,
            "composeFile": None,
            "metadata": {},
        }
    intent = "prebuilt-image" if p.image else "build-image"
    return {"kind": "image", "intent": intent, "image": p.image, "composeFile": None, "metadata": {}}
