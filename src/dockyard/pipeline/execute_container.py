"""Execute on the container runtime: package → build (or find) the image → start → verify → switch."""

from typing import TYPE_CHECKING, Any

from dockyard.domain.profiles import HealthCheck
from dockyard.pipeline import workspace
from dockyard.pipeline.app_env import CONTAINER_DATA_DIR, app_data_dir
from dockyard.pipeline.containerfiles import GENERATED_NAME, REQUIREMENTS_NAME, containerfile
from dockyard.pipeline.execution import Canceled, Execution
from dockyard.pipeline.failures import DeployFailure
from dockyard.pipeline.package import package
from dockyard.pipeline.planner import Plan
from dockyard.runtimes import container as ctr
from dockyard.runtimes.engine import EngineUnavailable, connect, engine_url, managed_labels

if TYPE_CHECKING:
    import docker


def engine_client() -> "docker.DockerClient":
    try:
        return connect()
    except EngineUnavailable as exc:
        raise DeployFailure(
            "build",
            "container-engine-unreachable",
            str(exc),
            "Start the engine, or set DOCKER_HOST for `dockyard serve` and restart it.",
        ) from exc


def _image(ex: Execution, client: "docker.DockerClient", resource_id: str, snapshot: dict, p: Plan) -> str:
    """The image to run: the source image, or one built from the workspace."""
    from docker.errors import ImageNotFound

    if p.image:
        ex.phase("build", f"looking up the image {p.image}")
        try:
            client.images.get(p.image)
        except ImageNotFound as exc:
            raise DeployFailure(
                "build",
                "image-not-found",
                f"The image {p.image} is not in the engine's local store (no registry is pulled from).",
                f"Build or load it first, e.g. `podman build -t {p.image} .`, then deploy again.",
            ) from exc
        return p.image
    work = ex.svc.settings.data_dir / "workspaces" / resource_id / ex.id
    package(ex, snapshot, work, "copying the source into a fresh build context", private=False)
    dockerfile = p.dockerfile
    if dockerfile is None:
        if p.build_strategy == "python-venv":
            reqs = workspace.python_requirements(work, p.python_requirements)
            (work / REQUIREMENTS_NAME).write_text("\n".join(reqs) + "\n")
        locks = tuple(n for n in workspace.NODE_LOCKS if (work / n).exists())
        (work / GENERATED_NAME).write_text(containerfile(p, locks, tuple(ex.config.build)))
        dockerfile = GENERATED_NAME
        ex.timeline.log("package", f"generated {GENERATED_NAME} for the {p.build_strategy} app")
    tag = ctr.image_tag(resource_id, ex.id)
    ex.phase("build", f"building {tag} from {dockerfile}")
    try:
        ctr.build_image(
            client,
            work,
            dockerfile,
            tag,
            lambda line: ex.timeline.log("build", line, source="build"),
            target=p.build_target,
            buildargs={**ex.config.build, **dict(p.build_args)},
            build_labels={**managed_labels(ex.svc.settings.data_dir), "dockyard.resource": resource_id},
            canceled=ex.canceled,
        )
    except ctr.BuildCanceled as exc:
        raise Canceled() from exc
    except ctr.BuildFailed as exc:
        raise DeployFailure(
            "build",
            "build-failed",
            str(exc),
            "Fix the failing step (the build output is above) and deploy again.",
        ) from exc
    except FileNotFoundError as exc:
        raise DeployFailure(
            "build",
            "dockerfile-missing",
            f"{dockerfile} is not in the source folder.",
            "Set the Dockerfile path.",
        ) from exc
    return tag


def execute_container(
    ex: Execution, resource_id: str, project_id: str, snapshot: dict[str, Any], p: Plan
) -> str:
    client = engine_client()
    image = _image(ex, client, resource_id, snapshot, p)
    if p.release_command:
        release(ex, client, image, resource_id, project_id, p)
    port = p.container_port or ctr.exposed_port(client, image)
    if port is None:
        raise DeployFailure(
            "start",
            "missing-internal-port",
            f"Neither the network profile nor the image {image} says which port the app listens on.",
            f"Set it: dockyard resources configure-network {resource_id} --internal-port PORT",
        )
    artifact = {
        "kind": "image",
        "deploymentId": ex.id,
        "image": image,
        "built": not p.image,
        "containerPort": port,
        "command": p.start_command if p.dockerfile or p.image else None,  # generated images bake it in
        "memory": p.memory_limit,
        "cpus": p.cpu_limit,
        "framework": p.framework,
    }
    return start_container(ex, client, resource_id, project_id, artifact, p.health)


def _data_volume(ex: Execution, resource_id: str) -> dict[str, str]:
    """The resource's persistent data folder, mounted at the same path in every container of it."""
    return {str(app_data_dir(ex.svc.settings.data_dir, resource_id)): CONTAINER_DATA_DIR}


def release(
    ex: Execution, client: "docker.DockerClient", image: str, resource_id: str, project_id: str, p: Plan
) -> None:
    """The release command in a one-off container of the new image, before any candidate starts."""
    ex.phase("release", f"running {p.release_command} in a container of {image}")
    code = ctr.run_once(
        client,
        image,
        p.release_command or "",
        ex.emitter("release"),
        env=ex.app_env(resource_id, p.framework, CONTAINER_DATA_DIR),
        volumes=_data_volume(ex, resource_id),
        network=f"dockyard-{project_id.lower()}",
        labels={
            **ctr.labels(ex.svc.settings.data_dir, project_id, resource_id, ex.id),
            "dockyard.role": "release",
        },
        canceled=ex.canceled,
    )
    if ex.canceled():
        raise Canceled()
    if code != 0:
        raise DeployFailure(
            "release",
            "release-failed",
            f"release failed with exit code {code}",
            "Fix the release step (its output is above) and deploy again.",
        )


def start_container(
    ex: Execution,
    client: "docker.DockerClient",
    resource_id: str,
    project_id: str,
    artifact: dict[str, Any],
    health: HealthCheck,
) -> str:
    """Start a candidate container from an image (a fresh one, or a retained one for a rollback)."""
    image, port = artifact["image"], artifact["containerPort"]
    host_port = ex.svc.runtime.allocate_port()
    log_path = ex.svc.settings.data_dir / "workspaces" / resource_id / f"{ex.id}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    ex.phase("start", f"starting a container of {image} (port {port} on 127.0.0.1:{host_port})")
    ex.record_artifact(artifact)
    runtime = ctr.ContainerRuntime(ex.svc.runtime, engine_url() or "", client.api.api_version)
    ex.start_candidate(
        runtime,
        resource_id,
        ctr.ContainerSpec(
            deployment_id=ex.id,
            image=image,
            container_port=port,
            host_port=host_port,
            log_path=str(log_path),
            env={
                **ex.app_env(resource_id, artifact.get("framework"), CONTAINER_DATA_DIR),
                "PORT": str(port),
                "HOST": "0.0.0.0",
            },
            labels=ctr.labels(ex.svc.settings.data_dir, project_id, resource_id, ex.id),
            network=f"dockyard-{project_id.lower()}",
            memory=artifact.get("memory"),
            cpus=artifact.get("cpus"),
            command=artifact.get("command"),
            volumes=_data_volume(ex, resource_id),
        ),
    )
    port_hint = (
        f"Check that the app listens on port {port} inside the container (0.0.0.0, not 127.0.0.1), or "
        f"set the port it uses: dockyard resources configure-network {resource_id} --internal-port PORT"
    )
    try:
        return ex.verify_switch(resource_id, host_port, log_path, health, port_hint)
    except BaseException:  # failed, canceled or switched back: none of its containers may stay
        runtime.discard(resource_id, ex.id)
        ex.candidate_started = False
        raise
