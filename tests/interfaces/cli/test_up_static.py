"""`dockyard up` of static sites: a site serves its own files only — not what a symlink in it points
at, not its dotfiles, no listings — on its direct URL and through the nginx edge alike."""

import http.client
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from control_plane_process import ControlPlane, app, poll

from acme_ca import free_port

pytestmark = pytest.mark.e2e
DOTENV = "DOTENV_VALUE_8c1f0e"
GIT = "GIT_CONFIG_VALUE_5b7a"


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """A control plane whose local server has an nginx edge on high ports."""
    if not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists():
        pytest.skip("nginx is not installed (as root: make system-deps)")
    cp = ControlPlane(tmp_path_factory.mktemp("plane"))
    cp.start()
    cp.with_nginx_edge(free_port(), free_port())
    yield cp
    cp.stop()


def ended(plane: ControlPlane, deployment_id: str) -> dict:
    def done() -> dict | None:
        dep = plane.api("GET", f"/deployments/{deployment_id}")["deployment"]
        return dep if dep["status"] in ("failed", "succeeded", "canceled") else None

    return poll(done, f"deployment {deployment_id} to end")


def raw_get(port: int, path: str, host: str = "127.0.0.1") -> tuple[int, bytes]:
    """GET with the request line exactly as given (no client-side normalization of `..`)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest("GET", path, skip_host=True)
        conn.putheader("Host", host)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def doors(plane: ControlPlane, result: dict) -> list[tuple[int, str]]:
    """(port, Host) of the app's direct URL and of its routed name on the edge."""
    direct = plane.api("GET", f"/resources/{result['resourceId']}")["runtime"]["url"]
    routed = urlsplit(result["url"])
    assert routed.port == plane.edge_port, result["url"]
    return [(urlsplit(direct).port or 80, "127.0.0.1"), (routed.port, routed.hostname or "")]


def leaky_site(plane: ControlPlane, tmp_path: Path) -> Path:
    folder = app(tmp_path, "leaky", {"index.html": "home", ".env": f"TOKEN={DOTENV}"})
    for rel, text in {".git/config": GIT, "assets/app.css": "body {}", "docs/.notes": DOTENV}.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    (folder / "passwd").symlink_to("/etc/passwd")
    (folder / "key").symlink_to(plane.data_dir / "secret.key")
    (folder / "token").symlink_to(plane.data_dir / "admin.token")
    (folder / "data").symlink_to(plane.data_dir)
    (folder / "home.html").symlink_to("index.html")
    return folder


def secrets_of(plane: ControlPlane) -> list[bytes]:
    key = (plane.data_dir / "secret.key").read_bytes().strip()
    token = (plane.data_dir / "admin.token").read_bytes().strip()
    return [key, token, b"root:x:0:0", DOTENV.encode(), GIT.encode()]


def test_a_static_site_serves_neither_its_symlinks_targets_nor_its_dotfiles(
    plane: ControlPlane, tmp_path: Path
) -> None:
    result = plane.up(leaky_site(plane, tmp_path))
    assert result["status"] == "succeeded", result["stderr"]
    secrets = secrets_of(plane)
    direct = doors(plane, result)[0][0]
    for port, host in doors(plane, result):
        assert raw_get(port, "/", host) == (200, b"home")
        assert raw_get(port, "/home.html", host) == (200, b"home")  # a link inside the site still works
        assert raw_get(port, "/assets/app.css", host) == (200, b"body {}")
        for path in [
            "/passwd",
            "/key",
            "/token",
            "/data/secret.key",
            "/.env",
            "/.git/config",
            "/docs/.notes",
            "/%2eenv",
            "/..%2f..%2fetc/passwd",
            "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
            "/assets/",  # no listing
            "/missing",  # a plain folder of pages: a missing page is a 404
        ]:
            status, body = raw_get(port, path, host)
            assert status == 404 or (status == 400 and port != direct), (host, path, status)  # nginx: 400
            assert not any(s in body for s in secrets), (host, path)
    logs = plane.api("GET", f"/deployments/{result['deploymentId']}/logs")["logs"]
    warned = [line["message"] for line in logs if line["level"] == "warn" and "symlink" in line["message"]]
    assert [w.split()[1] for w in warned] == ["data", "key", "passwd", "token"], warned
    assert all("points outside the folder; not copied" in w for w in warned)


def test_a_static_folder_that_links_to_the_data_dir_is_not_served(
    plane: ControlPlane, tmp_path: Path
) -> None:
    folder = app(tmp_path, "linked-dist", {"dockyard.yml": "static: dist\n"})
    (folder / "dist").symlink_to(plane.data_dir)
    result = plane.up(folder)
    assert result["status"] == "failed"
    logs = plane.api("GET", f"/deployments/{result['deploymentId']}/logs")["logs"]
    messages = [line["message"] for line in logs]
    assert any(m.startswith("symlink dist -> ") and "not copied" in m for m in messages), messages
    assert not any(s.decode() in m for s in secrets_of(plane) for m in messages)


def test_a_folder_holding_the_data_dir_is_refused(plane: ControlPlane) -> None:
    """`dockyard up ~` with the data dir under ~: refused before anything is created or copied."""
    holder = plane.data_dir.parent
    before = plane.api("GET", "/projects/count")["count"]
    done = plane.cli("up", str(holder))
    assert done.returncode == 1 and "data dir" in done.stderr and "Next:" in done.stderr, done.stderr
    assert plane.api("GET", "/projects/count")["count"] == before
    assert not any((plane.data_dir / "workspaces").glob(f"*/*/{plane.data_dir.name}"))


def test_a_deployment_of_the_data_dir_itself_fails_without_copying_it(
    plane: ControlPlane, tmp_path: Path
) -> None:
    """Through the API anyone who may deploy names any folder: the data dir is refused server-side."""
    result = plane.up(app(tmp_path, "then-pointed-at-data", {"index.html": "fine"}))
    resource = result["resourceId"]
    for locator in (plane.data_dir, plane.data_dir.parent):
        source = {"kind": "local-folder", "locator": str(locator), "displayName": "data"}
        plane.api("POST", f"/resources/{resource}/source", json={"source": source})
        plane.api(
            "POST", f"/resources/{resource}/runtime-profile", json={"runtimeProfile": {"strategy": "static"}}
        )
        shown = plane.api("GET", f"/resources/{resource}")["resource"]
        body = {k: shown[k] for k in ("projectId", "environmentId")} | {"resourceId": resource}
        body["serverId"] = plane.local_server()
        dep = ended(plane, plane.api("POST", "/deployments", json=body)["id"])
        assert dep["status"] == "failed" and dep["failure"]["code"] == "source-folder-refused", dep
        assert "data dir" in dep["failure"]["message"]
    status, body = raw_get(doors(plane, result)[0][0], "/secret.key")
    assert status == 404 and body != (plane.data_dir / "secret.key").read_bytes()


def test_a_single_page_app_answers_its_routes_with_its_index(plane: ControlPlane, tmp_path: Path) -> None:
    result = plane.up(app(tmp_path, "spa", {"index.html": "app shell", "dockyard.yml": "spa: true\n"}))
    assert result["status"] == "succeeded", result["stderr"]
    for port, host in doors(plane, result):
        assert raw_get(port, "/users/7", host) == (200, b"app shell")
        assert raw_get(port, "/missing.js", host)[0] == 404
