"""Execute a rollback: start the retained artifact (workspace or image) of an earlier successful
deployment as the candidate, verify it with that deployment's health policy, switch. Nothing is
detected, installed or built, and no data (volumes, databases) is touched."""

from typing import Any

from dockyard.domain.profiles import HealthCheck
from dockyard.pipeline.app_env import base_env, with_app_tools
from dockyard.pipeline.execute_container import engine_client, start_container
from dockyard.pipeline.execution import Execution
from dockyard.pipeline.failures import DeployFailure
from dockyard.pipeline.retention import missing


def execute_rollback(
    ex: Execution, resource_id: str, project_id: str, snapshot: dict[str, Any], artifact: dict[str, Any]
) -> str:
    source = artifact.get("deploymentId")
    ex.phase("plan", f"rolling back to the retained {artifact.get('kind')} of deployment {source}")
    problem = missing(artifact)
    if problem:
        raise DeployFailure(
            "plan",
            "rollback-artifact-missing",
            problem,
            f"Pick another candidate: dockyard deployments recovery-readiness {ex.id}",
        )
    health = HealthCheck.model_validate(snapshot.get("healthPolicy") or {})
    if artifact.get("kind") == "image":
        client = engine_client()
        if artifact.get("built"):
            from docker.errors import ImageNotFound

            try:
                client.images.get(artifact["image"])
            except ImageNotFound as exc:
                raise DeployFailure(
                    "plan",
                    "rollback-artifact-missing",
                    f"the image {artifact['image']} of {source} is no longer in the engine",
                    "Pick another candidate, or redeploy.",
                ) from exc
        return start_container(ex, client, resource_id, project_id, artifact, health)
    env = with_app_tools(base_env(), artifact.get("venv"), artifact["path"])
    return ex.start_workspace(resource_id, artifact, env, health)
