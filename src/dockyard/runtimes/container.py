"""The container runtime: images built or found through the Docker Engine API, containers run
under the same per-resource runner as host processes (see container_attach), so candidate-first
replacement, the stable front port, crash restarts, stop/start and logs are shared."""

import contextlib
import json
import logging
import shlex
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dockyard.runtimes.engine import managed_labels
from dockyard.runtimes.host_process import HostProcessRuntime
from dockyard.runtimes.protocol import InstanceSpec, address_file
from dockyard.secrets.files import write_private

if TYPE_CHECKING:
    import docker

Emit = Callable[[str], None]
log = logging.getLogger("dockyard.runtime")


class BuildFailed(RuntimeError):
    """The image build failed; the message is the engine's last error (the failing step)."""


class BuildCanceled(RuntimeError):
    pass


@dataclass(frozen=True)
class ContainerSpec:
    deployment_id: str
    image: str
    container_port: int
    host_port: int
    log_path: str
    env: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    network: str | None = None
    command: str | None = None
    memory: str | None = None
    cpus: float | None = None
    volumes: dict[str, str] = field(default_factory=dict)  # host folder -> path inside the container


def image_tag(resource_id: str, deployment_id: str) -> str:
    return f"localhost/dockyard/{resource_id.lower()}:{deployment_id.lower()}"


def labels(data_dir: Path, project_id: str, resource_id: str, deployment_id: str) -> dict[str, str]:
    return {
        **managed_labels(data_dir),
        "dockyard.project": project_id,
        "dockyard.resource": resource_id,
        "dockyard.deployment": deployment_id,
    }


def remove_containers(engine: str, deployment_id: str, api_version: str | None = None) -> list[str]:
    """Remove every container labelled with the deployment, running, exited or only created; the
    names removed. Best effort: an engine that does not answer is logged, not raised."""
    import docker
    from docker.errors import APIError, DockerException, NotFound

    removed: list[str] = []
    try:
        client = docker.DockerClient(base_url=engine, version=api_version or "auto", timeout=60)
        with contextlib.closing(client):
            for box in client.containers.list(
                all=True, filters={"label": f"dockyard.deployment={deployment_id}"}
            ):
                with contextlib.suppress(NotFound):
                    box.remove(force=True)
                    removed.append(box.name)
    except (APIError, DockerException, OSError) as exc:
        log.warning("could not remove the containers of %s: %s", deployment_id, exc)
    return removed


def _build_stream(client: "docker.DockerClient", **kwargs: Any) -> Iterator[dict[str, Any]]:
    yield from client.api.build(decode=True, rm=True, forcerm=True, **kwargs)


def build_image(
    client: "docker.DockerClient",
    context: Path,
    dockerfile: str,
    tag: str,
    emit: Emit,
    *,
    buildargs: dict[str, str] | None = None,
    target: str | None = None,
    build_labels: dict[str, str] | None = None,
    canceled: Callable[[], bool] = lambda: False,
) -> None:
    """Build `tag` from `context`, handing each output line to `emit`."""
    last: list[str] = []
    for chunk in _build_stream(
        client,
        path=str(context),
        dockerfile=dockerfile,
        tag=tag,
        buildargs=buildargs or {},
        target=target,
        labels=build_labels or {},
    ):
        if canceled():
            raise BuildCanceled("the image build was stopped: the deployment was canceled")
        if "error" in chunk or "errorDetail" in chunk:
            message = (chunk.get("errorDetail") or {}).get("message") or chunk.get("error") or "build failed"
            emit(message.strip())
            where = f" (after: {last[-1]})" if last else ""
            raise BuildFailed(f"the image build failed: {message.strip()}{where}")
        for line in str(chunk.get("stream") or "").splitlines():
            if line.strip():
                emit(line.rstrip())
                last = [*last[-4:], line.strip()]
    client.images.get(tag)  # a build that ended without an image is a failure too


def run_once(
    client: "docker.DockerClient",
    image: str,
    command: str,
    emit: Emit,
    *,
    env: dict[str, str],
    volumes: dict[str, str],
    network: str | None,
    labels: dict[str, str],
    canceled: Callable[[], bool] = lambda: False,
) -> int:
    """Run `command` in a fresh container of `image` to its end (a release step), each output line to
    `emit`; returns its exit code. The container is removed, and killed when `canceled()` turns true."""
    from docker.errors import APIError, NotFound

    from dockyard.runtimes.container_attach import SHARED, ensure_network

    container = client.containers.run(
        image,
        ["/bin/sh", "-c", command],
        detach=True,
        environment=env,
        volumes={host: {"bind": inside, "mode": "rw"} for host, inside in volumes.items()},
        network=ensure_network(client, network, {k: v for k, v in labels.items() if k in SHARED}),
        labels=labels,
    )
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.5):
            if canceled():
                with contextlib.suppress(APIError, NotFound):
                    container.kill()
                return

    threading.Thread(target=watch, daemon=True).start()
    try:
        pending = b""
        for chunk in container.logs(stream=True, follow=True):
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                emit(line.decode(errors="replace").rstrip("\r"))
        if pending:
            emit(pending.decode(errors="replace"))
        return int(container.wait().get("StatusCode", 1))
    finally:
        done.set()
        with contextlib.suppress(APIError, NotFound):
            container.remove(force=True)


def exposed_port(client: "docker.DockerClient", image: str) -> int | None:
    """The image's first exposed TCP port, if it declares one."""
    ports = (client.images.get(image).attrs.get("Config") or {}).get("ExposedPorts") or {}
    tcp = sorted(int(p.split("/")[0]) for p in ports if p.endswith("/tcp") or "/" not in p)
    return tcp[0] if tcp else None


class ContainerRuntime:
    """Starts containers as runner instances; everything after the start is the runner's."""

    def __init__(self, host: HostProcessRuntime, engine: str, api_version: str | None = None) -> None:
        self.host, self.engine, self.api_version = host, engine, api_version

    def start_candidate(self, resource_id: str, spec: ContainerSpec) -> dict[str, Any]:
        spec_path = Path(spec.log_path).with_suffix(".container.json")
        write_private(  # the environment may hold secret values
            spec_path,
            json.dumps(
                {
                    "engine": self.engine,
                    "apiVersion": self.api_version,  # known: the attach process skips asking
                    "image": spec.image,
                    "name": f"dockyard-{spec.deployment_id.lower()}",
                    "containerPort": spec.container_port,
                    "hostPort": spec.host_port,
                    "env": spec.env,
                    "labels": spec.labels,
                    "network": spec.network,
                    "command": spec.command,
                    "memory": spec.memory,
                    "cpus": spec.cpus,
                    "volumes": spec.volumes,
                    "addressFile": str(address_file(spec.log_path)),
                }
            ),
        )
        attach = f"{shlex.quote(sys.executable)} -m dockyard.runtimes.container_attach"
        command = f"exec {attach} {shlex.quote(str(spec_path))}"
        return self.host.start_candidate(
            resource_id,
            InstanceSpec(
                spec.deployment_id,
                command,
                str(spec_path.parent),
                {"PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1"},
                spec.host_port,
                spec.log_path,
                runtime_kind="container",
            ),
        )

    def discard(self, resource_id: str, deployment_id: str) -> None:
        """Stop the candidate, then remove whatever container of the deployment is left: its attach
        process removes it on the way out, unless it was killed first (a slow engine, a crash)."""
        self.host.discard(resource_id, deployment_id)
        left = remove_containers(self.engine, deployment_id, self.api_version)
        if left:
            log.warning("removed the containers %s that deployment %s left", left, deployment_id)
