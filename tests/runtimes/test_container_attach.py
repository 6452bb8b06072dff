"""The process attached to one container removes it however it ends (real engine).

A container that could be created but not started (its host port is taken) is removed when the
attach process gives up, instead of staying behind `created` with the deployment's labels.
"""

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from dockyard.domain.ids import new_id
from engine import BUSYBOX_IMAGE, TEST_LABEL, engine_or_skip


@pytest.fixture(scope="module")
def client() -> Iterator[docker.DockerClient]:
    c = docker.DockerClient(base_url=engine_or_skip())
    yield c
    c.close()


def _spec(tmp_path: Path, host_port: int, name: str) -> Path:
    spec = tmp_path / "spec.json"
    spec.write_text(
        json.dumps(
            {
                "engine": engine_or_skip(),
                "image": BUSYBOX_IMAGE,
                "name": name,
                "containerPort": 8080,
                "hostPort": host_port,
                "labels": TEST_LABEL,
                "command": "exec httpd -f -p 8080 -h /",
            }
        )
    )
    return spec


def _left(client: docker.DockerClient, name: str) -> list[tuple[str, str]]:
    return [(c.name, c.status) for c in client.containers.list(all=True, filters={"name": name})]


def _attach(spec: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "dockyard.runtimes.container_attach", str(spec)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_a_container_that_cannot_start_is_removed(client: docker.DockerClient, tmp_path: Path) -> None:
    name = f"dockyard-test-{new_id('deployment')[-12:].lower()}"
    with socket.socket() as taken:  # podman creates the container, then cannot publish the port
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        proc = _attach(_spec(tmp_path, taken.getsockname()[1], name))
        out, _ = proc.communicate(timeout=120)
    assert proc.returncode != 0 and b"could not run the container" in out, out
    assert _left(client, name) == []
