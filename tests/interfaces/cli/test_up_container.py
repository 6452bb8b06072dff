"""`dockyard up` on the container runtime: the real CLI and `dockyard serve` against a real engine."""

import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path

import docker
import httpx
import pytest
from control_plane_process import ControlPlane, Load, app, poll

from engine import BUSYBOX_IMAGE, PYTHON_IMAGE, RUN_ID, RUN_LABEL, SITE_DOCKERFILE, engine_client

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
pytestmark = pytest.mark.e2e
SITE = SITE_DOCKERFILE


@pytest.fixture(scope="module")
def engine() -> Iterator[docker.DockerClient]:
    with engine_client() as client:
        yield client


@pytest.fixture(scope="module")
def plane(engine: docker.DockerClient, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    bases = {"DOCKYARD_BASE_IMAGE_STATIC": BUSYBOX_IMAGE, "DOCKYARD_BASE_IMAGE_PYTHON": PYTHON_IMAGE}
    cp = ControlPlane(tmp_path_factory.mktemp("plane"), bases)
    cp.start()
    yield cp
    cp.stop()


def containers(engine: docker.DockerClient, deployment_id: str) -> list:
    """The deployment's containers, running or not: a retired one must be removed, not only stopped."""
    return engine.containers.list(all=True, filters={"label": f"dockyard.deployment={deployment_id}"})


def test_a_dockerfile_goes_live_and_a_redeploy_swaps_with_no_failed_request(
    plane: ControlPlane, engine: docker.DockerClient, tmp_path: Path
) -> None:
    folder = app(tmp_path, "boxed", {"Dockerfile": SITE, "index.html": "container one"})
    first = plane.up(folder)
    assert first["status"] == "succeeded", first["stderr"]
    assert httpx.get(first["url"]).text == "container one"
    shown = plane.api("GET", f"/deployments/{first['deploymentId']}")
    assert shown["deployment"]["runtimePlan"]["execution"]["kind"] == "docker-container"
    [box] = containers(engine, first["deploymentId"])
    assert box.labels["dockyard.resource"] == first["resourceId"]
    assert box.labels["dockyard.installation"] == RUN_ID  # the serve process's DOCKYARD_INSTALLATION_ID
    assert engine.images.get(box.image.id).labels["dockyard.installation"] == RUN_ID
    with Load(first["url"]) as load:
        poll(lambda: "container one" in load.seen, "traffic on v1")
        (folder / "index.html").write_text("container two")
        second = plane.up(folder)
        poll(lambda: "container two" in load.seen, "traffic on v2")
    assert second["status"] == "succeeded" and second["url"] == first["url"]
    assert load.failures == []
    poll(lambda: not containers(engine, first["deploymentId"]), "the old container to be removed")


def test_a_local_image_goes_live(plane: ControlPlane, engine: docker.DockerClient, tmp_path: Path) -> None:
    context = app(tmp_path, "img", {"Dockerfile": SITE, "index.html": "from an image"})
    engine.images.build(path=str(context), tag=f"localhost/dockyard-e2e/img:{RUN_ID}", labels=RUN_LABEL)
    result = plane.up(Path(f"localhost/dockyard-e2e/img:{RUN_ID}"))
    assert result["status"] == "succeeded", result["stderr"]
    assert httpx.get(result["url"]).text == "from an image"


def test_the_static_example_runs_in_a_generated_container(plane: ControlPlane, tmp_path: Path) -> None:
    folder = tmp_path / "hello-static"
    shutil.copytree(EXAMPLES / "hello-static", folder)
    (folder / ".env").write_text("TOKEN=not-for-the-web\n")
    (folder / ".well-known").mkdir()
    (folder / ".well-known" / "security.txt").write_text("Contact: ops@example.test\n")
    result = plane.up(folder, "--runtime", "container")
    assert result["status"] == "succeeded", result["stderr"]
    assert "Hello from Dockyard" in httpx.get(result["url"]).text
    assert httpx.get(result["url"] + ".env").status_code == 404  # busybox httpd served dotfiles
    assert "ops@example.test" in httpx.get(result["url"] + ".well-known/security.txt").text
    plan = plane.api("GET", f"/deployments/{result['deploymentId']}")["deployment"]["runtimePlan"]
    assert plan["execution"]["kind"] == "docker-container" and plan["buildStrategy"] == "static"


BAD = {
    "build-fails": ({"Dockerfile": f"FROM {BUSYBOX_IMAGE}\nRUN echo compiling && exit 3\n"}, "build-failed"),
    "exits-at-once": (
        {
            "Dockerfile": f"FROM {BUSYBOX_IMAGE}\nEXPOSE 8080\n"
            'CMD ["sh", "-c", "echo missing config >&2; exit 1"]\n'
        },
        "health-check-failed",
    ),
    "port-mismatch": (
        {"Dockerfile": f'FROM {BUSYBOX_IMAGE}\nEXPOSE 8080\nCMD ["httpd", "-f", "-p", "9090", "-h", "/"]\n'},
        "health-check-failed",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_bad_container_deploy_fails_clearly_and_the_live_version_keeps_answering(
    plane: ControlPlane, tmp_path: Path, name: str
) -> None:
    folder = app(tmp_path, name, {"Dockerfile": SITE, "index.html": "good version"})
    good = plane.up(folder)
    assert good["status"] == "succeeded", good["stderr"]
    files, code = BAD[name]
    for rel, text in files.items():
        (folder / rel).write_text(textwrap.dedent(text))
    if name == "port-mismatch":
        plane.api(
            "POST",
            f"/resources/{good['resourceId']}/health-policy",
            json={"healthCheck": {"retries": 2, "intervalSeconds": 1}},
        )
    bad = plane.up(folder)
    assert bad["exit"] == 1 and bad["status"] == "failed"
    failure = plane.api("GET", f"/deployments/{bad['deploymentId']}")["deployment"]["failure"]
    assert failure["code"] == code
    logs = [line["message"] for line in plane.api("GET", f"/deployments/{bad['deploymentId']}/logs")["logs"]]
    if name == "build-fails":
        assert "compiling" in logs and "exit" in failure["message"]
    if name == "exits-at-once":
        assert any("missing config" in line for line in logs)
    if name == "port-mismatch":
        assert "internal-port" in failure["nextAction"]
    assert httpx.get(good["url"]).text == "good version"


def test_an_image_that_is_not_there_is_refused_by_name(plane: ControlPlane) -> None:
    result = plane.up(Path("localhost/dockyard-e2e/absent:1"))
    assert result["exit"] == 1 and result["status"] == "failed"
    failure = plane.api("GET", f"/deployments/{result['deploymentId']}")["deployment"]["failure"]
    assert failure["code"] == "image-not-found" and "absent:1" in failure["message"]


def test_an_unreachable_engine_names_docker_host(tmp_path: Path) -> None:
    cp = ControlPlane(tmp_path / "plane", {"DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"})
    (tmp_path / "plane").mkdir()
    cp.start()
    try:
        result = cp.up(app(tmp_path, "needs-engine", {"Dockerfile": SITE}))
        failure = cp.api("GET", f"/deployments/{result['deploymentId']}")["deployment"]["failure"]
    finally:
        cp.stop()
    assert result["status"] == "failed" and failure["code"] == "container-engine-unreachable"
    assert "DOCKER_HOST" in failure["message"] and "DOCKER_HOST" in failure["nextAction"]


def test_logs_stop_start_and_restart_work_on_a_container(
    plane: ControlPlane, engine: docker.DockerClient, tmp_path: Path
) -> None:
    chatty = f"""
        FROM {BUSYBOX_IMAGE}
        COPY index.html /www/index.html
        EXPOSE 8080
        CMD ["sh", "-c", "echo container says hello; exec httpd -f -v -p 8080 -h /www"]
        """
    result = plane.up(app(tmp_path, "chatty", {"Dockerfile": chatty, "index.html": "chatty"}))
    assert result["status"] == "succeeded", result["stderr"]
    resource = result["resourceId"]
    logs = poll(
        lambda: (out := plane.cli("logs", resource)).returncode == 0 and "says hello" in out.stdout and out,
        "logs",
    )
    assert "Traceback" not in logs.stderr
    [before] = containers(engine, result["deploymentId"])
    assert plane.cli("restart", resource).returncode == 0
    poll(
        lambda: [c.id for c in containers(engine, result["deploymentId"])] not in ([], [before.id]),
        "a new box",
    )
    poll(lambda: httpx.get(result["url"]).text == "chatty", "answers after restart")
    assert plane.cli("stop", resource).returncode == 0
    poll(lambda: not containers(engine, result["deploymentId"]), "the container to stop")
    with pytest.raises(httpx.HTTPError):
        httpx.get(result["url"], timeout=2)
    assert plane.cli("start", resource).returncode == 0
    poll(lambda: httpx.get(result["url"]).text == "chatty", "answers after start")
    runtime = plane.api("GET", f"/resources/{resource}/runtime-logs")
    assert any(line["runtimeKind"] == "container" for line in runtime["logs"])


PRINT_ENV = (EXAMPLES / "print-env" / "app.py").read_text()
PRINT_ENV_DOCKERFILE = f"""\
FROM {PYTHON_IMAGE}
ARG PUBLIC_BUILD_MARK
WORKDIR /app
COPY app.py /app/
RUN echo "$PUBLIC_BUILD_MARK" > built.txt
EXPOSE 8000
CMD ["python3", "app.py"]
"""


def test_build_time_values_are_build_args_and_runtime_values_the_container_env(
    plane: ControlPlane, tmp_path: Path
) -> None:
    folder = app(tmp_path, "boxed-env", {"Dockerfile": PRINT_ENV_DOCKERFILE, "app.py": PRINT_ENV})
    first = plane.up(folder)
    assert first["status"] == "succeeded", first["stderr"]
    rid = first["resourceId"]
    for args in (
        ("PUBLIC_BUILD_MARK=boxed-42", "--build-time"),
        ("GREETING=from-a-container",),
        ("APP_SECRET=ctr-canary-5e6f7a8b", "--secret"),
    ):
        done = plane.cli("env", "set", *args, "--resource", rid)
        assert done.returncode == 0, done.stderr
    second = plane.up(folder)
    assert second["status"] == "succeeded", second["stderr"]
    assert httpx.get(second["url"]).text == "hello from from-a-container\n"
    raw = plane.data_dir / "workspaces" / rid / f"{second['deploymentId']}.log"
    printed = poll(lambda: "BUILT=" in (text := raw.read_text()) and text, "the container's output")
    assert "APP_SECRET=ctr-canary-5e6f7a8b\n" in printed and "BUILT=boxed-42\n" in printed
    logs = plane.cli("logs", rid, "--tail", "500")
    assert "APP_SECRET=****" in logs.stdout and "ctr-canary-5e6f7a8b" not in logs.stdout
    timeline = plane.cli("deployments", "logs", second["deploymentId"])
    assert "ctr-canary-5e6f7a8b" not in timeline.stdout


def test_a_rollback_starts_a_retained_image_and_old_images_are_pruned(
    plane: ControlPlane, engine: docker.DockerClient, tmp_path: Path
) -> None:
    folder = app(tmp_path, "kept", {"Dockerfile": SITE, "index.html": "image 0"})
    ids = []
    for n in range(5):  # 3 successful deployments keep their images (DOCKYARD_RETAINED_ARTIFACTS)
        (folder / "index.html").write_text(f"image {n}")
        result = plane.up(folder)
        assert result["status"] == "succeeded", result["stderr"]
        ids.append(result["deploymentId"])
    resource = result["resourceId"]

    def tags() -> set[str]:
        images = engine.images.list(filters={"label": f"dockyard.resource={resource}"})
        return {t.rsplit(":", 1)[-1] for i in images for t in i.tags}

    poll(lambda: tags() == set(ids[2:]), "the two oldest images to be pruned")
    ready = plane.api("GET", f"/deployments/{ids[-1]}/recovery-readiness")
    by_id = {c["deploymentId"]: c for c in ready["rollback"]["candidates"]}
    assert by_id[ids[2]]["rollbackReady"] and not by_id[ids[0]]["rollbackReady"]
    assert by_id[ids[0]]["reasons"][0]["code"] == "artifact-pruned"
    back = plane.api(
        "POST", f"/deployments/{ids[-1]}/rollback", json={"rollbackCandidateDeploymentId": ids[2]}
    )["id"]
    poll(
        lambda: plane.api("GET", f"/deployments/{back}")["deployment"]["status"] == "succeeded",
        "the rollback",
    )
    assert httpx.get(result["url"]).text == "image 2"
    poll(lambda: not containers(engine, ids[-1]), "the rolled-back version's container to be removed")
    logs = plane.api("GET", f"/deployments/{back}/logs")["logs"]
    assert not any(line["phase"] == "build" for line in logs)


def test_a_release_runs_in_the_new_image_and_the_data_folder_outlives_the_container(
    plane: ControlPlane, tmp_path: Path
) -> None:
    serve = "wc -l < $DOCKYARD_APP_DATA_DIR/releases > /www/count; exec httpd -f -p 8080 -h /www"
    files = {
        "Dockerfile": f"FROM {BUSYBOX_IMAGE}\nCOPY index.html /www/index.html\nEXPOSE 8080\n"
        f'CMD ["sh", "-c", "{serve}"]\n',
        "index.html": "boxed data",
        "dockyard.yml": 'release: echo "release into $DOCKYARD_APP_DATA_DIR" && echo one >> /data/releases\n',
    }
    folder = app(tmp_path, "boxed-data", files)
    first = plane.up(folder)
    assert first["status"] == "succeeded", first["stderr"]
    assert httpx.get(first["url"] + "count").text.strip() == "1"
    second = plane.up(folder)
    assert second["status"] == "succeeded", second["stderr"]
    assert httpx.get(second["url"] + "count").text.strip() == "2"
    logs = plane.api("GET", f"/deployments/{second['deploymentId']}/logs")["logs"]
    assert "release into /data" in [line["message"] for line in logs if line["phase"] == "release"]
    kept = plane.data_dir / "appdata" / second["resourceId"] / "releases"
    assert kept.read_text().splitlines() == ["one", "one"]
    (folder / "dockyard.yml").write_text("release: echo 'no such table' >&2; exit 5\n")
    failed = plane.up(folder)
    assert (failed["status"], failed["error"]["code"]) == ("failed", "release-failed")
    assert httpx.get(second["url"] + "count").text.strip() == "2"
