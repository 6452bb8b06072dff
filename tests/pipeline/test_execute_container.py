"""A container deploy that fails leaves none of its containers behind (real engine, real runner).

Whether the container exits at once (the runner restarts it while the deploy gives up) or answers
on the wrong port until verification fails — also when the process attached to it does not end
when asked (a slow engine: the runner kills it before it removed its container) — no container
labelled with the deployment stays: not running, not exited, not merely created.
"""

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from deploy_target import made, new_target, with_source
from dockyard.pipeline.execute import run_deployment
from dockyard.services import Services
from engine import BUSYBOX_IMAGE, engine_client, engine_or_skip
from polling import poll

EXITS = f'FROM {BUSYBOX_IMAGE}\nEXPOSE 8080\nCMD ["sh", "-c", "echo no config >&2; exit 1"]\n'
WRONG_PORT = f'FROM {BUSYBOX_IMAGE}\nEXPOSE 8080\nCMD ["httpd", "-f", "-p", "9090", "-h", "/"]\n'
FAILING = {  # name: (Dockerfile, whether the attach process hangs)
    "exits-at-once": (EXITS, False),
    "fails-its-health-check": (WRONG_PORT, False),
    "fails-its-health-check-attach-hung": (WRONG_PORT, True),
}


@pytest.fixture(scope="module")
def engine() -> Iterator[docker.DockerClient]:
    with engine_client() as client:
        yield client


@pytest.fixture
def svc(stack: Any, engine: docker.DockerClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    monkeypatch.setenv("DOCKER_HOST", engine_or_skip())
    services = Services.create(stack.settings, stack.db)
    yield services
    services.runtime.shutdown_all()


def _deployment(api: Any, folder: Path) -> tuple[str, str]:
    target = with_source(api, new_target(api, "boxed"), folder)
    health = {"healthCheck": {"retries": 2, "intervalSeconds": 1}}
    assert api.post(f"/api/resources/{target['resourceId']}/health-policy", json=health).status_code == 200
    return made(api, "/api/deployments", target), target["resourceId"]


def _hang_attach(svc: Services, engine: docker.DockerClient, resource: str, deployment: str) -> None:
    """Once the candidate's container runs, stop the process attached to it: it will not act on
    SIGTERM, and the runner kills it after its grace."""
    label = {"label": f"dockyard.deployment={deployment}", "status": "running"}
    poll(lambda: engine.containers.list(filters=label), "the candidate's container to run")
    pid = ((svc.runtime.status(resource) or {}).get("candidate") or {}).get("pid")
    with contextlib.suppress(ProcessLookupError, TypeError):
        os.killpg(pid, signal.SIGSTOP)


@pytest.mark.parametrize("name", sorted(FAILING))
def test_a_failed_container_deploy_leaves_no_container(
    api: Any, svc: Services, engine: docker.DockerClient, tmp_path: Path, name: str
) -> None:
    folder = tmp_path / name
    folder.mkdir()
    dockerfile, hangs = FAILING[name]
    (folder / "Dockerfile").write_text(dockerfile)
    dep, resource = _deployment(api, folder)
    hanging = threading.Thread(target=_hang_attach, args=(svc, engine, resource, dep))
    if hangs:
        hanging.start()
    outcome = run_deployment(svc, dep)
    if hangs:
        hanging.join()
    shown = api.get(f"/api/deployments/{dep}").json()["deployment"]
    assert (outcome.status, shown["status"]) == ("failed", "failed"), shown["failure"]
    assert shown["failure"]["code"] == "health-check-failed"
    left = engine.containers.list(all=True, filters={"label": f"dockyard.deployment={dep}"})
    assert [(c.name, c.status) for c in left] == []
