"""MCP gateway overhead (issue 8): a warm `tools/call` round trip straight to the mcp-echo example vs the
same call through Dockyard's gateway, and the cold start (the first call of a session boots the run).

Direct is the SDK client talking to the server on its own transport (stdio, the example's transport;
streamable HTTP to `server.py --http` is printed for reference). Through the gateway is the SDK client
on streamable HTTP to /mcp/<session>, the gateway bridging to a warm stdio run. Targets: ratio <= 1.3,
cold start <= 1 s.

    .venv/bin/python bench/mcp_gateway.py            # = --calls 300 --cold 5
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from serve_process import free_port, start_server, stop_server

ECHO = Path(__file__).resolve().parents[1] / "examples" / "mcp-echo" / "server.py"
RATIO_TARGET, COLD_TARGET_S = 1.3, 1.0
IDLE_TIMEOUT_S = 1.0


async def timed_calls(client: ClientSession, calls: int, warmup: int = 30) -> float:
    """Median seconds of one tools/call echo round trip."""
    for _ in range(warmup):
        await client.call_tool("echo", {"text": "warm"})
    samples = []
    for i in range(calls):
        start = time.perf_counter()
        await client.call_tool("echo", {"text": f"call {i}"})
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


async def direct_stdio(calls: int) -> float:
    params = StdioServerParameters(command=sys.executable, args=[str(ECHO)])
    async with stdio_client(params, errlog=open("/dev/null", "w")) as (r, w), ClientSession(r, w) as client:
        await client.initialize()
        return await timed_calls(client, calls)


async def over_http(url: str, headers: dict[str, str], use: Callable[[ClientSession], Awaitable[Any]]) -> Any:
    async with (
        create_mcp_http_client(headers=headers) as http,
        streamable_http_client(url, http_client=http) as (r, w),
        ClientSession(r, w) as client,
    ):
        await client.initialize()
        return await use(client)


def direct_http(calls: int) -> float:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(ECHO), "--http", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        return anyio.run(over_http, url, {}, lambda c: timed_calls(c, calls))
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def api(base: str, token: str, method: str, path: str, **kw: Any) -> Any:
    resp = httpx.request(
        method, base + "/mcp-api" + path, headers={"Authorization": f"Bearer {token}"}, timeout=30, **kw
    )
    resp.raise_for_status()
    return resp.json()


def wait_for(check: Callable[[], Any], what: str, deadline_s: float = 60) -> Any:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        got = check()
        if got:
            return got
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def through_gateway(calls: int, cold_runs: int) -> tuple[float, list[float]]:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        server = start_server(data, {"DOCKYARD_MCP_IDLE_TIMEOUT_S": str(IDLE_TIMEOUT_S)})
        try:
            base, token = server.base_url, (data / "admin.token").read_text().strip()
            custom = api(base, token, "POST", "/custom-providers", json={"name": "echo"})
            version = api(
                base,
                token,
                "POST",
                "/custom-provider-versions",
                json={
                    "custom_provider_id": custom["id"],
                    "from": {"type": "stdio", "command": "python", "args": [str(ECHO)]},
                },
            )
            done = wait_for(
                lambda: (
                    (v := api(base, token, "GET", f"/custom-provider-versions/{version['id']}"))["status"]
                    == "deployment_succeeded"
                    and v
                ),
                "the deployment",
            )
            dep = api(base, token, "POST", "/provider-deployments", json={"provider_id": done["provider_id"]})
            session = api(base, token, "POST", "/sessions", json={"provider_deployment_ids": [dep["id"]]})
            url = session["connection_url"].replace("http://127.0.0.1:8420", base)
            headers = {"Authorization": f"Bearer {session['client_secret']['secret']}"}
            warm = anyio.run(over_http, url, headers, lambda c: timed_calls(c, calls))

            def no_active_run() -> bool:
                runs = api(base, token, "GET", "/server-runs", params={"session_id": session["id"]})["items"]
                return all(r["status"] != "active" for r in runs)

            async def first_call(client: ClientSession) -> float:
                start = time.perf_counter()
                await client.call_tool("echo", {"text": "cold"})
                return time.perf_counter() - start

            colds = []
            for _ in range(cold_runs):
                wait_for(no_active_run, "the run to retire after the idle timeout")
                colds.append(anyio.run(over_http, url, headers, first_call))
            return warm, colds
        finally:
            stop_server(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--cold", type=int, default=5)
    args = parser.parse_args()
    stdio_s = anyio.run(direct_stdio, args.calls)
    http_s = direct_http(args.calls)
    gateway_s, colds = through_gateway(args.calls, args.cold)
    ratio = gateway_s / stdio_s
    cold = statistics.median(colds)
    print(f"warm tools/call, median of {args.calls}:")
    print(f"  direct, stdio (the example's transport)   {stdio_s * 1000:7.3f} ms")
    print(f"  direct, streamable HTTP (reference)       {http_s * 1000:7.3f} ms")
    print(f"  through the gateway (HTTP -> stdio run)   {gateway_s * 1000:7.3f} ms")

    def verdict(value: float, target: float) -> str:
        return f"target <= {target}  {'PASS' if value <= target else 'MISS'}"

    print(f"  ratio gateway / direct stdio  {ratio:.2f}  {verdict(ratio, RATIO_TARGET)}")
    same = gateway_s / http_s
    print(f"  ratio gateway / direct HTTP   {same:.2f}  {verdict(same, RATIO_TARGET)}")
    runs = ", ".join(f"{c:.3f}" for c in colds)
    print(f"cold start (first call boots the run), median of {len(colds)}: {cold:.3f} s ({runs})")
    print(f"  {verdict(cold, COLD_TARGET_S)}")


if __name__ == "__main__":
    main()
