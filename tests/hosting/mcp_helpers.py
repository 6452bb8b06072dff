"""Helpers for MCP hosting tests: the /mcp-api over HTTP, the echo example, an SDK client."""

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from polling import poll

ROOT = Path(__file__).resolve().parents[2]
ECHO = ROOT / "examples" / "mcp-echo" / "server.py"
ECHO_STDIO = {"type": "stdio", "command": "python", "args": [str(ECHO)]}
DEPLOY_DEADLINE_S = 60.0


class McpApi:
    """The /mcp-api of a running control plane, as the admin."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.http = httpx.Client(
            base_url=url + "/mcp-api", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    def call(self, method: str, path: str, status: int = 200, **kw: Any) -> Any:
        resp = self.http.request(method, path, **kw)
        assert resp.status_code == status, f"{method} {path}: {resp.status_code} {resp.text}"
        return resp.json()

    def deploy_version(self, source: dict[str, Any], **extra: Any) -> dict[str, Any]:
        """A custom provider with one version from `source`, polled until its deployment ended."""
        provider = self.call("POST", "/custom-providers", 201, json={"name": extra.pop("name", "echo")})
        version = self.call(
            "POST",
            "/custom-provider-versions",
            201,
            json={"custom_provider_id": provider["id"], "from": source, **extra},
        )

        def ended() -> dict[str, Any] | None:
            got = self.call("GET", f"/custom-provider-versions/{version['id']}")
            return got if got["status"] in ("deployment_succeeded", "deployment_failed") else None

        return poll(ended, "the version's deployment", DEPLOY_DEADLINE_S)

    def session_for(self, *deployment_ids: str) -> dict[str, Any]:
        return self.call("POST", "/sessions", 201, json={"provider_deployment_ids": list(deployment_ids)})


@asynccontextmanager
async def mcp_client(url: str, secret: str) -> AsyncIterator[ClientSession]:
    """An initialized SDK client session over streamable HTTP, sending the client secret."""
    async with (
        create_mcp_http_client(headers={"Authorization": f"Bearer {secret}"}) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
