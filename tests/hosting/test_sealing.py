"""A stdio server's `env` is a secret like the others: sealed in the database, only its names in
answers, opened for the run it configures."""

from pathlib import Path

import anyio
import pytest
from control_plane_process import ControlPlane
from mcp_helpers import ECHO_STDIO, McpApi, mcp_client

pytestmark = pytest.mark.e2e
SECRET = "sk-live-7f3a9c2e5b1d4c8e"


def test_a_stdio_servers_env_is_sealed_at_rest_and_masked_in_answers(
    plane: ControlPlane, mcp_api: McpApi
) -> None:
    version = mcp_api.deploy_version({**ECHO_STDIO, "env": {"ECHO_PREFIX": SECRET}}, name="sealed env")
    assert version["status"] == "deployment_succeeded", version["deployment"]
    assert version["stdio_command"]["env"] == ["ECHO_PREFIX"]
    for path in (f"/custom-provider-versions/{version['id']}", f"/providers/{version['provider_id']}"):
        assert SECRET not in mcp_api.http.get(path).text, path

    body = {"provider_id": version["provider_id"]}
    deployment = mcp_api.call("POST", "/provider-deployments", 201, json=body)
    session = mcp_api.session_for(deployment["id"])

    async def call() -> str:
        async with mcp_client(session["connection_url"], session["client_secret"]["secret"]) as client:
            result = await client.call_tool("echo", {"text": "!"})
            return result.content[0].text

    assert anyio.run(call) == f"{SECRET}!"  # the run got the value
    stored = b"".join(p.read_bytes() for p in Path(plane.data_dir).glob("dockyard.db*"))
    assert stored and SECRET.encode() not in stored
