"""Profile diagnostics: what about a resource's profiles will stop or surprise a deployment. Pure."""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Diagnostic:
    code: str
    severity: str
    message: str
    section: str
    field_path: str
    suggested_command: str
    blocks_deployment_admission: bool


IMAGE_STRATEGIES = {"dockerfile", "prebuilt-image", "docker-compose"}


def profile_diagnostics(
    source: dict[str, Any] | None, runtime: dict[str, Any] | None, network: dict[str, Any] | None
) -> list[Diagnostic]:
    found = []
    runtime, network = runtime or {}, network or {}
    if not source:
        found.append(
            Diagnostic(
                "source-missing",
                "warning",
                "No source is configured: a deployment has nothing to build.",
                "source",
                "source",
                "resources.configure-source",
                True,
            )
        )
    strategy = runtime.get("strategy", "auto")
    exposed = network.get("exposureMode", "reverse-proxy") != "none"
    if strategy in IMAGE_STRATEGIES and exposed and not network.get("internalPort"):
        found.append(
            Diagnostic(
                "missing-internal-port",
                "warning",
                f"A {strategy} resource needs the port its container listens on to be reachable.",
                "network",
                "networkProfile.internalPort",
                "resources.configure-network",
                True,
            )
        )
    if strategy == "static" and runtime.get("startCommand"):
        found.append(
            Diagnostic(
                "start-command-ignored",
                "info",
                "A static site is served as files; its start command is not run.",
                "runtime",
                "runtimeProfile.startCommand",
                "resources.configure-runtime",
                False,
            )
        )
    return found
