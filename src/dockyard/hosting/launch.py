"""Connecting to an MCP server with the SDK's client: a stdio command as a host process, a container
image through the container engine (stdio over the engine's attach stream), or a remote URL
(streamable HTTP or SSE) with configured headers, every request of which goes through the egress
policy (dockyard.outbound). `connect` yields an initialized ClientSession."""

import os
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any, TextIO

import anyio
import mcp_types as types
from mcp import ClientSession, StdioServerParameters, stdio_client

from dockyard.domain.egress import EgressPolicy
from dockyard.domain.mcp_config import LaunchInputs
from dockyard.hosting.container_stdio import container_stdio
from dockyard.hosting.launch_failures import LaunchFailed, StderrSink, describe
from dockyard.outbound.guard import EgressDenied

CLIENT_INFO = types.Implementation(name="dockyard-gateway", version="1.0")


def _stdio_params(
    source: dict[str, Any], inputs: LaunchInputs, workdir: Path | None
) -> StdioServerParameters:
    command = source["command"]
    if command in ("python", "python3"):  # the interpreter Dockyard runs on (has the `mcp` SDK)
        command = sys.executable
    return StdioServerParameters(
        command=command,
        args=[*source.get("args", []), *inputs.args],
        env={**source.get("env", {}), **inputs.env},
        cwd=source.get("cwd") or (str(workdir) if workdir else None),
    )


class _PipeErrlog:
    """A pipe whose write end is the child's stderr; a thread hands each line to `sink`."""

    def __init__(self, sink: StderrSink) -> None:
        import threading

        read_fd, write_fd = os.pipe()
        self.writer: TextIO = os.fdopen(write_fd, "w")
        self._reader = os.fdopen(read_fd, "r", errors="replace")
        self._sink = sink
        threading.Thread(target=self._pump, name="mcp-stderr", daemon=True).start()

    def _pump(self) -> None:
        for line in self._reader:
            self._sink(line.rstrip("\n"))
        self._reader.close()

    def spawned(self) -> None:
        """The child holds its own copy of the write end now; ours would keep EOF from coming."""
        self.writer.close()


@asynccontextmanager
async def _stdio(
    source: dict[str, Any], inputs: LaunchInputs, sink: StderrSink, workdir: Path | None
) -> AsyncIterator[tuple[Any, Any]]:
    errlog = _PipeErrlog(sink)
    try:
        async with stdio_client(_stdio_params(source, inputs, workdir), errlog=errlog.writer) as streams:
            errlog.spawned()
            yield streams
    finally:
        if not errlog.writer.closed:
            errlog.writer.close()


@asynccontextmanager
async def _remote(
    source: dict[str, Any], inputs: LaunchInputs, egress: EgressPolicy
) -> AsyncIterator[tuple[Any, Any]]:
    from urllib.parse import urlsplit

    from dockyard.outbound.guard import DEFAULT_PORTS, checked_addresses
    from dockyard.outbound.http import http_client_factory

    url = urlsplit(source["url"])
    # Checked once up front for a clear EgressDenied (the SDK's task groups would bury one raised in a
    # request); the client's transport checks every request again, redirects included.
    port = url.port or DEFAULT_PORTS.get(url.scheme, 80)
    await anyio.to_thread.run_sync(checked_addresses, egress, url.hostname or "", port)
    headers = {**source.get("headers", {}), **inputs.headers}
    client = http_client_factory(egress)
    if source.get("transport", "streamable_http") == "sse":
        from mcp.client.sse import sse_client

        async with sse_client(source["url"], headers=headers, httpx_client_factory=client) as streams:
            yield streams
        return
    from mcp.client.streamable_http import streamable_http_client

    async with (
        client(headers=headers) as http,
        streamable_http_client(source["url"], http_client=http) as streams,
    ):
        yield streams


@asynccontextmanager
async def connect(
    source: dict[str, Any],
    inputs: LaunchInputs | None = None,
    *,
    stderr: StderrSink = lambda _line: None,
    workdir: Path | None = None,
    data_dir: Path | None = None,
    egress: EgressPolicy | None = None,
) -> AsyncIterator[tuple[ClientSession, types.InitializeResult]]:
    """An initialized client session to the server `source` describes; LaunchFailed when it cannot be
    started, reached or initialized, EgressDenied when a remote URL points where the egress policy
    (required for remote sources) refuses."""
    inputs = inputs or LaunchInputs()
    async with AsyncExitStack() as stack:
        try:
            kind = source["type"]
            if kind == "stdio":
                streams = await stack.enter_async_context(_stdio(source, inputs, stderr, workdir))
            elif kind == "remote":
                if egress is None:
                    raise LaunchFailed("a remote MCP server needs the egress policy to be reached")
                streams = await stack.enter_async_context(_remote(source, inputs, egress))
            elif kind == "container":
                streams = await stack.enter_async_context(container_stdio(source, inputs, stderr, data_dir))
            else:
                raise LaunchFailed(f"unknown server source type {kind!r}")
            session = await stack.enter_async_context(
                ClientSession(streams[0], streams[1], client_info=CLIENT_INFO)
            )
            init = await session.initialize()
        except (LaunchFailed, EgressDenied):
            raise
        except Exception as exc:
            raise LaunchFailed(describe(exc)) from exc
        yield session, init
