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

    @property
    def ready(self) -> bool:
        return not self.blocked


def static_start(publish_directory: str) -> str:
    """Static sites are served by Python's threaded file server from the control plane's interpreter."""
    return (
        f"exec {shlex.quote(sys.executable)} -m http.server --bind 127.0.0.1 $PORT "
        f"--directory {shlex.quote(publish_directory)}"
    )


def _strategy(evidence: Evidence, runtime: RuntimeProfile) -> str:
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


def plan(evidence: Evidence, runtime: RuntimeProfile, network: NetworkProfile, policy: HealthCheck) -> Plan:
    strategy = _strategy(evidence, runtime)
    install = runtime.install_command or evidence.install_command
    build = runtime.build_command or evidence.build_command
    start = runtime.start_command or evidence.start_command
    publish = runtime.publish_directory or evidence.publish_directory
    blocked: list[Reason] = []
    if strategy == "static":
        publish = publish or "."
        start = static_start(publish)
    elif strategy in ("dockerfile", "prebuilt-image", "docker-compose"):
        blocked.append(
            Reason(
                "container-runtime-required",
                f"The {strategy} strategy needs a container engine; the host-process runtime cannot run it.",
                "resources.configure-runtime",
                "Choose a workspace strategy with a start command",
                "runtimeProfile.strategy",
            )
        )
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
        blocked.append(
            Reason(
                "missing-start-command",
                "No start command was found or configured.",
                "resources.configure-runtime",
                "Set a start command (it must listen on $PORT)",
                "runtimeProfile.startCommand",
            )
        )
    steps = ["detect", "plan", "package"]
    if strategy == "python-venv" or install:
        steps.append("install")
    if build:
        steps.append("build")
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
        },
        "buildStrategy": p.build_strategy,
        "packagingMode": "host-process-workspace",
        "runtimeArtifact": {
            "kind": "workspace",
            "intent": "copy-source",
            "image": None,
            "composeFile": None,
            "metadata": {},
        },
        "execution": {
            "kind": "host-process",
            "workingDirectory": ".",
            "installCommand": p.install_command,
            "buildCommand": p.build_command,
            "startCommand": p.start_command,
            "healthCheckPath": p.health.http.path if p.health.http else None,
            "healthCheck": p.health.model_dump(mode="json"),
            "port": p.fixed_port,
            "image": None,
            "dockerfilePath": evidence.dockerfile_path,
            "composeFile": evidence.compose_file_path,
            "accessRoutes": [
                {
                    "proxyKind": "none",
                    "domains": [],
                    "pathPrefix": "/",
                    "tlsMode": "disabled",
                    "targetPort": p.fixed_port,
                }
            ],
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
