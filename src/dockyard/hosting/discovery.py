"""Discovery: start (or reach) a server, initialize, and read its tools, prompts and resources."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio

from dockyard.domain.egress import EgressPolicy
from dockyard.domain.mcp_config import LaunchInputs
from dockyard.hosting.launch import connect
from dockyard.hosting.launch_failures import LaunchFailed, StderrSink, no_answer

DISCOVERY_TIMEOUT_S = 60.0


def _dump(items: list[Any]) -> list[dict[str, Any]]:
    return [i.model_dump(mode="json", by_alias=True, exclude_none=True) for i in items]


async def discover(
    source: dict[str, Any],
    inputs: LaunchInputs | None = None,
    *,
    stderr: StderrSink = lambda _line: None,
    data_dir: Path | None = None,
    connected: Callable[[str], None] = lambda _summary: None,
    timeout_s: float = DISCOVERY_TIMEOUT_S,
    egress: EgressPolicy | None = None,
) -> dict[str, Any]:
    """What the server says about itself: server info, capabilities, protocol version, and its tools,
    prompts and resources (each list read only when the capability is there). `connected` hears of
    the initialized connection before the lists are read. A server that has not answered all of it
    within `timeout_s` fails with LaunchFailed naming what it did not answer."""
    waiting = ["initialize"]
    try:
        with anyio.fail_after(timeout_s):
            async with connect(source, inputs, stderr=stderr, data_dir=data_dir, egress=egress) as (
                session,
                init,
            ):
                info, protocol = init.server_info, init.protocol_version
                connected(f"{info.name} {info.version} answered initialize (protocol {protocol})")
                caps = init.capabilities
                waiting[0] = "tools/list"
                tools = (await session.list_tools()).tools if caps.tools else []
                waiting[0] = "prompts/list"
                prompts = (await session.list_prompts()).prompts if caps.prompts else []
                waiting[0] = "resources/list"
                resources = (await session.list_resources()).resources if caps.resources else []
    except TimeoutError:
        raise LaunchFailed(no_answer(waiting[0], timeout_s, "DOCKYARD_MCP_DISCOVERY_TIMEOUT_S")) from None
    return {
        "protocol_version": init.protocol_version,
        "server_info": init.server_info.model_dump(mode="json", by_alias=True, exclude_none=True),
        "capabilities": caps.model_dump(mode="json", by_alias=True, exclude_none=True),
        "instructions": init.instructions,
        "tools": _dump(tools),
        "prompts": _dump(prompts),
        "resources": _dump(resources),
    }
