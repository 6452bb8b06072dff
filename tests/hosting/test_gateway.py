"""Acceptance: the mcp-echo example registered as a custom provider version, deployed with its steps,
served through the gateway to the SDK's own client with a tool filter, runs booted and retired."""

from typing import Any

import anyio
import httpx
import pytest
from mcp.shared.exceptions import MCPError
from mcp_helpers import ECHO, ECHO_STDIO, McpApi, mcp_client

from polling import poll

pytestmark = pytest.mark.e2e
IDLE_TIMEOUT_S = "2"  # this module tests idle retirement (see conftest): 2 s after its last call


@pytest.fixture(scope="module")
def echo_version(mcp_api: McpApi) -> dict[str, Any]:
    version = mcp_api.deploy_version(
        ECHO_STDIO,
        config={
            "schema": {
                "type": "object",
                "properties": {"prefix": {"type": "string"}, "token": {"type": "string", "x-secret": True}},
            },
            "transformer": {"env": {"ECHO_PREFIX": "{{config.prefix}}"}},
        },
    )
    assert version["status"] == "deployment_succeeded", version["deployment"]
    return version


def test_the_example_deploys_with_every_step_recorded_and_its_tools_discovered(
    mcp_api: McpApi, echo_version: dict[str, Any]
) -> None:
    deployment = echo_version["deployment"]
    assert deployment["object"] == "custom_provider.deployment"
    assert deployment["status"] == "completed"
    assert [s["type"] for s in deployment["steps"]] == [
        "started",
        "booting",
        "discovering",
        "deploying",
        "deployed",
    ]
    assert all(s["status"] == "completed" and s["started_at"] and s["ended_at"] for s in deployment["steps"])
    assert all(line["timestamp"] for s in deployment["steps"] for line in s["logs"])
    assert any("mcp-echo starting" in line["line"] for line in deployment["steps"][1]["logs"])  # its stderr
    provider = mcp_api.call("GET", f"/providers/{echo_version['provider_id']}")
    assert {t["name"] for t in provider["current_version"]["tools"]} == {"echo", "reverse", "crash", "whoami"}
    assert [p["name"] for p in provider["current_version"]["prompts"]] == ["greet"]
    assert [r["uri"] for r in provider["current_version"]["resources"]] == ["echo://about"]


def test_a_session_lists_and_calls_only_the_allowed_tool_and_runs_are_booted_and_retired(
    mcp_api: McpApi, echo_version: dict[str, Any]
) -> None:
    deployment = mcp_api.call(
        "POST",
        "/provider-deployments",
        201,
        json={
            "name": "Echo only",
            "provider_id": echo_version["provider_id"],
            "tool_filters": {"type": "allow_by_key", "keys": ["echo"]},
            "provider_config": {"config": {"prefix": "> ", "token": "s3cr3t-value"}},
        },
    )
    assert "s3cr3t-value" not in str(deployment)
    session = mcp_api.session_for(deployment["id"])
    url, secret = session["connection_url"], session["client_secret"]["secret"]

    async def first_connection() -> None:
        async with mcp_client(url, secret) as client:
            assert [t.name for t in (await client.list_tools()).tools] == ["echo"]
            result = await client.call_tool("echo", {"text": "hello"})
            assert result.content[0].text == "> hello"  # config → transformer → env of the run
            with pytest.raises(MCPError, match="not allowed"):
                await client.call_tool("reverse", {"text": "hello"})
            await client.send_ping()

    anyio.run(first_connection)
    runs = mcp_api.call("GET", "/server-runs", params={"session_id": session["id"]})["items"]
    assert len(runs) == 1
    run = runs[0]
    assert run["object"] == "server.server_run" and run["type"] == "hosted"
    assert run["server_deployment"]["id"] == deployment["id"]
    assert run["server_session"]["mcp"]["client"]["name"]  # the SDK client introduced itself
    assert run["server_session"]["mcp"]["connection_type"] == "streamable_http"

    def counted() -> dict[str, Any] | None:
        got = mcp_api.call("GET", f"/server-runs/{run['id']}")
        return got if got["usage"]["total_productive_message_count"] >= 2 else None

    counted_run = poll(counted, "the run's usage counts")
    assert counted_run["usage"]["total_productive_client_message_count"] == 1  # one tools/call reached it
    sess = poll(
        lambda: (
            (s := mcp_api.call("GET", f"/sessions/{session['id']}"))["server_sessions"][0][
                "refused_tool_call_count"
            ]
            and s
        ),
        "the refused call counted",
    )
    # initialize, tools/list, two tools/call: 4 requests and 4 answers; the ping is not productive
    assert sess["usage"]["total_productive_client_message_count"] == 4

    completed = poll(
        lambda: (r := mcp_api.call("GET", f"/server-runs/{run['id']}"))["status"] == "completed" and r,
        "the run retired after the idle timeout",
    )
    assert completed["stopped_at"]
    logs = mcp_api.call("GET", f"/server-runs/{run['id']}/logs")["items"]
    assert any("echo called" in item["line"] and item["stream"] == "stderr" for item in logs)

    async def second_connection() -> None:
        async with mcp_client(url, secret) as client:
            result = await client.call_tool("echo", {"text": "again"})
            assert result.content[0].text == "> again"

    anyio.run(second_connection)
    second, first = mcp_api.call("GET", "/server-runs", params={"session_id": session["id"]})["items"]
    assert first["id"] == run["id"] and second["id"] != run["id"]
    assert second["started_at"] >= completed["stopped_at"]  # booted anew, after the first had retired


def test_a_wrong_or_missing_client_secret_is_refused_with_401(
    mcp_api: McpApi, echo_version: dict[str, Any]
) -> None:
    import httpx

    dep = mcp_api.call(
        "POST", "/provider-deployments", 201, json={"provider_id": echo_version["provider_id"]}
    )
    session = mcp_api.session_for(dep["id"])
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        resp = httpx.post(
            session["connection_url"], json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers=headers
        )
        assert resp.status_code == 401
        assert resp.json()["ok"] is False
    mcp_api.call("DELETE", f"/sessions/{session['id']}")
    secret = session["client_secret"]["secret"]
    resp = httpx.post(
        session["connection_url"],
        json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert resp.status_code == 401


def test_older_clients_connect_over_sse(mcp_api: McpApi, echo_version: dict[str, Any]) -> None:
    from mcp import ClientSession
    from mcp.client.sse import sse_client

    dep = mcp_api.call(
        "POST",
        "/provider-deployments",
        201,
        json={
            "provider_id": echo_version["provider_id"],
            "tool_filters": {"type": "deny_by_key", "keys": ["crash"]},
        },
    )
    session = mcp_api.session_for(dep["id"])
    auth = {"Authorization": f"Bearer {session['client_secret']['secret']}"}

    async def use() -> None:
        async with (
            sse_client(session["connection_urls"]["sse"], headers=auth) as (read, write),
            ClientSession(read, write) as client,
        ):
            await client.initialize()
            assert "crash" not in [t.name for t in (await client.list_tools()).tools]
            assert (await client.call_tool("reverse", {"text": "abc"})).content[0].text == "cba"

    anyio.run(use)
    shown = mcp_api.call("GET", f"/sessions/{session['id']}")
    assert shown["server_sessions"][0]["mcp"]["connection_type"] == "sse"

    mcp_api.call(
        "PATCH",
        f"/provider-deployments/{dep['id']}",
        json={"tool_filters": {"type": "allow_by_key", "keys": ["echo"]}},
    )

    async def names() -> list[str]:
        async with mcp_client(session["connection_url"], session["client_secret"]["secret"]) as client:
            return [t.name for t in (await client.list_tools()).tools]

    poll(lambda: anyio.run(names) == ["echo"], "the open session to see the new tool filter")


def test_the_cli_reads_runs_and_sessions(plane: Any, mcp_api: McpApi) -> None:
    import json

    done = plane.cli("mcp", "runs", "list", "--json")
    assert done.returncode == 0, done.stderr
    runs = json.loads(done.stdout)["items"]
    assert runs and all(r["object"] == "server.server_run" for r in runs)
    missing = plane.cli("mcp", "sessions", "show", "ses_01m84psgz8nf81wt2vasycp55g")
    assert missing.returncode == 1 and "mcp_session_not_found" in missing.stderr + missing.stdout


def test_a_session_over_a_custom_server_deployment_serves_that_version_with_all_its_tools(
    mcp_api: McpApi,
) -> None:
    server = mcp_api.call("POST", "/custom-servers", 201, json={"name": "Echo server", "from": ECHO_STDIO})

    def completed() -> str | None:
        items = mcp_api.call("GET", f"/custom-servers/{server['id']}/deployments")["items"]
        return items[0]["id"] if items and items[0]["status"] == "completed" else None

    deployment_id = poll(completed, "the custom server's deployment", 60)
    body = {"custom_server_deployment_ids": [deployment_id]}
    session = mcp_api.call("POST", "/sessions", 201, json=body)

    async def tools() -> list[str]:
        async with mcp_client(session["connection_url"], session["client_secret"]["secret"]) as client:
            assert (await client.call_tool("echo", {"text": "hi"})).content[0].text.endswith("hi")
            return sorted(t.name for t in (await client.list_tools()).tools)

    assert {"echo", "reverse"} <= set(anyio.run(tools))
    again = mcp_api.call("POST", "/sessions", 201, json=body)
    serving = [
        mcp_api.call("GET", f"/sessions/{s['id']}")["server_sessions"][0]["provider_deployment_id"]
        for s in (session, again)
    ]
    assert serving[0] == serving[1]  # one pinned provider deployment, reused
    unknown = mcp_api.http.post("/sessions", json={"custom_server_deployment_ids": ["csd_" + "0" * 26]})
    assert unknown.status_code == 404 and unknown.json()["code"] == "custom_server_deployment_not_found"
    empty = mcp_api.http.post("/sessions", json={})
    assert empty.status_code == 422 and "custom_server_deployment_ids" in empty.text


STREAM_END_DEADLINE_S = 20.0  # a bound on waiting for an open stream to end, far above what it takes
PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}


def _echo_session(mcp_api: McpApi, echo_version: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    dep = mcp_api.call(
        "POST", "/provider-deployments", 201, json={"provider_id": echo_version["provider_id"]}
    )
    session = mcp_api.session_for(dep["id"])
    return session, {"Authorization": f"Bearer {session['client_secret']['secret']}"}


async def _until_it_ends(lines: Any) -> None:
    """Read an open SSE response's lines until the server ends it (cleanly or by closing the connection)."""
    with anyio.fail_after(STREAM_END_DEADLINE_S):
        try:
            async for _ in lines:
                pass
        except httpx.RemoteProtocolError:
            pass


async def _while_open(session: dict[str, Any], auth: dict[str, str], end_it: Any) -> None:
    """With an SDK client that has just used the secret and an SSE stream open, `end_it()` the session:
    the next request with its secret is refused, both open connections are ended."""
    url = session["connection_url"]
    async with httpx.AsyncClient(timeout=30) as http, mcp_client(url, auth["Authorization"][7:]) as client:
        assert (await client.call_tool("echo", {"text": "hi"})).content[0].text == "hi"
        async with http.stream("GET", session["connection_urls"]["sse"], headers=auth) as sse:
            assert sse.status_code == 200
            lines = sse.aiter_lines()
            assert (await anext(lines)).startswith("event: endpoint")
            await anyio.to_thread.run_sync(end_it)
            refused = await http.post(url, json=PING, headers=auth)
            assert refused.status_code == 401, refused.text
            await _until_it_ends(lines)
        with anyio.fail_after(STREAM_END_DEADLINE_S), pytest.raises(Exception):  # noqa: B017
            await client.list_tools()  # the SDK raises what it makes of the 401 (a timeout fails the test)


def test_a_deleted_session_refuses_its_secret_at_once_and_ends_its_open_streams(
    mcp_api: McpApi, echo_version: dict[str, Any]
) -> None:
    session, auth = _echo_session(mcp_api, echo_version)
    anyio.run(_while_open, session, auth, lambda: mcp_api.call("DELETE", f"/sessions/{session['id']}"))
    assert mcp_api.call("GET", f"/sessions/{session['id']}")["status"] == "closed"


def test_an_expired_session_refuses_its_secret_and_ends_its_open_streams(
    plane: Any, mcp_api: McpApi, echo_version: dict[str, Any]
) -> None:
    from sqlalchemy import create_engine, text

    from dockyard.config import sqlite_url

    session, auth = _echo_session(mcp_api, echo_version)
    engine = create_engine(plane.env.get("DOCKYARD_DATABASE_URL") or sqlite_url(plane.data_dir))

    def expire() -> None:  # as if its lifetime (60 s at least) had passed
        with engine.begin() as db:
            db.execute(
                text("UPDATE mcp_sessions SET expires_at = '2000-01-01T00:00:00.000Z' WHERE id = :id"),
                {"id": session["id"]},
            )

    try:
        anyio.run(_while_open, session, auth, expire)
    finally:
        engine.dispose()
    assert mcp_api.call("GET", f"/sessions/{session['id']}")["status"] == "expired"


def test_the_secret_in_the_url_is_refused_unless_enabled(
    mcp_api: McpApi, echo_version: dict[str, Any]
) -> None:
    session, auth = _echo_session(mcp_api, echo_version)
    secret = auth["Authorization"][7:]
    resp = httpx.post(session["connection_url"], params={"key": secret}, json=PING)
    assert resp.status_code == 401 and "Authorization: Bearer" in resp.json()["hint"]
    assert "?key=" not in resp.text, "the hint no longer suggests putting the secret in the URL"


def test_the_secret_in_the_url_is_read_only_when_the_setting_allows_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dockyard.config import Settings
    from dockyard.hosting.gateway import _secret

    scope = {"headers": [], "query_string": b"key=dys_abc"}
    assert _secret(scope, allow_query=False) is None and _secret(scope, allow_query=True) == "dys_abc"
    bearer = {**scope, "headers": [(b"authorization", b"Bearer dys_header")]}
    assert _secret(bearer, allow_query=True) == "dys_header"
    assert not Settings.from_env("/tmp/unused").mcp_allow_query_key
    monkeypatch.setenv("DOCKYARD_MCP_ALLOW_QUERY_KEY", "1")
    assert Settings.from_env("/tmp/unused").mcp_allow_query_key


LEAKY = (
    "import os, runpy, sys; "
    "print('own ' + os.environ['OWN_KEY'] + ' config ' + os.environ.get('ECHO_TOKEN', '-'), file=sys.stderr, "
    "flush=True); sys.argv = [sys.argv[1]]; runpy.run_path(sys.argv[0], run_name='__main__')"
)


def test_a_server_that_prints_its_secrets_shows_them_masked_in_deploy_and_run_logs(mcp_api: McpApi) -> None:
    own, configured = "sk-own-5c1f0e9a7b", "cfg-tok-93d2e1a4"
    version = mcp_api.deploy_version(
        {"type": "stdio", "command": "python", "args": ["-c", LEAKY, str(ECHO)], "env": {"OWN_KEY": own}},
        name="leaky",
        config={
            "schema": {"type": "object", "properties": {"token": {"type": "string", "x-secret": True}}},
            "transformer": {"env": {"ECHO_TOKEN": "{{config.token}}"}},
        },
    )
    assert version["status"] == "deployment_succeeded", version["deployment"]
    said = [line["line"] for step in version["deployment"]["steps"] for line in step["logs"]]
    assert "own **** config -" in said and own not in str(version)
    deployment = mcp_api.call(
        "POST",
        "/provider-deployments",
        201,
        json={"provider_id": version["provider_id"], "provider_config": {"config": {"token": configured}}},
    )
    session = mcp_api.session_for(deployment["id"])

    async def call() -> None:
        async with mcp_client(session["connection_url"], session["client_secret"]["secret"]) as client:
            await client.call_tool("echo", {"text": "hi"})

    anyio.run(call)
    run = mcp_api.call("GET", "/server-runs", params={"session_id": session["id"]})["items"][0]
    logs = mcp_api.call("GET", f"/server-runs/{run['id']}/logs")["items"]
    assert any(item["line"] == "own **** config ****" for item in logs), logs
    assert own not in str(logs) and configured not in str(logs)
