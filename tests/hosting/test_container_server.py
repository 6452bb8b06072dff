"""A container image as a custom provider version: run through the container engine, stdio attached,
discovered, and called through the gateway; an image that does not exist fails by name."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import anyio
import docker
import pytest
from mcp_helpers import McpApi, mcp_client

from engine import PYTHON_IMAGE, RUN_ID, RUN_LABEL, engine_client, engine_or_skip

pytestmark = pytest.mark.e2e
IMAGE = f"localhost/dockyard-test/mcp-container-echo:{RUN_ID}"  # its own tag: runs may share the engine


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    context: Path = tmp_path_factory.mktemp("mcp-image")
    shutil.copy(Path(__file__).with_name("container_echo.py"), context / "server.py")
    (context / "Dockerfile").write_text(
        f'FROM {PYTHON_IMAGE}\nCOPY server.py /server.py\nCMD ["python3", "-u", "/server.py"]\n'
    )
    with engine_client() as client:
        client.images.build(path=str(context), tag=IMAGE, labels=RUN_LABEL)
        yield IMAGE


def test_a_container_image_is_deployed_discovered_and_served(mcp_api: McpApi, image: str) -> None:
    version = mcp_api.deploy_version(
        {"type": "container_image", "image_ref": image, "env": {"ECHO_VERSION": "7"}}, name="container echo"
    )
    assert version["status"] == "deployment_succeeded", version["deployment"]
    assert version["container_image"]["container_image_tag"] == RUN_ID
    assert any(
        "container-echo 7 answered" in line["line"]
        for s in version["deployment"]["steps"]
        for line in s["logs"]
    )
    deployment = mcp_api.call(
        "POST", "/provider-deployments", 201, json={"provider_id": version["provider_id"]}
    )
    session = mcp_api.session_for(deployment["id"])

    async def use() -> None:
        async with mcp_client(session["connection_url"], session["client_secret"]["secret"]) as client:
            assert [t.name for t in (await client.list_tools()).tools] == ["shout"]
            result = await client.call_tool("shout", {"text": "hi"})
            assert result.content[0].text == "HI"
            engine = docker.DockerClient(base_url=engine_or_skip())
            ours = ["dockyard.mcp-run=1", f"dockyard.installation={RUN_ID}"]
            assert engine.containers.list(filters={"label": ours})  # the run's container, labelled ours
            engine.close()

    anyio.run(use)
    (run,) = mcp_api.call("GET", "/server-runs", params={"session_id": session["id"]})["items"]
    assert run["type"] == "hosted"


def test_an_image_that_does_not_exist_fails_the_deployment_by_name(mcp_api: McpApi, image: str) -> None:
    version = mcp_api.deploy_version({"type": "container_image", "image_ref": "localhost/nope/missing:1"})
    assert version["status"] == "deployment_failed"
    assert "localhost/nope/missing:1 does not exist" in version["deployment"]["error"]["message"]
