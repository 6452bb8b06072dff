"""The MCP gateway at /mcp/<session id>, built on the official SDK.

Each Dockyard session gets its own low-level MCP `Server` (capabilities from what discovery found) and
a StreamableHTTPSessionManager for streamable HTTP, plus an SSE transport for older clients at
/mcp/<session id>/sse. The client secret (`Authorization: Bearer`; `?key=` only when
DOCKYARD_MCP_ALLOW_QUERY_KEY is set, since URLs end up in logs) is checked against the store on every
request (401 when wrong, closed or expired). A connection left open ends when its session does: at
once when it is closed here, at its expiry time, and within STREAM_RECHECK_S when it is closed by
another control plane replica or its expiry is moved. tools/list, prompts/list and resources/list
are answered from discovery with the tool filter applied and names namespaced when a session combines
several servers; tools/call, prompts/get and resources/read go to the member's server run (booted on
first need, see runs.py).
"""

import asyncio
import contextlib
import json
import logging
import time
from typing import Any
from urllib.parse import parse_qs

import anyio
import mcp_types as types
from anyio.abc import TaskGroup, TaskStatus
from mcp.server.lowlevel import Server
from mcp.server.sse import SseServerTransport
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS
from sqlalchemy import update
from starlette._utils import get_route_path

from dockyard.hosting import session_spec
from dockyard.hosting.runs import RunSlot
from dockyard.hosting.session_spec import Member, SessionSpec
from dockyard.hosting.usage import UsageCounter
from dockyard.operations.context import utc_now
from dockyard.services import Services
from dockyard.store.mcp_tables import McpServerSession

log = logging.getLogger("dockyard.mcp.gateway")
STREAM_RECHECK_S = 1.0  # how often the sessions being served are checked in the store
SPEC_TTL_S = 2.0  # changes to a session's deployments (tool filter, current version) show within this
SEP = "__"


async def _json(send: Any, status: int, body: dict[str, Any], headers: list | None = None) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
            + (headers or []),
        }
    )
    await send({"type": "http.response.body", "body": data})


def _secret(scope: dict[str, Any], allow_query: bool) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer":
                return token.strip()
    if not allow_query:
        return None
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return (query.get("key") or [None])[0]


async def _unauthorized(send: Any, allow_query: bool) -> None:
    await _json(
        send,
        401,
        {
            "ok": False,
            "status": 401,
            "code": "unauthorized",
            "message": "Missing, wrong or expired client secret, or a closed session.",
            "hint": "Send the session's client secret as `Authorization: Bearer <secret>`"
            + (" (or ?key=<secret>)." if allow_query else "."),
        },
        [(b"www-authenticate", b"Bearer")],
    )


class SessionHost:
    """One Dockyard session served over MCP."""

    def __init__(self, gateway: "Gateway", spec: SessionSpec) -> None:
        self.gateway, self.spec = gateway, spec
        self.loaded_at = time.monotonic()
        self.slots = {
            m.server_session_id: RunSlot(gateway.svc, gateway.tasks, gateway.usage, m) for m in spec.members
        }
        self.server = self._server()
        self.server.middleware.append(self._observe)
        self.manager = StreamableHTTPSessionManager(self.server, json_response=True)
        self.sse = SseServerTransport(f"/{spec.session_id}/messages/")  # under the /mcp mount
        self.open: set[anyio.CancelScope] = set()  # the requests being served, long-lived streams too
        self._running = anyio.CancelScope()

    def refresh(self, spec: SessionSpec) -> None:
        """Newer deployment settings: filters apply at once, a new version from the next boot on."""
        self.spec, self.loaded_at = spec, time.monotonic()
        for member in spec.members:
            slot = self.slots.get(member.server_session_id)
            if slot is not None:
                slot.member = member

    # --- the MCP server ----------------------------------------------------------------------------

    def _server(self) -> Server:
        found = [m.discovery for m in self.spec.members]
        caps = [f.get("capabilities", {}) for f in found]
        handlers: dict[str, Any] = {}
        if any("tools" in c for c in caps):
            handlers |= {"on_list_tools": self._list_tools, "on_call_tool": self._call_tool}
        if any("prompts" in c for c in caps):
            handlers |= {"on_list_prompts": self._list_prompts, "on_get_prompt": self._get_prompt}
        if any("resources" in c for c in caps):
            handlers |= {"on_list_resources": self._list_resources, "on_read_resource": self._read_resource}
        if len(found) == 1:
            info = found[0].get("server_info", {})
            name, version, instructions = (
                info.get("name", "mcp"),
                info.get("version", ""),
                found[0].get("instructions"),
            )
        else:
            name, version, instructions = "dockyard-session", "1.0", None
        return Server(name, version=version, instructions=instructions, **handlers)

    def _items(self, kind: str) -> list[tuple[Member, dict[str, Any]]]:
        return [(m, item) for m in self.spec.members for item in m.discovery.get(kind, [])]

    def _resolve(self, exposed: str) -> tuple[Member, str] | None:
        for m in self.spec.members:
            if m.namespace is None:
                return m, exposed
            prefix = m.namespace + SEP
            if exposed.startswith(prefix):
                return m, exposed[len(prefix) :]
        return None

    def _count_each(self) -> None:
        for m in self.spec.members:
            self.gateway.usage.add("server_session", m.server_session_id)

    async def _list_tools(self, _ctx: Any, _params: Any) -> types.ListToolsResult:
        self._count_each()
        tools = [
            types.Tool.model_validate({**tool, "name": m.exposed(tool["name"])})
            for m, tool in self._items("tools")
            if m.tool_filter.allows(tool["name"])
        ]
        return types.ListToolsResult(tools=tools)

    async def _call_tool(self, _ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        target = self._resolve(params.name)
        known = target and any(t["name"] == target[1] for t in target[0].discovery.get("tools", []))
        if not target or not known:
            raise MCPError(INVALID_PARAMS, f"Unknown tool: {params.name}")
        member, name = target
        if not member.tool_filter.allows(name):
            self.gateway.usage.add("server_session", member.server_session_id, refused=1)
            log.warning("session %s: tool %s refused by the tool filter", self.spec.session_id, params.name)
            raise MCPError(
                INVALID_PARAMS, f"Tool {params.name} is not allowed by this deployment's tool filter"
            )
        self.gateway.usage.add("server_session", member.server_session_id)
        return await self.slots[member.server_session_id].call(lambda c: c.call_tool(name, params.arguments))

    async def _list_prompts(self, _ctx: Any, _params: Any) -> types.ListPromptsResult:
        self._count_each()
        prompts = [
            types.Prompt.model_validate({**p, "name": m.exposed(p["name"])})
            for m, p in self._items("prompts")
        ]
        return types.ListPromptsResult(prompts=prompts)

    async def _get_prompt(self, _ctx: Any, params: types.GetPromptRequestParams) -> types.GetPromptResult:
        target = self._resolve(params.name)
        if not target:
            raise MCPError(INVALID_PARAMS, f"Unknown prompt: {params.name}")
        member, name = target
        self.gateway.usage.add("server_session", member.server_session_id)
        return await self.slots[member.server_session_id].call(lambda c: c.get_prompt(name, params.arguments))

    async def _list_resources(self, _ctx: Any, _params: Any) -> types.ListResourcesResult:
        self._count_each()
        return types.ListResourcesResult(
            resources=[types.Resource.model_validate(r) for _, r in self._items("resources")]
        )

    async def _read_resource(
        self, _ctx: Any, params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        uri = str(params.uri)
        member = next((m for m, r in self._items("resources") if r.get("uri") == uri), self.spec.members[0])
        self.gateway.usage.add("server_session", member.server_session_id)
        return await self.slots[member.server_session_id].call(lambda c: c.read_resource(uri))

    async def _observe(self, ctx: Any, call_next: Any) -> Any:
        """Counts productive messages (requests and their answers; pings excluded) and records the
        client's info at initialize."""
        if ctx.method == "initialize" and ctx.params:
            await anyio.to_thread.run_sync(self._record_client, dict(ctx.params), self._connection_type(ctx))
        try:
            return await call_next(ctx)
        finally:  # an error answer is a message too
            if ctx.request_id is not None and ctx.method != "ping":
                self.gateway.usage.add("session", self.spec.session_id)

    @staticmethod
    def _connection_type(ctx: Any) -> str:
        path = str(getattr(getattr(ctx, "request", None), "url", ""))
        return "sse" if "/messages" in path or path.endswith("/sse") else "streamable_http"

    def _record_client(self, params: dict[str, Any], connection_type: str) -> None:
        client = params.get("clientInfo") or {}
        with self.gateway.svc.db.session() as s:
            for m in self.spec.members:
                info = m.discovery.get("server_info", {})
                mcp = {
                    "object": "mcp",
                    "version": params.get("protocolVersion"),
                    "connection_type": connection_type,
                    "client": {
                        "object": "session.server_session.client",
                        "name": client.get("name"),
                        "version": client.get("version"),
                        "capabilities": params.get("capabilities") or {},
                    },
                    "server": {
                        "object": "session.server_session.server",
                        "name": info.get("name"),
                        "version": info.get("version"),
                        "capabilities": m.discovery.get("capabilities", {}),
                    },
                }
                s.execute(
                    update(McpServerSession)
                    .where(McpServerSession.id == m.server_session_id)
                    .values(mcp=mcp, updated_at=utc_now())
                )

    # --- transports ---------------------------------------------------------------------------------

    async def run(self, *, task_status: TaskStatus[None]) -> None:
        with self._running:
            async with self.manager.run():
                task_status.started()
                await anyio.sleep_forever()

    def end(self) -> None:
        """Ends every open request and stream, and the MCP sessions the manager keeps for clients."""
        for scope in list(self.open):
            scope.cancel()
        self._running.cancel()

    async def handle(self, rest: str, scope: Any, receive: Any, send: Any) -> None:
        if rest == "":
            await self.manager.handle_request(scope, receive, send)
        elif rest == "sse" and scope["method"] == "GET":
            async with self.sse.connect_sse(scope, receive, send) as (read, write):
                await self.server.run(read, write, self.server.create_initialization_options())
        elif rest.startswith("messages") and scope["method"] == "POST":
            await self.sse.handle_post_message(scope, receive, send)
        else:
            await _json(
                send,
                404,
                {"ok": False, "status": 404, "code": "not_found", "message": "No such MCP endpoint."},
            )

    async def close(self) -> None:
        for slot in self.slots.values():
            await slot.close()


class Gateway:
    def __init__(self, svc: Services, tasks: TaskGroup) -> None:
        self.svc, self.tasks = svc, tasks
        self.usage = UsageCounter(svc.db)
        self.hosts: dict[str, SessionHost] = {}
        self._lock = anyio.Lock()
        self._loop = asyncio.get_running_loop()
        svc.mcp_session_closed = self.session_closed
        tasks.start_soon(self.usage.flush_forever)
        tasks.start_soon(self._recheck_forever)

    def session_closed(self, session_id: str) -> None:
        """A session was closed (called from any thread, after the change is committed)."""
        with contextlib.suppress(RuntimeError):  # the loop is gone: so are the connections
            self._loop.call_soon_threadsafe(self._end, session_id)

    def _end(self, session_id: str) -> None:
        host = self.hosts.pop(session_id, None)
        if host is not None:
            log.info("session %s closed or expired: ending its connections and runs", session_id)
            host.end()
            self.tasks.start_soon(host.close)

    async def _recheck_forever(self) -> None:
        """Ends the connections and runs of sessions closed elsewhere (another replica) or expired."""
        while True:
            await anyio.sleep(STREAM_RECHECK_S)
            serving = list(self.hosts)
            if not serving:
                continue
            try:
                still = await anyio.to_thread.run_sync(session_spec.open_sessions, self.svc, serving)
            except Exception:  # the store is unreachable for a moment: ask again next time
                log.exception("could not check the sessions being served")
                continue
            for session_id in set(serving) - still:
                self._end(session_id)

    async def _host(self, session_id: str) -> SessionHost:
        async with self._lock:
            host = self.hosts.get(session_id)
            if host is None:
                spec = await anyio.to_thread.run_sync(session_spec.load, self.svc, session_id)
                host = SessionHost(self, spec)
                await self.tasks.start(host.run)
                self.hosts[session_id] = host
            elif time.monotonic() - host.loaded_at > SPEC_TTL_S:  # tool filters or versions may have changed
                host.refresh(await anyio.to_thread.run_sync(session_spec.load, self.svc, session_id))
            return host

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        session_id, _, rest = get_route_path(scope).strip("/").partition("/")
        allow_query = self.svc.settings.mcp_allow_query_key
        secret = _secret(scope, allow_query)
        left = await anyio.to_thread.run_sync(session_spec.check_secret, self.svc, session_id, secret)
        if left is None:
            await _unauthorized(send, allow_query)
            return
        host = await self._host(session_id)
        response = _Response(send)
        with anyio.CancelScope(deadline=anyio.current_time() + left) as request:  # ends at expiry
            host.open.add(request)
            try:
                await host.handle(rest.rstrip("/") if rest != "messages/" else rest, scope, receive, response)
            finally:
                host.open.discard(request)
        if request.cancelled_caught:  # the session ended meanwhile
            with anyio.CancelScope(shield=True):
                await response.end(allow_query)

    async def close(self) -> None:
        for host in list(self.hosts.values()):
            await host.close()
        await anyio.to_thread.run_sync(self.usage.flush)


class _Response:
    """An ASGI `send` that knows how far the response got, so one cut short can still end properly."""

    def __init__(self, send: Any) -> None:
        self.send, self.started, self.finished = send, False, False

    async def __call__(self, message: dict[str, Any]) -> None:
        await self.send(message)
        if message["type"] == "http.response.start":
            self.started = True
        elif message["type"] == "http.response.body" and not message.get("more_body", False):
            self.finished = True

    async def end(self, allow_query: bool) -> None:
        """A 401 when nothing was sent yet; else the end of the body (a stream closes cleanly)."""
        try:
            if not self.started:
                await _unauthorized(self.send, allow_query)
            elif not self.finished:
                await self.send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:  # the client went away first
            pass
