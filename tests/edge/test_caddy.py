"""The Caddy edge against the real caddy binary: the shared contract (test_nginx.EdgeContract) plus the
shape of the JSON config."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
from pathlib import Path

import pytest
from test_nginx import Backend, EdgeContract, get

from dockyard.edge import make_edge
from dockyard.edge.caddy import CaddyEdge, _caddy_last_words
from dockyard.edge.process import log_tail, pid_alive, wait_for
from dockyard.edge.protocol import Edge, EdgeSettings, EdgeStatus, Route, TlsFiles

CONNECT = "import socket, sys\nsocket.socket(socket.AF_UNIX).connect(sys.argv[1])\nprint('connected')\n"


def tcp_listening_ports(pid: int) -> set[int]:
    """The TCP ports process `pid` listens on, read from /proc (its socket inodes in /proc/net/tcp*)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


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

    def test_the_admin_api_is_a_unix_socket_only_its_owner_can_reach(
        self, edge: Edge, backends: tuple[Backend, Backend]
    ) -> None:
        """No TCP admin port another local user could use to replace every route."""
        a, b = backends
        status = edge.apply(self.routes(a, b))
        assert status.pid is not None
        assert tcp_listening_ports(status.pid) == {edge.settings.http_port}  # no admin port on TCP
        socket_path = Path(status.details["admin"])
        info = socket_path.stat()
        assert stat.S_ISSOCK(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o600
        assert info.st_uid == os.geteuid()
        assert stat.S_IMODE(socket_path.parent.stat().st_mode) == 0o700
        if os.geteuid() != 0:
            pytest.skip("connecting as another user needs root")
        mine = subprocess.run(["python3", "-c", CONNECT, str(socket_path)], capture_output=True, text=True)
        assert mine.stdout.strip() == "connected", mine.stderr  # the socket is live
        other = subprocess.run(
            ["python3", "-c", CONNECT, str(socket_path)], capture_output=True, text=True, user="nobody"
        )
        assert other.returncode != 0 and "PermissionError" in other.stderr, other.stdout
        assert edge.apply(self.routes(a, b)[:1]).route_count == 1  # and it still takes configs

    def test_a_caddy_without_the_admin_socket_is_replaced(
        self, edge: Edge, backends: tuple[Backend, Backend]
    ) -> None:
        """As one started by an older Dockyard (admin API on TCP): restarted with the socket."""
        a, b = backends
        first = edge.apply(self.routes(a, b))
        Path(first.details["admin"]).unlink()
        again = edge.apply(self.routes(a, b))
        assert again.pid != first.pid and Path(again.details["admin"]).is_socket()
        assert get(edge.settings.http_port, "a.localhost").json()["name"] == "a"

    def test_a_caddy_stopped_by_a_signal_is_reported_with_its_last_words(
        self, edge: Edge, backends: tuple[Backend, Backend]
    ) -> None:
        """What a start that dies without an error reports: Caddy's own last messages, naming the signal."""
        a, b = backends
        status = edge.apply(self.routes(a, b))
        assert isinstance(edge, CaddyEdge) and status.pid is not None
        since = edge.log_path.stat().st_size
        os.kill(status.pid, signal.SIGTERM)
        assert wait_for(lambda: not pid_alive(status.pid, str(edge.config_path)), 30)
        assert "SIGTERM" in _caddy_last_words(log_tail(edge.log_path, 20, since))


def test_make_edge_caddy(tmp_path: Path) -> None:
    assert isinstance(make_edge(EdgeSettings(kind="caddy", state_dir=tmp_path)), CaddyEdge)


def test_caddy_config_shape(tmp_path: Path) -> None:
    settings = EdgeSettings(kind="caddy", state_dir=tmp_path / "s", http_port=8080, https_port=8443)
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
    assert config["admin"] == {
        "listen": f"unix/{tmp_path / 's' / 'run' / 'admin.sock'}",
        "origins": ["caddy-admin"],
        "config": {"persist": False},
    }
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
