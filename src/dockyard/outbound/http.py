"""The egress guard for httpx2 clients (the MCP SDK's): each request goes to a checked address of its
URL's host, with the Host header and, over TLS, the SNI name and certificate check kept for the name."""

import ssl
from collections.abc import Callable
from typing import Any

import anyio
import httpx2

from dockyard.domain.egress import EgressPolicy
from dockyard.outbound.guard import DEFAULT_PORTS, checked_addresses


class GuardedTransport(httpx2.AsyncBaseTransport):
    """An httpx2 transport that sends each request to a checked address of its URL's host."""

    def __init__(self, policy: EgressPolicy, verify: ssl.SSLContext | bool = True) -> None:
        self.policy = policy
        # trust_env=False: no proxy from the environment (it would connect instead of us).
        self.inner = httpx2.AsyncHTTPTransport(verify=verify, trust_env=False)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        url = request.url
        host, port = url.host, url.port or DEFAULT_PORTS.get(url.scheme, 80)
        addresses = await anyio.to_thread.run_sync(checked_addresses, self.policy, host, port)
        failure: httpx2.ConnectError | None = None
        for address in addresses:
            request.url = url.copy_with(host=address)  # the Host header was set from the name already
            if url.scheme == "https":
                request.extensions = {**request.extensions, "sni_hostname": host}
            try:
                return await self.inner.handle_async_request(request)
            except httpx2.ConnectError as exc:
                failure = exc
            finally:
                request.url = url
        assert failure is not None
        raise failure

    async def aclose(self) -> None:
        await self.inner.aclose()


def http_client_factory(policy: EgressPolicy) -> Callable[..., httpx2.AsyncClient]:
    """What the MCP SDK's transports take as `httpx_client_factory`: its defaults, through the check."""
    from mcp.shared._httpx_utils import MCP_DEFAULT_SSE_READ_TIMEOUT, MCP_DEFAULT_TIMEOUT

    def make(
        headers: dict[str, str] | None = None,
        timeout: httpx2.Timeout | None = None,
        auth: httpx2.Auth | None = None,
    ) -> httpx2.AsyncClient:
        kwargs: dict[str, Any] = {
            "timeout": timeout or httpx2.Timeout(MCP_DEFAULT_TIMEOUT, read=MCP_DEFAULT_SSE_READ_TIMEOUT),
            "transport": GuardedTransport(policy),
        }
        if headers is not None:
            kwargs["headers"] = headers
        if auth is not None:
            kwargs["auth"] = auth
        return httpx2.AsyncClient(**kwargs)

    return make
