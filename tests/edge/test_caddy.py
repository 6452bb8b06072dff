"""The Caddy edge against the real caddy binary: the shared contract (test_nginx.EdgeContract) plus the
shape of the JSON config."""

from __future__ import annotations

import json
from pathlib import Path

from test_nginx import EdgeContract

from dockyard.edge import make_edge
from dockyard.edge.caddy import CaddyEdge
from dockyard.edge.protocol import EdgeSettings, EdgeStatus, Route, TlsFiles


class TestCaddy(EdgeContract):
    kind = "caddy"
    binary = "caddy"
    package = "caddy"

    def lossless_reload_blocker(self, status: EdgeStatus) -> str | None:
        state = status.details["tcp_migrate_req"]
        if state == "1":
            return None
        return (
            f"net.ipv4.tcp_migrate_req is {state}: Caddy 2.6 reloads through a new SO_REUSEPORT socket, "
            "so connections queued on the old one are reset (run the tests as root on Linux >= 5.14)"
        )


def test_make_edge_caddy(tmp_path: Path) -> None:
    assert isinstance(make_edge(EdgeSettings(kind="caddy", state_dir=tmp_path)), CaddyEdge)


def test_caddy_config_shape(tmp_path: Path) -> None:
    settings = EdgeSettings(
        kind="caddy", state_dir=tmp_path / "s", http_port=8080, https_port=8443, admin_port=2999
    )
    tls = TlsFiles("/certs/s.crt", "/certs/s.key")
    config = json.loads(
        CaddyEdge(settings).render(
            [
                Route("b.example.com", 9002, tls=tls),
                Route("a.example.com", 9001),
                Route("a.example.com", 9003, path_prefix="/api"),
                Route("*.example.com", 9004),
                Route("www.example.com", 1, redirect_to="example.com"),
            ]
        )
    )
    assert config["admin"] == {"listen": "127.0.0.1:2999", "config": {"persist": False}}
    servers = config["apps"]["http"]["servers"]
    assert servers["http"]["listen"] == ["0.0.0.0:8080"]
    assert servers["http"]["automatic_https"] == {"disable": True}
    matches = [r.get("match", [{}])[0] for r in servers["http"]["routes"]]
    assert matches == [
        {"host": ["a.example.com"], "path": ["/api*"]},  # longest prefix first
        {"host": ["a.example.com"]},
        {"host": ["b.example.com"]},
        {"host": ["www.example.com"]},
        {"host": ["*.example.com"]},  # wildcards after exact names
        {},  # the 404 default
    ]
    last = servers["http"]["routes"][-1]["handle"][0]
    assert last["handler"] == "static_response" and last["status_code"] == 404
    redirect = servers["http"]["routes"][3]["handle"][0]
    assert redirect["status_code"] == 301
    assert redirect["headers"]["Location"] == ["{http.request.scheme}://example.com{http.request.uri}"]
    proxy = servers["http"]["routes"][0]["handle"][0]
    assert proxy["handler"] == "reverse_proxy" and proxy["upstreams"] == [{"dial": "127.0.0.1:9003"}]
    assert servers["https"]["listen"] == ["0.0.0.0:8443"]
    assert [r["match"][0]["host"] for r in servers["https"]["routes"][:-1]] == [["b.example.com"]]
    assert config["apps"]["tls"]["certificates"]["load_files"] == [
        {"certificate": "/certs/s.crt", "key": "/certs/s.key"}
    ]
    assert (
        "https"
        not in json.loads(CaddyEdge(settings).render([Route("a.example.com", 9001)]))["apps"]["http"][
            "servers"
        ]
    )
