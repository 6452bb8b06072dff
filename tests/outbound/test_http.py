"""The egress guard as an httpx2 transport, against real HTTP and HTTPS servers on loopback."""

import json
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from egress_helpers import FakeDns

from certs import self_signed
from dockyard.domain.egress import ALLOW_SETTING, EgressPolicy, policy_from
from dockyard.outbound.guard import EgressDenied
from dockyard.outbound.http import GuardedTransport, http_client_factory

LOOPBACK = {ALLOW_SETTING: "127.0.0.0/8,::1/128"}


@pytest.fixture
def server() -> Iterator[int]:
    """An HTTP server on 127.0.0.1 answering with the Host header it saw; yields its port."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/away":
                self.send_response(302)
                self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = json.dumps({"host": self.headers["Host"]}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield int(httpd.server_address[1])
    httpd.shutdown()
    httpd.server_close()


def get(
    policy: EgressPolicy, url: str, verify: ssl.SSLContext | bool = True, **kwargs: Any
) -> httpx2.Response:
    async def go() -> httpx2.Response:
        async with httpx2.AsyncClient(transport=GuardedTransport(policy, verify=verify)) as client:
            return await client.get(url, **kwargs)

    return anyio.run(go)


def test_a_name_resolving_to_the_metadata_address_is_refused(fake_dns: FakeDns) -> None:
    fake_dns.records["metadata.example.com"] = ["169.254.169.254"]
    with pytest.raises(EgressDenied, match=r"169\.254\.169\.254"):
        get(policy_from({}, []), "http://metadata.example.com/latest/meta-data/")


def test_the_request_goes_to_the_checked_address_with_its_host_header(fake_dns: FakeDns, server: int) -> None:
    """A rebinding DNS answers loopback to the check and the metadata address after: one lookup only."""
    fake_dns.records["rebind.example.com"] = ["127.0.0.1"]
    fake_dns.then["rebind.example.com"] = ["169.254.169.254"]
    resp = get(policy_from(LOOPBACK, []), f"http://rebind.example.com:{server}/x")
    assert resp.status_code == 200 and resp.json() == {"host": f"rebind.example.com:{server}"}
    assert fake_dns.asked == ["rebind.example.com"]
    assert str(resp.request.url) == f"http://rebind.example.com:{server}/x"


def test_a_redirect_is_checked_like_the_first_request(server: int) -> None:
    with pytest.raises(EgressDenied, match=r"169\.254\.169\.254"):
        get(policy_from(LOOPBACK, []), f"http://127.0.0.1:{server}/away", follow_redirects=True)


def test_the_own_listener_is_refused(server: int) -> None:
    with pytest.raises(EgressDenied, match="control plane's own API"):
        get(policy_from(LOOPBACK, [("127.0.0.1", server)]), f"http://localhost:{server}/")
    assert (
        get(policy_from(LOOPBACK, [("127.0.0.1", server + 1)]), f"http://127.0.0.1:{server}/").status_code
        == 200
    )


def test_https_keeps_the_name_for_sni_and_the_certificate(fake_dns: FakeDns, tmp_path: Path) -> None:
    pem = self_signed("secure.example.com")
    (tmp_path / "c.pem").write_text(pem.chain)
    (tmp_path / "k.pem").write_text(pem.key)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "c.pem", tmp_path / "k.pem")
    names: list[str | None] = []
    context.sni_callback = lambda _sock, name, _ctx: names.append(name)  # type: ignore[assignment,func-returns-value]
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]

        def serve() -> None:
            conn, _ = listener.accept()
            with context.wrap_socket(conn, server_side=True) as tls:
                tls.recv(65536)
                tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        fake_dns.records["secure.example.com"] = ["127.0.0.1"]
        trusted = ssl.create_default_context(cadata=pem.chain)
        resp = get(policy_from(LOOPBACK, []), f"https://secure.example.com:{port}/", verify=trusted)
        thread.join(5)
    assert resp.text == "ok" and names == ["secure.example.com"]


def test_the_mcp_client_factory_guards_its_clients(fake_dns: FakeDns) -> None:
    fake_dns.records["metadata.example.com"] = ["169.254.169.254"]

    async def go() -> None:
        async with http_client_factory(policy_from({}, []))(headers={"X-A": "1"}) as client:
            assert client.headers["X-A"] == "1"
            await client.post("http://metadata.example.com/mcp", json={})

    with pytest.raises(EgressDenied):
        anyio.run(go)
