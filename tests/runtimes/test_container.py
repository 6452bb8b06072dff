"""The container runtime against a real engine (Podman's Docker API): builds, candidates, crashes."""

import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import docker
import httpx
import pytest

from dockyard.domain.ids import new_id
from dockyard.runtimes import container as ctr
from dockyard.runtimes import redirect
from dockyard.runtimes.host_process import HostProcessRuntime, free_port
from engine import BUSYBOX_IMAGE, RUN_LABEL, SITE_DOCKERFILE, engine_client, engine_or_skip
from polling import poll

DEADLINE_S = 30.0
SITE = SITE_DOCKERFILE


@pytest.fixture(scope="module")
def client() -> Iterator[docker.DockerClient]:
    with engine_client() as c:
        yield c


@pytest.fixture
def runtime(tmp_path: Path, client: docker.DockerClient) -> Iterator[ctr.ContainerRuntime]:
    host = HostProcessRuntime(tmp_path / "data")
    yield ctr.ContainerRuntime(host, engine_or_skip())
    host.shutdown_all()


def site(tmp_path: Path, text: str, dockerfile: str = SITE) -> Path:
    folder = tmp_path / f"site-{new_id('deployment')[-6:]}"
    folder.mkdir()
    (folder / "Dockerfile").write_text(dockerfile)
    (folder / "index.html").write_text(text)
    return folder


def build(client: docker.DockerClient, folder: Path, lines: list[str] | None = None) -> str:
    tag = f"localhost/dockyard-test/{folder.name}:1"
    ctr.build_image(
        client,
        folder,
        "Dockerfile",
        tag,
        (lines if lines is not None else []).append,
        build_labels=RUN_LABEL,
    )
    return tag


def test_a_build_streams_its_steps_and_exposes_its_port(client: docker.DockerClient, tmp_path: Path) -> None:
    lines: list[str] = []
    tag = build(client, site(tmp_path, "one"), lines)
    assert any("STEP" in line or "Step" in line for line in lines)
    assert ctr.exposed_port(client, tag) == 8080


def test_a_failing_build_names_the_failing_step(client: docker.DockerClient, tmp_path: Path) -> None:
    folder = site(tmp_path, "x", f"FROM {BUSYBOX_IMAGE}\nRUN echo compiling && exit 3\n")
    lines: list[str] = []
    with pytest.raises(ctr.BuildFailed) as failed:
        build(client, folder, lines)
    assert "exit 3" in str(failed.value) or "exit status 3" in str(failed.value)
    assert "compiling" in lines


def start(
    runtime: ctr.ContainerRuntime, resource: str, image: str, tmp_path: Path, page: str
) -> tuple[str, int]:
    """Start a candidate of `image` and wait until it answers with its own `page` (any other
    process answering 200 on the port does not count)."""
    deployment = new_id("deployment")
    port = free_port()
    runtime.start_candidate(
        resource,
        ctr.ContainerSpec(
            deployment_id=deployment,
            image=image,
            container_port=8080,
            host_port=port,
            log_path=str(tmp_path / f"{deployment}.log"),
            labels=ctr.labels(tmp_path, new_id("project"), resource, deployment),
        ),
    )
    poll(lambda: httpx.get(f"http://127.0.0.1:{port}/").text == page, "the candidate to answer")
    return deployment, port


def live(
    runtime: ctr.ContainerRuntime, client: docker.DockerClient, tmp_path: Path, page: str
) -> tuple[str, str]:
    """A new resource serving `page` from a promoted container: (resource, deployment)."""
    resource = new_id("resource")
    deployment, _ = start(runtime, resource, build(client, site(tmp_path, page)), tmp_path, page)
    runtime.host.promote(resource, deployment)
    return resource, deployment


def test_a_candidate_replaces_the_live_container_behind_the_same_url(
    runtime: ctr.ContainerRuntime, client: docker.DockerClient, tmp_path: Path
) -> None:
    resource = new_id("resource")
    first, _ = start(runtime, resource, build(client, site(tmp_path, "v1")), tmp_path, "v1")
    runtime.host.promote(resource, first)
    url = runtime.host.url(resource)
    assert url and httpx.get(url).text == "v1"
    labelled = client.containers.list(filters={"label": f"dockyard.deployment={first}"})
    assert [c.labels["dockyard.resource"] for c in labelled] == [resource]
    second, _ = start(runtime, resource, build(client, site(tmp_path, "v2")), tmp_path, "v2")
    assert httpx.get(url).text == "v1"  # the candidate runs next to the live one, unseen
    runtime.host.promote(resource, second)
    assert httpx.get(url).text == "v2"
    poll(
        lambda: not client.containers.list(all=True, filters={"label": f"dockyard.deployment={first}"}),
        "v1 to be removed from the engine",
    )


def test_a_container_that_dies_is_started_again(
    runtime: ctr.ContainerRuntime, client: docker.DockerClient, tmp_path: Path
) -> None:
    resource, deployment = live(runtime, client, tmp_path, "alive")
    url = runtime.host.url(resource) or ""
    client.containers.list(filters={"label": f"dockyard.deployment={deployment}"})[0].kill()
    poll(lambda: (runtime.host.status(resource) or {}).get("active", {}).get("restarts", 0) >= 1, "a restart")
    poll(lambda: httpx.get(url).text == "alive", "the container to answer again")


def test_discarding_a_candidate_removes_its_container(
    runtime: ctr.ContainerRuntime, client: docker.DockerClient, tmp_path: Path
) -> None:
    resource = new_id("resource")
    deployment, _ = start(runtime, resource, build(client, site(tmp_path, "gone")), tmp_path, "gone")
    runtime.host.discard(resource, deployment)
    poll(
        lambda: not client.containers.list(all=True, filters={"label": f"dockyard.deployment={deployment}"}),
        "removal",
    )


def test_discarding_a_candidate_whose_attach_process_hangs_still_removes_its_container(
    runtime: ctr.ContainerRuntime, client: docker.DockerClient, tmp_path: Path
) -> None:
    resource = new_id("resource")
    deployment, _ = start(runtime, resource, build(client, site(tmp_path, "stuck")), tmp_path, "stuck")
    attach = (runtime.host.status(resource) or {})["candidate"]["pid"]
    os.killpg(attach, signal.SIGSTOP)  # it will not act on SIGTERM; the runner kills it after its grace
    runtime.discard(resource, deployment)
    left = client.containers.list(all=True, filters={"label": f"dockyard.deployment={deployment}"})
    assert [(c.name, c.status) for c in left] == []


def test_limits_and_the_project_network_are_applied(
    runtime: ctr.ContainerRuntime, client: docker.DockerClient, tmp_path: Path
) -> None:
    resource, deployment, port = new_id("resource"), new_id("deployment"), free_port()
    project = new_id("project")
    runtime.start_candidate(
        resource,
        ctr.ContainerSpec(
            deployment_id=deployment,
            image=build(client, site(tmp_path, "limited")),
            container_port=8080,
            host_port=port,
            log_path=str(tmp_path / f"{deployment}.log"),
            labels=ctr.labels(tmp_path, project, resource, deployment),
            network=f"dockyard-{project.lower()}",
            memory="64m",
            cpus=0.5,
        ),
    )
    box = poll(
        lambda: client.containers.list(filters={"label": f"dockyard.deployment={deployment}"}), "the box"
    )
    attrs = box[0].attrs  # type: ignore[index]
    assert (
        attrs["HostConfig"]["Memory"] == 64 * 1024 * 1024 and attrs["HostConfig"]["NanoCpus"] == 500_000_000
    )
    assert f"dockyard-{project.lower()}" in attrs["NetworkSettings"]["Networks"]
    runtime.host.discard(resource, deployment)
    poll(
        lambda: not client.containers.list(all=True, filters={"label": f"dockyard.deployment={deployment}"}),
        "gone",
    )
    client.networks.get(f"dockyard-{project.lower()}").remove()


@pytest.mark.skipif(redirect.unavailable() is not None, reason=str(redirect.unavailable()))
def test_the_stable_port_reaches_the_container_itself_and_follows_it_when_it_comes_back(
    runtime: ctr.ContainerRuntime, client: docker.DockerClient, tmp_path: Path
) -> None:
    resource, deployment = live(runtime, client, tmp_path, "direct")
    front = runtime.host.front_port(resource) or 0
    table = redirect.Redirects(runtime.host.root)

    def container_address() -> tuple[str, int] | None:
        """The running container's own address (None while none runs)."""
        for box in client.containers.list(filters={"label": f"dockyard.deployment={deployment}"}):
            networks = box.attrs["NetworkSettings"]["Networks"].values()
            return next(n["IPAddress"] for n in networks if n.get("IPAddress")), 8080
        return None

    def redirected_to_it() -> bool:
        address = container_address()
        return address is not None and table.current().get(front) == address

    poll(redirected_to_it, "the redirect to the container")
    assert httpx.get(f"http://127.0.0.1:{front}/").text == "direct"
    with socket.create_connection(("127.0.0.1", front)):
        active = (runtime.host.status(resource) or {})["active"]
        assert active["connections"] == 0, "no process carried the connection"
    client.containers.list(filters={"label": f"dockyard.deployment={deployment}"})[0].kill()
    poll(lambda: (runtime.host.status(resource) or {})["active"]["restarts"] >= 1, "a restart")
    poll(redirected_to_it, "the redirect to the new container")
    poll(lambda: httpx.get(f"http://127.0.0.1:{front}/").text == "direct", "the container to answer again")
