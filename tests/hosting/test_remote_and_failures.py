"""Acceptance: a remote MCP server (another local process speaking streamable HTTP) proxied with
configured headers; and the bad inputs of the issue: a config that fails the schema, a URL that does not
speak MCP, a server that crashes during a call."""

import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anyio
import httpx
import pytest
from mcp.shared.exceptions import MCPError
from mcp_helpers import ECHO, ECHO_STDIO, McpApi, free_port, mcp_client

from polling import poll

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def remote_echo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("remote") / "echo.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(ECHO), "--http", str(port)], stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        poll(lambda: echo_answers(url, proc), "the remote echo server")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def echo_answers(url: str, proc: subprocess.Popen) -> bool:
    """Our echo process answers initialize at `url` as mcp-echo (not just anything on the port)."""
    assert proc.poll() is None, "the remote echo server exited"
    hello = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        },
    }
    answer = httpx.post(url, json=hello, headers={"Accept": "application/json, text/event-stream"}, timeout=2)
    return answer.status_code == 200 and '"name":"mcp-echo"' in answer.text.replace(" ", "")


def test_a_remote_server_is_proxied_with_its_configured_headers(mcp_api: McpApi, remote_echo: str) -> None:
    version = mcp_api.deploy_version(
        {"type": "remote_mcp_server", "url": remote_echo, "headers": {"X-Echo-Auth": "static"}},
        name="remote echo",
        config={
            "schema": {"type": "object", "required": ["token"], "properties": {"token": {"type": "string"}}},
            "transformer": {"headers": {"X-Echo-Auth": "{{config.token}}"}},
        },
    )
    assert version["status"] == "deployment_succeeded", version["deployment"]
    assert [s["type"] for s in version["deployment"]["steps"]][:2] == [
        "started",
        "remote_server_connection_test",
    ]
    assert (
        version["remote_mcp_server"]["url"] == remote_echo and "headers" not in version["remote_mcp_server"]
    )

    refused = mcp_api.http.post(
        "/provider-deployments",
        json={"provider_id": version["provider_id"], "provider_config": {"config": {}}},
    )
    assert refused.status_code == 422 and "provider_config.config.token" in refused.json()["message"]
    deployment = mcp_api.call(
        "POST",
        "/provider-deployments",
        201,
        json={
            "provider_id": version["provider_id"],
            "tool_filters": {"type": "allow_by_regex", "patterns": ["who.*"]},
            "provider_config": {"config": {"token": "from-config"}},
        },
    )
    session = mcp_api.session_for(deployment["id"])

    async def use() -> None:
        async with mcp_client(session["connection_url"], session["client_secret"]["secret"]) as client:
            assert [t.name for t in (await client.list_tools()).tools] == ["whoami"]
            result = await client.call_tool("whoami", {})
            assert result.content[0].text == "from-config"
            with pytest.raises(MCPError, match="not allowed"):
                await client.call_tool("echo", {"text": "x"})

    anyio.run(use)
    (run,) = mcp_api.call("GET", "/server-runs", params={"session_id": session["id"]})["items"]
    assert run["type"] == "external" and run["status"] == "active"


@pytest.fixture
def plain_http() -> Iterator[str]:
    """A loopback HTTP server that answers every request with a plain 200: not MCP."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        do_POST = do_GET

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/health"
    httpd.shutdown()
    httpd.server_close()


def test_a_url_that_does_not_speak_mcp_fails_the_connection_test(mcp_api: McpApi, plain_http: str) -> None:
    version = mcp_api.deploy_version({"type": "remote_mcp_server", "url": plain_http}, name="not mcp")
    assert version["status"] == "deployment_failed"
    step = version["deployment"]["steps"][-1]
    assert step["type"] == "remote_server_connection_test" and step["status"] == "failed"
    assert "does not speak MCP" in step["logs"][-1]["line"]


def test_a_remote_url_on_the_control_plane_itself_is_refused_by_the_egress_policy(mcp_api: McpApi) -> None:
    """Before: the gateway called its own API from its own network position (an SSRF)."""
    version = mcp_api.deploy_version({"type": "remote_mcp_server", "url": mcp_api.url + "/mcp"}, name="self")
    assert version["status"] == "deployment_failed"
    error = version["deployment"]["error"]
    assert error["code"] == "egress_denied", error
    assert "control plane's own API" in error["message"]
    step = version["deployment"]["steps"][-1]
    assert step["type"] == "remote_server_connection_test" and step["status"] == "failed"


def test_a_failing_stdio_command_fails_its_deployment_with_the_reason(mcp_api: McpApi) -> None:
    version = mcp_api.deploy_version(
        {"type": "stdio", "command": "python", "args": ["-c", "import sys; sys.exit('no')"]}
    )
    assert version["status"] == "deployment_failed"
    step = version["deployment"]["steps"][-1]
    assert step["type"] == "booting" and step["status"] == "failed"
    assert [line["line"] for line in step["logs"] if line["type"] == "stderr"] == ["no"]  # what it said
    assert "Connection closed" in version["deployment"]["error"]["message"]  # it exited: no answer


def test_a_server_crashing_during_a_call_gives_a_jsonrpc_error_and_a_failed_run(mcp_api: McpApi) -> None:
    version = mcp_api.deploy_version(ECHO_STDIO, name="crashy")
    deployment = mcp_api.call(
        "POST", "/provider-deployments", 201, json={"provider_id": version["provider_id"]}
    )
    session = mcp_api.session_for(deployment["id"])

    async def crash_then_recover() -> None:
        async with mcp_client(session["connection_url"], session["client_secret"]["secret"]) as client:
            with pytest.raises(MCPError, match="crashing because asked to"):
                await client.call_tool("crash", {})
            again = await client.call_tool("echo", {"text": "back"})
            assert again.content[0].text == "back"

    anyio.run(crash_then_recover)
    runs = mcp_api.call("GET", "/server-runs", params={"session_id": session["id"]})["items"]
    failed: dict[str, Any] = runs[-1]
    assert failed["status"] == "failed" and failed["stopped_at"]
    assert any("crashing because" in line for line in failed["failure"]["last_stderr_lines"])
    assert runs[0]["status"] == "active"  # the next call booted a new run
