"""The nginx edge against the real nginx binary; `EdgeContract` is the behaviour both edges share
(test_caddy.py runs it against Caddy). Backends are threaded http.servers in the test process that
answer with their name and the request headers they saw."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from dockyard.edge import failure_log, make_edge
from dockyard.edge.nginx import NginxEdge
from dockyard.edge.process import find_binary
from dockyard.edge.protocol import (
    Edge,
    EdgeConfigInvalid,
    EdgeSettings,
    EdgeStatus,
    EdgeUnavailable,
    Route,
    TlsFiles,
)
from polling import poll

APPLIES_UNDER_LOAD = 10


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Backend:
    """A tiny HTTP/1.1 server on a free loopback port answering JSON {name, path, headers}."""

    def __init__(self, name: str) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                body = json.dumps({"name": name, "path": self.path, "headers": dict(self.headers)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def get(port: int, host: str, path: str = "/", **kwargs: Any) -> httpx.Response:
    """One request on a fresh connection to 127.0.0.1:port with this Host (*.localhost does not resolve)."""
    url = f"http://127.0.0.1:{port}{path}"
    return httpx.get(url, headers={"Host": host}, timeout=5.0, trust_env=False, **kwargs)


def self_signed(folder: Path, hostname: str) -> TlsFiles:
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed (Debian package openssl)")
    cert, key = folder / f"{hostname}.crt", folder / f"{hostname}.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            f"/CN={hostname}",
            "-addext",
            f"subjectAltName=DNS:{hostname}",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return TlsFiles(certificate_path=str(cert), key_path=str(key))


class EdgeContract:
    """What every edge must do, run against the real proxy. Subclasses set `kind` and `binary`."""

    kind: str
    binary: str
    package: str

    @pytest.fixture
    def settings(self, tmp_path: Path) -> EdgeSettings:
        try:
            find_binary(self.binary, self.package)
        except EdgeUnavailable as exc:
            pytest.skip(f"{exc} (as root: `make system-deps`)")
        return EdgeSettings(
            kind=self.kind,  # type: ignore[arg-type]
            state_dir=tmp_path / "edge",
            http_port=free_port(),
            https_port=free_port(),
            listen_address="127.0.0.1",
        )

    @pytest.fixture
    def edge(self, settings: EdgeSettings) -> Iterator[Edge]:
        edge = make_edge(settings)
        assert edge is not None
        try:
            yield edge
        finally:
            make_edge(settings).stop()  # type: ignore[union-attr]

    @pytest.fixture
    def backends(self) -> Iterator[tuple[Backend, Backend]]:
        a, b = Backend("a"), Backend("b")
        yield a, b
        a.close()
        b.close()

    def lossless_reload_blocker(self, status: EdgeStatus) -> str | None:
        """Why this machine cannot give reloads that drop nothing (None: it can)."""
        return None

    def routes(self, a: Backend, b: Backend) -> list[Route]:
        return [
            Route("a.localhost", a.port, resource_id="res-a"),
            Route("b.localhost", b.port, path_prefix="/api", resource_id="res-b"),
            Route("old.localhost", a.port, redirect_to="a.localhost"),
        ]

    def test_routes_by_host_unknown_404_and_redirect(
        self, edge: Edge, backends: tuple[Backend, Backend]
    ) -> None:
        a, b = backends
        status = edge.apply(self.routes(a, b))
        assert status.running and status.route_count == 3 and status.last_error is None
        assert status.version and status.pid
        port = edge.settings.http_port

        seen = get(port, "a.localhost", "/hello?x=1").json()
        assert seen["name"] == "a" and seen["path"] == "/hello?x=1"
        headers = {k.lower(): v for k, v in seen["headers"].items()}
        assert headers["host"] == "a.localhost"
        assert headers["x-forwarded-for"] == "127.0.0.1"
        assert headers["x-real-ip"] == "127.0.0.1"
        assert headers["x-forwarded-proto"] == "http"
        assert headers["x-forwarded-host"] == "a.localhost"
        assert get(port, "b.localhost", "/api/items").json()["name"] == "b"
        assert get(port, "b.localhost", "/other").status_code == 404  # b only routes /api

        unknown = get(port, "nobody.localhost")
        assert unknown.status_code == 404 and "No app" in unknown.text
        moved = get(port, "old.localhost", "/some/path?q=2")
        assert moved.status_code == 301
        assert moved.headers["location"] == "http://a.localhost/some/path?q=2"

    def test_acme_challenge_answers_are_served_for_every_hostname(
        self, edge: Edge, backends: tuple[Backend, Backend]
    ) -> None:
        a, b = backends
        edge.apply(self.routes(a, b), {"tok-123": "tok-123.thumb_print"})
        port = edge.settings.http_port
        for host in ("a.localhost", "old.localhost", "b.localhost", "not-routed.example.test"):
            token = get(port, host, "/.well-known/acme-challenge/tok-123")
            assert (token.status_code, token.text) == (200, "tok-123.thumb_print"), host
        assert get(port, "nobody.localhost", "/.well-known/acme-challenge/other").status_code == 404
        assert get(port, "nobody.localhost", "/elsewhere").status_code == 404
        assert get(port, "a.localhost", "/hello").json()["name"] == "a"
        edge.apply(self.routes(a, b))  # answered, taken out again
        assert get(port, "nobody.localhost", "/.well-known/acme-challenge/tok-123").status_code == 404

    def test_a_challenge_that_is_not_base64url_is_refused(
        self, edge: Edge, backends: tuple[Backend, Backend]
    ) -> None:
        a, b = backends
        edge.apply(self.routes(a, b))
        with pytest.raises(EdgeConfigInvalid, match="not base64url"):
            edge.apply(self.routes(a, b), {"x": 'x.y"; return 500; #'})
        assert get(edge.settings.http_port, "a.localhost", "/").json()["name"] == "a"

    def test_https_route_with_files(
        self, edge: Edge, backends: tuple[Backend, Backend], tmp_path: Path
    ) -> None:
        a, b = backends
        tls = self_signed(tmp_path, "secure.localhost")
        edge.apply([*self.routes(a, b), Route("secure.localhost", b.port, tls=tls)])
        with httpx.Client(verify=False, trust_env=False, timeout=5.0) as client:  # self-signed
            resp = client.get(
                f"https://127.0.0.1:{edge.settings.https_port}/x",
                headers={"Host": "secure.localhost"},
                extensions={"sni_hostname": "secure.localhost"},
            )
        assert resp.status_code == 200 and resp.json()["name"] == "b"
        assert {k.lower(): v for k, v in resp.json()["headers"].items()}["x-forwarded-proto"] == "https"
        assert get(edge.settings.http_port, "secure.localhost", "/x").json()["name"] == "b"

    def test_invalid_config_keeps_the_previous_one(
        self, edge: Edge, backends: tuple[Backend, Backend], settings: EdgeSettings
    ) -> None:
        a, b = backends
        good = self.routes(a, b)
        edge.apply(good)
        missing = TlsFiles("/nonexistent/dockyard.crt", "/nonexistent/dockyard.key")
        with pytest.raises(EdgeConfigInvalid, match=r"/nonexistent/dockyard\.crt"):
            edge.apply([*good, Route("broken.localhost", a.port, tls=missing)])

        assert get(settings.http_port, "a.localhost").json()["name"] == "a"
        assert get(settings.http_port, "b.localhost", "/api").json()["name"] == "b"
        fresh = make_edge(settings)  # another process would see the same: the error is on disk
        assert fresh is not None
        status = fresh.status()
        assert status.running and status.route_count == 3
        assert status.last_error and "/nonexistent/dockyard.crt" in status.last_error
        assert "broken.localhost" not in Path(status.config_path or "").read_text()

        assert fresh.apply(good).last_error is None

    def test_a_route_the_config_cannot_hold_is_skipped_and_the_others_applied(
        self, edge: Edge, backends: tuple[Backend, Backend], settings: EdgeSettings
    ) -> None:
        """Before: one such route (stored before the API refused it) failed the whole apply."""
        a, b = backends
        bad = [
            Route("bad.localhost", b.port, path_prefix="/a;b", resource_id="res-bad"),
            Route("evil.localhost\n", b.port, resource_id="res-evil"),
        ]
        status = edge.apply([*self.routes(a, b), *bad])
        assert status.running and status.last_error is None and status.route_count == 3
        assert [(r.resource_id, r.hostname, r.path_prefix) for r in status.skipped] == [
            ("res-bad", "bad.localhost", "/a;b"),
            ("res-evil", "evil.localhost\n", "/"),
        ]
        assert "/a;b" in status.skipped[0].message
        port = settings.http_port
        assert get(port, "a.localhost").json()["name"] == "a"
        assert get(port, "b.localhost", "/api/x").json()["name"] == "b"
        assert get(port, "bad.localhost", "/a;b").status_code == 404
        fresh = make_edge(settings)  # another process reads the same from the state dir
        assert fresh is not None and fresh.status().skipped == status.skipped
        assert edge.apply(self.routes(a, b)).skipped == []

    def test_reload_under_a_request_loop_drops_nothing(
        self, edge: Edge, backends: tuple[Backend, Backend]
    ) -> None:
        a, b = backends
        routes = self.routes(a, b)
        blocker = self.lossless_reload_blocker(edge.apply(routes))
        if blocker:
            pytest.skip(blocker)
        port = edge.settings.http_port
        stop = threading.Event()
        ok = [0]
        failures: list[str] = []

        def loop() -> None:
            while not stop.is_set():
                try:
                    resp = get(port, "a.localhost", "/loop")  # a fresh connection each time
                    if resp.status_code == 200 and resp.json()["name"] == "a":
                        ok[0] += 1
                    else:
                        failures.append(f"{resp.status_code} {resp.text[:80]}")
                except httpx.HTTPError as exc:
                    failures.append(repr(exc))

        threads = [threading.Thread(target=loop) for _ in range(2)]
        for t in threads:
            t.start()
        try:
            for i in range(APPLIES_UNDER_LOAD):
                before = ok[0]
                extra = [Route(f"extra-{i}.localhost", b.port)] if i % 2 == 0 else []
                edge.apply([*routes, *extra])
                if extra:
                    assert get(port, f"extra-{i}.localhost").json()["name"] == "b"  # live on return
                poll(lambda before=before: ok[0] >= before + 5 or failures, "requests between reloads")
        finally:
            stop.set()
            for t in threads:
                t.join(10)
        assert failures == [], failures[:5]
        assert ok[0] >= APPLIES_UNDER_LOAD * 5

    def test_outlives_the_python_process_and_a_new_adapter_takes_over(
        self, settings: EdgeSettings, backends: tuple[Backend, Backend], edge: Edge
    ) -> None:
        a, b = backends
        script = (
            "import sys\n"
            "from pathlib import Path\n"
            "from dockyard.edge import make_edge\n"
            "from dockyard.edge.protocol import EdgeSettings, Route\n"
            f"s = EdgeSettings(kind={settings.kind!r}, state_dir=Path({str(settings.state_dir)!r}), "
            f"http_port={settings.http_port}, https_port={settings.https_port}, "
            "listen_address='127.0.0.1')\n"
            f"print(make_edge(s).apply([Route('a.localhost', {a.port})]).pid)\n"
        )
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        pid = int(done.stdout.split()[-1])

        status = edge.status()
        assert status.running and status.pid == pid and status.route_count == 1
        assert edge.ensure_running().pid == pid  # idempotent: no second proxy
        assert get(settings.http_port, "a.localhost").json()["name"] == "a"
        assert edge.apply(self.routes(a, b)).pid == pid
        assert get(settings.http_port, "b.localhost", "/api").json()["name"] == "b"

    def test_stop_then_start_comes_back_with_the_last_good_config(
        self, edge: Edge, backends: tuple[Backend, Backend]
    ) -> None:
        a, b = backends
        first = edge.apply(self.routes(a, b))
        edge.stop()
        status = edge.status()
        assert not status.running and status.pid is None
        with pytest.raises(httpx.ConnectError):
            get(edge.settings.http_port, "a.localhost")
        edge.stop()  # stopping a stopped edge is fine

        again = edge.ensure_running()
        assert again.running and again.pid != first.pid
        assert poll(lambda: get(edge.settings.http_port, "a.localhost").json()["name"] == "a", "routes back")

    def test_a_busy_port_is_reported(self, edge: Edge, settings: EdgeSettings) -> None:
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", settings.http_port))
            busy.listen()
            with pytest.raises(EdgeUnavailable, match=r"(?i)address already in use"):
                edge.ensure_running()
        status = edge.status()
        assert not status.running and "already in use" in (status.last_error or "").lower()

    def test_its_own_failures_carry_a_request_id_the_log_keeps(
        self, edge: Edge, settings: EdgeSettings, backends: tuple[Backend, Backend]
    ) -> None:
        a, _ = backends
        dead = free_port()  # nothing listens: the edge answers for the app
        edge.apply([Route("a.localhost", a.port, resource_id="res-a"), Route("d.localhost", dead)])
        served = get(settings.http_port, "a.localhost", "/fine")
        assert served.status_code == 200 and failure_log.REQUEST_ID_HEADER not in served.headers
        down = get(settings.http_port, "d.localhost", "/orders?token=never-kept", cookies={"s": "secret-x"})
        request_id = down.headers[failure_log.REQUEST_ID_HEADER]
        assert down.status_code == 502 and failure_log.is_edge_request_id(request_id)
        assert "not answering" in down.text and request_id in down.text
        unrouted = get(settings.http_port, "b.localhost")  # no route at all: no resource to blame
        assert unrouted.status_code == 404 and failure_log.REQUEST_ID_HEADER not in unrouted.headers
        [logged] = poll(lambda: failure_log.read_new(settings.state_dir), "the failure line")
        assert (logged.request_id, logged.host, logged.path, logged.status) == (
            request_id,
            "d.localhost",
            "/orders",
            502,
        )
        written = failure_log.path_of(settings.state_dir).read_text()
        assert (
            "never-kept" not in written and "secret-x" not in written
        )  # the query and headers may be secret
        assert failure_log.read_new(settings.state_dir) == []  # each line is read once

    def test_render_is_pure_and_ordered(self, edge: Edge, backends: tuple[Backend, Backend]) -> None:
        a, b = backends
        routes = self.routes(a, b)
        text = edge.render(routes)
        assert text == edge.render(list(reversed(routes)))
        assert not edge.settings.state_dir.exists()  # rendering touches nothing
        with pytest.raises(ValueError):
            edge.render([Route("evil.localhost; include /etc", a.port)])

    def test_missing_binary_says_which_package(
        self, settings: EdgeSettings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.setenv("PATH", str(tmp_path))
        monkeypatch.setattr("dockyard.edge.process.SBIN_DIRS", ())
        edge = make_edge(settings)
        assert edge is not None
        with pytest.raises(EdgeUnavailable, match=f"apt-get install {self.package}"):
            edge.apply([])


class TestNginx(EdgeContract):
    kind = "nginx"
    binary = "nginx"
    package = "nginx"

    def test_its_failure_log_names_the_upstream_and_an_unrouted_path(
        self, edge: Edge, settings: EdgeSettings, backends: tuple[Backend, Backend]
    ) -> None:
        a, _ = backends
        dead = free_port()
        edge.apply([Route("a.localhost", a.port, "/api", resource_id="res-a"), Route("d.localhost", dead)])
        assert get(settings.http_port, "d.localhost").status_code == 502
        missing = get(settings.http_port, "a.localhost", "/elsewhere")
        assert missing.status_code == 404 and failure_log.REQUEST_ID_HEADER in missing.headers
        logged: list[failure_log.EdgeFailure] = []
        poll(
            lambda: logged.extend(failure_log.read_new(settings.state_dir)) or len(logged) == 2, "both lines"
        )
        assert [(f.host, f.status, f.upstream) for f in logged] == [
            ("d.localhost", 502, f"127.0.0.1:{dead}"),
            ("a.localhost", 404, ""),
        ]


def test_make_edge_none_is_no_edge(tmp_path: Path) -> None:
    assert make_edge(EdgeSettings(kind="none", state_dir=tmp_path)) is None
    assert isinstance(make_edge(EdgeSettings(kind="nginx", state_dir=tmp_path)), NginxEdge)


def test_nginx_config_shape(tmp_path: Path) -> None:
    edge = NginxEdge(EdgeSettings(kind="nginx", state_dir=tmp_path / "s", http_port=8080, https_port=8443))
    tls = TlsFiles("/certs/s.crt", "/certs/s.key")
    text = edge.render(
        [
            Route("b.example.com", 9002, tls=tls),
            Route("a.example.com", 9001, path_prefix="/api"),
            Route("a.example.com", 9003),
            Route("www.example.com", 1, redirect_to="example.com"),
        ]
    )
    assert "server_tokens off;" in text
    assert "listen 0.0.0.0:8080 default_server;" in text
    assert "ssl_reject_handshake on;" in text
    assert text.index("server_name a.example.com;") < text.index("server_name b.example.com;")
    assert "location /api { proxy_pass http://dockyard_9001; }" in text
    assert "upstream dockyard_9003 {" in text and "keepalive 64;" in text
    assert "listen 0.0.0.0:8443 ssl http2;" in text and "ssl_certificate /certs/s.crt;" in text
    assert "return 301 $scheme://example.com$request_uri;" in text
    assert "upstream dockyard_1 " not in text  # a redirect needs no upstream
    assert "proxy_set_header Connection $connection_upgrade;" in text
    assert "8443" not in edge.render([Route("a.example.com", 9001)])  # no TLS route: no HTTPS listener
