"""`dockyard up` behind Dockyard's nginx edge: routed URLs by hostname, redeploys with no failed request."""

import shutil
import socket
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from control_plane_process import ControlPlane, Load, app, poll

from acme_ca import AcmeCA, pebble, pebble_missing
from certs import self_signed
from dockyard.domain import certificates
from edge_client import https_get, https_get_with_certificate
from engine import SITE_DOCKERFILE, engine_or_skip

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """A control plane with an nginx edge on high ports and, when Pebble is installed, a local ACME CA
    that validates HTTP-01 on that edge port (every name resolves to 127.0.0.1 for it)."""
    if not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists():
        pytest.skip("nginx is not installed (as root: make system-deps)")
    edge_port, https_port = free_port(), free_port()
    with ExitStack() as stack:
        ca = None if pebble_missing() else stack.enter_context(pebble(edge_port))
        cp = ControlPlane(tmp_path_factory.mktemp("plane"), env=ca.env() if ca else None)
        cp.acme = ca  # type: ignore[attr-defined]
        cp.start()
        cp.with_nginx_edge(edge_port, https_port)
        yield cp
        cp.stop()


def local_server(plane: ControlPlane) -> str:
    return next(s["id"] for s in plane.api("GET", "/servers")["items"] if s["providerKey"] == "local")


def bind(plane: ControlPlane, resource_id: str, domain: str) -> str:
    """A domain binding of the resource on the local server, its ownership confirmed by hand."""
    shown = plane.api("GET", f"/resources/{resource_id}")["resource"]
    body = {
        "projectId": shown["projectId"],
        "environmentId": shown["environmentId"],
        "resourceId": resource_id,
        "serverId": local_server(plane),
        "domainName": domain,
    }
    binding = plane.api("POST", "/domain-bindings", json=body)["id"]
    plane.api("POST", f"/domain-bindings/{binding}/ownership-confirmations", json={"method": "manual"})
    return binding


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
    binding = bind(plane, result["resourceId"], "shop.example.test")
    edge = f"http://127.0.0.1:{plane.edge_port}/"  # type: ignore[attr-defined]
    poll(lambda: httpx.get(edge, headers={"Host": "shop.example.test"}).text == "bound", "the bound domain")
    plane.api("DELETE", f"/domain-bindings/{binding}", json={"confirmation": {"domainBindingId": binding}})
    poll(
        lambda: httpx.get(edge, headers={"Host": "shop.example.test"}).status_code == 404,
        "the domain removed",
    )
    assert via_edge(plane, result["url"]).text == "bound"


def test_an_imported_certificate_serves_the_bound_domain_over_https(
    plane: ControlPlane, tmp_path: Path
) -> None:
    result = plane.up(app(tmp_path, "tls-site", {"index.html": "secure"}))
    domain = "secure.example.test"
    binding = bind(plane, result["resourceId"], domain)
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


def acme_ca(plane: ControlPlane) -> AcmeCA:
    ca = plane.acme  # type: ignore[attr-defined]
    if ca is None:
        pytest.skip(f"no local ACME CA: {pebble_missing()} (as root: make system-deps)")
    return ca


def certificate(plane: ControlPlane, certificate_id: str) -> dict:
    return plane.api("GET", f"/certificates/{certificate_id}")


def settled(plane: ControlPlane, certificate_id: str, attempt_id: str) -> dict:
    """The certificate once the attempt has ended (succeeded or failed)."""

    def ended() -> dict | None:
        shown = certificate(plane, certificate_id)
        latest = shown["latestAttempt"]
        return shown if latest["id"] == attempt_id and latest["status"] != "requested" else None

    return poll(ended, f"certificate attempt {attempt_id} to end", 60)


def test_a_certificate_issued_by_acme_serves_the_bound_domain_over_https_renews_and_revokes(
    plane: ControlPlane, tmp_path: Path
) -> None:
    ca = acme_ca(plane)
    result = plane.up(app(tmp_path, "acme-site", {"index.html": "issued"}))
    domain = "acme-site.example.test"
    binding = bind(plane, result["resourceId"], domain)

    requested = plane.api("POST", "/certificates/issue-or-renew", json={"domainBindingId": binding})
    cert_id = requested["certificateId"]
    issued = settled(plane, cert_id, requested["attemptId"])
    assert issued["latestAttempt"]["status"] == "succeeded", issued["latestAttempt"]
    assert issued["status"] == "active" and issued["source"] == "managed"
    assert (issued["providerKey"], issued["challengeType"]) == ("acme", "http-01")
    assert issued["latestAttempt"]["reason"] == "issue"
    assert issued["subjectAlternativeNames"] == [domain] and "Pebble" in issued["issuer"]
    root, port = ca.root_pem(), plane.https_port  # type: ignore[attr-defined]

    def serves(fingerprint: str) -> bool:
        try:
            return https_get_with_certificate(port, domain, root) == (200, "issued", fingerprint)
        except OSError:
            return False

    poll(lambda: serves(issued["fingerprint"]), "the bound domain over HTTPS with the issued certificate")

    again = plane.api("POST", "/certificates/issue-or-renew", json={"domainBindingId": binding})
    assert again["certificateId"] == cert_id  # the same certificate, renewed in place
    renewed = settled(plane, cert_id, again["attemptId"])
    assert renewed["latestAttempt"]["status"] == "succeeded" and renewed["latestAttempt"]["reason"] == "renew"
    assert renewed["fingerprint"] != issued["fingerprint"] and len(renewed["attempts"]) == 2
    poll(lambda: serves(renewed["fingerprint"]), "HTTPS with the renewed certificate")
    chain = (certificates.files_dir(plane.data_dir, cert_id) / certificates.CHAIN_FILE).read_text()
    assert ca.status_of(chain) == "Valid"

    revoked = plane.api("POST", f"/certificates/{cert_id}/revoke", json={})
    assert revoked == {"certificateId": cert_id}
    assert certificate(plane, cert_id)["status"] == "revoked"
    assert ca.status_of(chain) == "Revoked"  # revoked with the CA, not only in Dockyard's books
    poll(lambda: not serves(renewed["fingerprint"]), "HTTPS for the domain stopped")
    assert via_edge(plane, result["url"]).text == "issued"  # the generated URL is untouched


def test_a_failed_acme_challenge_is_recorded_and_retried(plane: ControlPlane, tmp_path: Path) -> None:
    ca = acme_ca(plane)
    result = plane.up(app(tmp_path, "retry-site", {"index.html": "retried"}))
    domain = "retry-site.example.test"
    binding = bind(plane, result["resourceId"], domain)
    ca.servfail(domain)  # the CA cannot look the domain up: its HTTP-01 check fails
    try:
        requested = plane.api("POST", "/certificates/issue-or-renew", json={"domainBindingId": binding})
        failed = settled(plane, requested["certificateId"], requested["attemptId"])
    finally:
        ca.servfail(domain, failing=False)
    attempt = failed["latestAttempt"]
    assert failed["status"] == "failed" and attempt["status"] == "failed"
    assert (attempt["errorCode"], attempt["failurePhase"], attempt["retriable"]) == (
        "acme_challenge_failed",
        "challenge",
        True,
    )
    assert domain in attempt["failureMessage"] and attempt["failedAt"] and attempt["retryAfter"]

    retried = plane.api("POST", f"/certificates/{failed['id']}/retries", json={})
    done = settled(plane, failed["id"], retried["attemptId"])
    assert done["status"] == "active" and done["latestAttempt"]["status"] == "succeeded"
    assert [a["status"] for a in done["attempts"]] == ["succeeded", "failed"]
    poll(
        lambda: https_get(plane.https_port, domain, ca.root_pem()) == (200, "retried"),
        "HTTPS after the retry",
    )  # type: ignore[attr-defined]


DJANGO_SITE = {
    "requirements.txt": "django\ngunicorn\n",
    "manage.py": """
        import os
        import sys

        if __name__ == "__main__":
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
            from django.core.management import execute_from_command_line

            execute_from_command_line(sys.argv)
        """,
    "mysite/__init__.py": "",
    "mysite/settings.py": """
        import os
        from pathlib import Path

        BASE_DIR = Path(__file__).resolve().parent.parent
        SECRET_KEY = "a test site's key"
        DEBUG = False
        ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost").split(",")
        CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o]
        INSTALLED_APPS = ["django.contrib.staticfiles"]
        ROOT_URLCONF = "mysite.urls"
        DATABASES = {}
        STATIC_URL = "static/"
        STATIC_ROOT = BASE_DIR / "staticfiles"
        STATICFILES_DIRS = [BASE_DIR / "assets"]
        """,
    "mysite/urls.py": """
        from django.conf import settings
        from django.http import JsonResponse
        from django.urls import path


        def home(request):
            return JsonResponse({"hosts": settings.ALLOWED_HOSTS, "origins": settings.CSRF_TRUSTED_ORIGINS})


        urlpatterns = [path("", home)]
        """,
    "mysite/wsgi.py": """
        import os

        from django.core.wsgi import get_wsgi_application

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
        application = get_wsgi_application()
        """,
    "assets/site.css": "body { color: navy; }\n",
}


def test_a_django_site_answers_on_its_hostname_with_gunicorn_and_collected_static_files(
    plane: ControlPlane, tmp_path: Path
) -> None:
    result = plane.up(app(tmp_path, "django-site", DJANGO_SITE))
    assert result["status"] == "succeeded", result["stderr"]
    host = "django-site.localhost"
    assert result["url"] == f"http://{host}:{plane.edge_port}/"  # type: ignore[attr-defined]
    answer = via_edge(plane, result["url"])
    assert answer.status_code == 200, answer.text
    assert host in answer.json()["hosts"] and "127.0.0.1" in answer.json()["hosts"]
    assert answer.json()["origins"] == [
        f"https://{host}:{plane.https_port}",  # type: ignore[attr-defined]
        f"http://{host}:{plane.edge_port}",  # type: ignore[attr-defined]
    ]
    logs = plane.api("GET", f"/deployments/{result['deploymentId']}/logs")["logs"]
    assert any("served with gunicorn" in line["message"] for line in logs)
    workspace = plane.data_dir / "workspaces" / result["resourceId"] / result["deploymentId"]
    assert (workspace / "staticfiles" / "site.css").read_text() == "body { color: navy; }\n"
