"""Servers that hang: at discovery (the deploy fails naming the timeout), when a run boots, and during
a tool call (the client gets an error naming the timeout, the run is recorded as failed with the
reason, and the next call boots a new run). The timeouts are settings, short for this plane."""

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from control_plane_process import ControlPlane
from mcp import ClientSession
from mcp.shared.exceptions import MCPError
from mcp_helpers import McpApi, mcp_client

pytestmark = pytest.mark.e2e
HANGING = Path(__file__).with_name("hanging_server.py")
DISCOVERY_TIMEOUT_S, CALL_TIMEOUT_S = "4", "3"
CLIENT_WAITS_S = 30  # the test's own limit: a gateway that never gives up fails the test, not hangs it


@pytest.fixture(scope="module")
def hang_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[McpApi]:
    env = {
        "DOCKYARD_MCP_DISCOVERY_TIMEOUT_S": DISCOVERY_TIMEOUT_S,
        "DOCKYARD_MCP_CALL_TIMEOUT_S": CALL_TIMEOUT_S,
    }
    cp = ControlPlane(tmp_path_factory.mktemp("hang-plane"), env=env)
    cp.start()
    yield McpApi(cp.url, (cp.data_dir / "admin.token").read_text().strip())
    cp.stop()


def hanging(marker: Path) -> dict[str, Any]:
    return {"type": "stdio", "command": sys.executable, "args": [str(HANGING), str(marker)]}


def session_over(api: McpApi, version: dict[str, Any]) -> dict[str, Any]:
    assert version["status"] == "deployment_succeeded", version["deployment"]
    deployment = api.call("POST", "/provider-deployments", 201, json={"provider_id": version["provider_id"]})
    return api.session_for(deployment["id"])


def runs_of(api: McpApi, session: dict[str, Any]) -> list[dict[str, Any]]:
    return api.call("GET", "/server-runs", params={"session_id": session["id"]})["items"]


async def refused(client: ClientSession, tool: str, reason: str) -> None:
    """Calling `tool` gives a JSON-RPC error saying `reason`, well before the test's own limit."""
    with anyio.fail_after(CLIENT_WAITS_S), pytest.raises(MCPError, match=reason):
        await client.call_tool(tool, {})


def test_a_server_that_never_answers_initialize_fails_its_deployment_after_the_timeout(
    hang_api: McpApi, tmp_path: Path
) -> None:
    marker = tmp_path / "hang"
    marker.touch()
    version = hang_api.deploy_version(hanging(marker), name="hangs at start")
    assert version["status"] == "deployment_failed"
    step = version["deployment"]["steps"][-1]
    assert step["type"] == "booting" and step["status"] == "failed"
    reason = f"did not answer initialize within {DISCOVERY_TIMEOUT_S} s (DOCKYARD_MCP_DISCOVERY_TIMEOUT_S)"
    assert reason in version["deployment"]["error"]["message"]
    assert any("not answering initialize" in line["line"] for line in step["logs"])  # its stderr


def test_a_run_that_hangs_at_boot_fails_the_call_and_is_recorded_failed(
    hang_api: McpApi, tmp_path: Path
) -> None:
    marker = tmp_path / "hang"
    session = session_over(hang_api, hang_api.deploy_version(hanging(marker), name="hangs at boot"))
    marker.touch()  # discovered fine; from now on it never answers initialize

    async def call() -> None:
        async with mcp_client(session["connection_url"], session["client_secret"]["secret"]) as client:
            await refused(client, "echo", f"did not answer initialize within {DISCOVERY_TIMEOUT_S} s")

    anyio.run(call)
    (run,) = runs_of(hang_api, session)
    assert run["status"] == "failed" and run["stopped_at"]
    assert run["failure"]["code"] == "boot_timed_out"
    assert f"within {DISCOVERY_TIMEOUT_S} s" in run["failure"]["message"]
    assert any("not answering initialize" in line for line in run["failure"]["last_stderr_lines"])


def test_a_call_the_server_never_answers_times_out_and_the_next_call_gets_a_new_run(
    hang_api: McpApi, tmp_path: Path
) -> None:
    session = session_over(
        hang_api, hang_api.deploy_version(hanging(tmp_path / "never"), name="hangs in call")
    )

    async def calls() -> None:
        async with mcp_client(session["connection_url"], session["client_secret"]["secret"]) as client:
            await refused(client, "wait", f"did not answer the request within {CALL_TIMEOUT_S} s")
            again = await client.call_tool("echo", {})
            assert again.content[0].text == "echoed"

    anyio.run(calls)
    newest, hung = runs_of(hang_api, session)  # newest first
    assert hung["status"] == "failed" and hung["stopped_at"]
    assert hung["failure"]["code"] == "call_timed_out"
    assert f"within {CALL_TIMEOUT_S} s (DOCKYARD_MCP_CALL_TIMEOUT_S)" in hung["failure"]["message"]
    assert any("not answering the call to wait" in line for line in hung["failure"]["last_stderr_lines"])
    assert newest["status"] == "active" and newest["id"] != hung["id"]
