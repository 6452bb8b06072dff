"""`dockyard up` behind Dockyard's nginx edge: routed URLs by hostname, redeploys with no failed request."""

import http.client
import shutil
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from control_plane_process import ControlPlane, Load, app, poll

from certs import self_signed
from engine import SITE_DOCKERFILE, engine_or_skip

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    if not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists():
        pytest.skip("nginx is not installed (as root: make system-deps)")
    cp = ControlPlane(tmp_path_factory.mktemp("plane"))
    cp.start()
    server = next(s["id"] for s in cp.api("GET", "/servers")["items"] if s["providerKey"] == "local")
    cp.edge_port, cp.https_port = free_port(), free_port()  # type: ignore[attr-defined]
    body = {"proxyKind": "nginx", "httpPort": cp.edge_port, "httpsPort": cp.https_port}  # type: ignore[attr-defined]
    cp.api("POST", f"/servers/{server}/edge-proxy/configuration", json=body)
    cp.api("POST", f"/servers/{server}/edge-proxy/bootstrap", json={})
    assert cp.api("GET", f"/servers/{server}")["server"]["edgeProxy"]["status"] == "ready"
    yield cp
    cp.stop()
    from dockyard.edge.sync import make

    edge = make(cp.data_dir, {"kind": "nginx"})
    if edge is not None:
        edge.stop()


def via_edge(plane: ControlPlane, url: str) -> httpx.Response:
    """*.localhost does not resolve through libc here: connect to 127.0.0.1 and send the Host."""
    host = urlsplit(url).hostname or ""
    return httpx.get(f"http://127.0.0.1:{plane.edge_port}/", headers={"Host": host})  # type: ignore[attr-defined]


def test_the_python_example_answers_on_its_localhost_name(plane: ControlPlane, tmp_path: Path) -> None:
    folder = tmp_path / "hello-python"
    shutil.copytree(EXAMPLES / "hello-python", folder)
    result = plane.up(folder)
    assert result["status"] == "succeeded", result["stderr"]
    assert result["url"] == f"http://hello-python.localhost:{plane.edge_port}/"  # type: ignore[attr-defined]
    assert "Hello from Dockyard (Python)" in via_edge(plane, result["url"]).text
    unknown = httpx.get(f"http://127.0.0.1:{plane.edge_port}/", headers={"Host": "nobody.localhost"})  # type: ignore[attr-defined]
    assert unknown.status_code == 404
    preview = plane.api("GET", f"/resources/{result['resourceId']}/proxy-configuration")
    assert [r["hostname"] for r in preview["routes"]] == ["hello-python.localhost"] and preview[
        "status"
    ] == "applied"
    assert "hello-python.localhost" in preview["sections"][0]["content"]
    listed = plane.cli("ps", "--json")
    assert result["url"] in listed.stdout


def redeploys_without_failures(plane: ControlPlane, folder: Path, times: int) -> None:
    first = plane.up(folder)
    assert first["status"] == "succeeded", first["stderr"]
    host = urlsplit(first["url"]).hostname or ""
    with Load(f"http://127.0.0.1:{plane.edge_port}/", {"Host": host}) as load:  # type: ignore[attr-defined]
        for i in range(times):
            (folder / "index.html").write_text(f"version {i}")
            assert plane.up(folder)["status"] == "succeeded"
            poll(lambda i=i: f"version {i}" in load.seen, f"version {i} through the edge")
    assert load.failures == []


def test_redeploys_of_a_process_app_behind_the_edge_lose_no_request(
    plane: ControlPlane, tmp_path: Path
) -> None:
    redeploys_without_failures(plane, app(tmp_path, "edge-site", {"index.html": "version start"}), 3)


def test_redeploys_of_a_container_behind_the_edge_lose_no_request(
    plane: ControlPlane, tmp_path: Path
) -> None:
    engine_or_skip()
    folder = app(tmp_path, "edge-box", {"Dockerfile": SITE_DOCKERFILE, "index.html": "version start"})
    redeploys_without_failures(plane, folder, 3)


def test_a_bound_domain_is_served_and_removing_it_keeps_the_generated_name(
    plane: ControlPlane, tmp_path: Path
) -> None:
    result = plane.up(app(tmp_path, "bound-site", {"index.html": "bound"}))
    shown = plane.api("GET", f"/resources/{result['resourceId']}")
    ids = {k: shown["resource"][k] for k in ("projectId", "environmentId")}
    server = next(s["id"] for s in plane.api("GET", "/servers")["items"] if s["providerKey"] == "local")
    body = {**ids, "resourceId": result["resourceId"], "serverId": server, "domainName": "shop.example.test"}
    binding = plane.api("POST", "/domain-bindings", json=body)["id"]
    plane.api("POST", f"/domain-bindings/{binding}/ownership-confirmations", json={"method": "manual"})
    edge = f"http://127.0.0.1:{plane.edge_port}/"  # type: ignore[attr-defined]
    poll(lambda: httpx.get(edge, headers={"Host": "shop.example.test"}).text == "bound", "the bound domain")
    plane.api("DELETE", f"/domain-bindings/{binding}", json={"confirmation": {"domainBindingId": binding}})
    poll(
        lambda: httpx.get(edge, headers={"Host": "shop.example.test"}).status_code == 404,
        "the domain removed",
    )
    assert via_edge(plane, result["url"]).text == "bound"


def https_get(port: int, domain: str, trusted_pem: str) -> tuple[int, str]:
    """GET / over TLS from 127.0.0.1:<port> with SNI and Host = domain, trusting only `trusted_pem`."""
    context = ssl.create_default_context(cadata=trusted_pem)
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=5, context=context)
    conn.sock = context.wrap_socket(
        socket.create_connection(("127.0.0.1", port), timeout=5), server_hostname=domain
    )
    try:
        conn.request("GET", "/", headers={"Host": domain})
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


def test_an_imported_certificate_serves_the_bound_domain_over_https(
    plane: ControlPlane, tmp_path: Path
) -> None:
    result = plane.up(app(tmp_path, "tls-site", {"index.html": "secure"}))
    shown = plane.api("GET", f"/resources/{result['resourceId']}")
    ids = {k: shown["resource"][k] for k in ("projectId", "environmentId")}
    server = next(s["id"] for s in plane.api("GET", "/servers")["items"] if s["providerKey"] == "local")
    domain = "secure.example.test"
    body = {**ids, "resourceId": result["resourceId"], "serverId": server, "domainName": domain}
    binding = plane.api("POST", "/domain-bindings", json=body)["id"]
    plane.api("POST", f"/domain-bindings/{binding}/ownership-confirmations", json={"method": "manual"})
    pem = self_signed(domain)
    imported = plane.api(
        "POST",
        "/certificates/import",
        json={"domainBindingId": binding, "certificateChain": pem.chain, "privateKey": pem.key},
    )
    port = plane.https_port  # type: ignore[attr-defined]

    def served() -> bool:
        try:
            return https_get(port, domain, pem.chain) == (200, "secure")
        except OSError:
            return False

    poll(served, "the bound domain over HTTPS")
    cert_id = imported["certificateId"]
    plane.api("DELETE", f"/certificates/{cert_id}", json={"confirmation": {"certificateId": cert_id}})
    poll(lambda: not served(), "HTTPS for the domain removed")
    plane.api("DELETE", f"/domain-bindings/{binding}", json={"confirmation": {"domainBindingId": binding}})
