"""A container image as an MCP server over stdio, through the container engine (Docker Engine API):
the container is created with stdin open, attached before it starts, and its multiplexed stdout/stderr
are split: stdout lines are JSON-RPC messages for the SDK's ClientSession, stderr lines go to `sink`.
The container is removed when the connection ends."""

import contextlib
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
from mcp.shared.message import SessionMessage

from dockyard.domain.mcp_config import LaunchInputs
from dockyard.hosting.launch_failures import LaunchFailed, StderrSink, describe

log = logging.getLogger("dockyard.mcp.container")
STDOUT, STDERR = 1, 2


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = sock.recv(left)
        if not chunk:
            return b""
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _ensure_image(client: Any, source: dict[str, Any]) -> None:
    from docker.errors import ImageNotFound

    image = source["image_ref"]
    try:
        client.images.get(image)
        return
    except ImageNotFound:
        pass
    auth = (
        {"username": source["username"], "password": source.get("password", "")}
        if source.get("username")
        else None
    )
    try:
        client.images.pull(image, auth_config=auth)
    except Exception as exc:
        raise LaunchFailed(
            f"the image {image} does not exist here and could not be pulled ({describe(exc)})"
        ) from None


def _remove(client: Any, container_id: str) -> None:
    """Force-remove; the engine may refuse while the container is still exiting (stdin just closed)."""
    import time

    from docker.errors import APIError, NotFound

    for attempt in range(10):
        try:
            client.api.remove_container(container_id, force=True)
            return
        except NotFound:
            return
        except APIError:
            if attempt == 9:
                log.warning("could not remove MCP container %s", container_id[:12])
                return
            time.sleep(0.2)


@asynccontextmanager
async def container_stdio(
    source: dict[str, Any], inputs: LaunchInputs, sink: StderrSink, data_dir: Path | None
) -> AsyncIterator[tuple[Any, Any]]:
    from dockyard.runtimes.engine import EngineUnavailable, connect, managed_labels

    try:
        client = await anyio.to_thread.run_sync(connect)
    except EngineUnavailable as exc:
        raise LaunchFailed(str(exc)) from None
    await anyio.to_thread.run_sync(_ensure_image, client, source)
    command = [*(source.get("command") or []), *inputs.args] or None

    def create() -> str:
        return client.api.create_container(
            source["image_ref"],
            command=command,
            environment={**source.get("env", {}), **inputs.env},
            stdin_open=True,
            tty=False,
            labels={**managed_labels(data_dir), "dockyard.mcp-run": "1"},
        )["Id"]

    container_id = await anyio.to_thread.run_sync(create)
    try:
        attached = await anyio.to_thread.run_sync(
            lambda: client.api.attach_socket(
                container_id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
            )
        )
        sock: socket.socket = getattr(attached, "_sock", attached)
        await anyio.to_thread.run_sync(client.api.start, container_id)
        async with _streams(sock, sink) as streams:
            yield streams
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(_remove, client, container_id)


@asynccontextmanager
async def _streams(sock: socket.socket, sink: StderrSink) -> AsyncIterator[tuple[Any, Any]]:
    read_send, read_recv = anyio.create_memory_object_stream[SessionMessage | Exception](16)
    write_send, write_recv = anyio.create_memory_object_stream[SessionMessage](16)

    def pump() -> None:
        pending = {STDOUT: b"", STDERR: b""}
        while True:
            header = _recv_exact(sock, 8)
            if not header:
                break
            kind, size = header[0], int.from_bytes(header[4:8], "big")
            pending[kind if kind in pending else STDERR] += _recv_exact(sock, size)
            for stream in (STDOUT, STDERR):
                *lines, pending[stream] = pending[stream].split(b"\n")
                for line in lines:
                    text = line.decode(errors="replace")
                    if stream == STDERR:
                        sink(text)
                    elif text.strip():
                        try:
                            message: Any = SessionMessage(
                                types.jsonrpc_message_adapter.validate_json(text, by_name=False)
                            )
                        except ValueError as exc:
                            message = exc
                        anyio.from_thread.run(read_send.send, message)

    async def reader() -> None:
        with contextlib.suppress(Exception):
            await anyio.to_thread.run_sync(pump, abandon_on_cancel=True)
        await read_send.aclose()

    async def writer() -> None:
        async with write_recv:
            async for item in write_recv:
                data = item.message.model_dump_json(by_alias=True, exclude_unset=True) + "\n"
                await anyio.to_thread.run_sync(sock.sendall, data.encode())

    async with anyio.create_task_group() as tg:
        tg.start_soon(reader)
        tg.start_soon(writer)
        try:
            yield read_recv, write_send
        finally:
            await write_send.aclose()
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            tg.cancel_scope.cancel()
