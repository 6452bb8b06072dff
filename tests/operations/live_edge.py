"""A resource served for real behind a real nginx edge, for operation tests that must assert what
the edge serves (TLS certificates, redirects) rather than the routes Dockyard means to apply."""

import shutil
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_helpers import created

from dockyard.pipeline.execute import run_deployment
from dockyard.services import Services
from edge_client import presented


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class LiveEdge:
    http_port: int
    https_port: int

    def get(self, host: str, path: str = "/") -> httpx.Response:
        """HTTP through the edge for `host` (redirects are not followed)."""
        return httpx.get(f"http://127.0.0.1:{self.http_port}{path}", headers={"Host": host}, timeout=5)

    def certificate(self, domain: str) -> str | None:
        """The fingerprint of the certificate the edge presents for `domain`, None when it serves no TLS."""
        return presented(self.https_port, domain)


def nginx_or_skip() -> None:
    if not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists():
        pytest.skip("nginx is not installed (as root: make system-deps)")


def serve_behind_edge(api: Any, svc: Services, folder: Path, ids: dict[str, str], page: str) -> LiveEdge:
    """Give the server an nginx edge on free ports and deploy a static `page` as the resource: after
    this the edge routes the resource's hostnames to the running app."""
    nginx_or_skip()
    edge = LiveEdge(free_port(), free_port())
    body = {"proxyKind": "nginx", "httpPort": edge.http_port, "httpsPort": edge.https_port}
    resp = api.post(f"/api/servers/{ids['serverId']}/edge-proxy/configuration", json=body)
    assert resp.status_code == 200, resp.text
    folder.mkdir(parents=True)
    (folder / "index.html").write_text(page)
    source = {"source": {"kind": "local-folder", "locator": str(folder)}}
    assert api.post(f"/api/resources/{ids['resourceId']}/source", json=source).status_code == 200
    keys = ("projectId", "environmentId", "resourceId", "serverId")
    deployment = created(api.post("/api/deployments", json={k: ids[k] for k in keys}))
    run_deployment(svc, deployment)
    shown = api.get(f"/api/deployments/{deployment}").json()["deployment"]
    assert shown["status"] == "succeeded", shown["failure"]
    return edge
