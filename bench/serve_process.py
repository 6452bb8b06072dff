"""A real `dockyard serve` on a free loopback port in a temp data dir, for the benchmarks."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

START_DEADLINE_S = 60.0
STOP_DEADLINE_S = 15.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> dict[str, float]:
    """VmRSS (now), VmHWM (peak) and RssAnon (private heap, without mapped files) of a process, in MB."""
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon"):
            out[key] = int(value.split()[0]) / 1024
    return out


@dataclass
class RunningServer:
    data_dir: Path
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-20:])


def start_server(data_dir: Path, extra_env: dict[str, str] | None = None) -> RunningServer:
    exe = Path(sys.executable).parent / "dockyard"
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("DOCKYARD_")}, **(extra_env or {})}
    log_path = data_dir.parent / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    server = RunningServer(data_dir, port, proc, log_path)
    deadline = time.monotonic() + START_DEADLINE_S
    with httpx.Client(base_url=server.base_url, timeout=2.0, trust_env=False) as client:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"dockyard serve exited with {proc.returncode}:\n{server.log_tail()}")
            try:
                if client.get("/api/health").status_code == 200:
                    return server
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                stop_server(server)
                raise RuntimeError(f"dockyard serve did not answer within {START_DEADLINE_S:.0f} s")
            time.sleep(0.1)


def stop_server(server: RunningServer) -> None:
    if server.proc.poll() is None:
        server.proc.send_signal(signal.SIGINT)  # uvicorn shuts down cleanly on SIGINT
        try:
            server.proc.wait(STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait(STOP_DEADLINE_S)


def commit() -> str:
    """The checked-out commit, for the record (read only)."""
    try:
        out = subprocess.run(
            ["git", "-C", str(Path(__file__).parent), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.stdout.strip() or "unknown"


def cli_env(root: Path, server: RunningServer) -> dict[str, str]:
    """The environment a `dockyard` CLI call needs to talk to `server` (config kept under root)."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("DOCKYARD_")},  # this server only
        "DOCKYARD_URL": server.base_url,
        "DOCKYARD_TOKEN": (server.data_dir / "admin.token").read_text().strip(),
        "XDG_CONFIG_HOME": str(root / "config"),
    }


def nginx_edge(api: httpx.Client) -> int:
    """Give the server's local machine an nginx edge on free ports and start it; its HTTP port.
    `api`: a client on the server's /api with the admin token."""
    edge_port = free_port()
    local = next(s["id"] for s in api.get("/servers").json()["items"] if s["providerKey"] == "local")
    api.post(
        f"/servers/{local}/edge-proxy/configuration",
        json={"proxyKind": "nginx", "httpPort": edge_port, "httpsPort": free_port()},
    ).raise_for_status()
    api.post(f"/servers/{local}/edge-proxy/bootstrap", json={}).raise_for_status()
    return edge_port
