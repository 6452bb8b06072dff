"""The MCP gateway's place in the HTTP app: mounted at /mcp, but the `mcp` SDK and the gateway load
only when the first MCP client connects (an idle `dockyard serve` does not carry them in memory)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from anyio.abc import TaskGroup

from dockyard.services import Services


class LazyGateway:
    """An ASGI app that builds `dockyard.hosting.gateway.Gateway` on first use.

    `lifespan` keeps a task group for the app's lifetime: the gateway's long-lived tasks (server
    runs, per-session MCP session managers) run in it, and leaving it stops every run.
    """

    def __init__(self, services: Services) -> None:
        self.services = services
        self._gateway: Any = None
        self._tasks: TaskGroup | None = None
        self._lock = anyio.Lock()

    @asynccontextmanager
    async def lifespan(self, _app: Any) -> AsyncIterator[None]:
        async with anyio.create_task_group() as tasks:
            self._tasks = tasks
            try:
                yield
            finally:
                if self._gateway is not None:
                    with anyio.CancelScope(shield=True):
                        await self._gateway.close()
                tasks.cancel_scope.cancel()
                self._tasks = None

    async def _get(self) -> Any:
        async with self._lock:
            if self._gateway is None:
                from dockyard.hosting.gateway import Gateway

                if self._tasks is None:
                    raise RuntimeError("the MCP gateway needs the app's lifespan (run under uvicorn)")
                self._gateway = Gateway(self.services, self._tasks)
            return self._gateway

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        gateway = await self._get()
        await gateway(scope, receive, send)
