"""The static site server as a real process: it serves the site's own regular files and nothing else."""

import http.client
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from acme_ca import free_port
from polling import poll

SECRET = "s3cr3t-outside-the-site"


class Served:
    def __init__(self, port: int) -> None:
        self.port = port

    def get(self, path: str, method: str = "GET", **headers: str) -> tuple[int, dict[str, str], bytes]:
        """The request line carries `path` exactly as given (no client-side normalization)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for key, value in headers.items():
                conn.putheader(key.replace("_", "-"), value)
            conn.endheaders()
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()


def start(root: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "dockyard.runtimes.static_server", "--root", str(root), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def answering(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A workspace whose site folder holds pages, dotfiles and symlinks of every kind."""
    (tmp_path / "secret.key").write_text(SECRET)
    work = tmp_path / "work"
    root = work / "site"
    for rel, text in {
        "index.html": "<h1>home</h1>",
        "about.html": "about page",
        "style.css": "body {}",
        "app.js": "console.log(1)",
        "docs/index.html": "docs home",
        "docs/guide.html": "guide",
        "assets/logo.svg": "<svg/>",
        ".env": f"TOKEN={SECRET}",
        ".git/config": SECRET,
        "docs/.draft.html": SECRET,
        ".well-known/security.txt": "Contact: admin@example.test",
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (work / "notes.txt").write_text("beside the site, inside the workspace")
    (work / ".hidden").write_text(SECRET)
    (root / "passwd").symlink_to("/etc/passwd")
    (root / "key").symlink_to(tmp_path / "secret.key")
    (root / "up").symlink_to(tmp_path)
    (root / "home.html").symlink_to("index.html")
    (root / "notes.txt").symlink_to("../notes.txt")
    (root / "env.txt").symlink_to(".env")
    (root / "hidden.txt").symlink_to("../.hidden")
    return root


@pytest.fixture
def served(site: Path) -> Iterator[Served]:
    port = free_port()
    proc = start(site, "--within", str(site.parent), "--port", str(port))
    poll(lambda: answering(port), "the static server")
    yield Served(port)
    proc.terminate()
    proc.wait(timeout=5)


def test_pages_are_served_with_their_content_types(served: Served) -> None:
    for path, body, kind in [
        ("/", b"<h1>home</h1>", "text/html; charset=utf-8"),
        ("/index.html", b"<h1>home</h1>", "text/html; charset=utf-8"),
        ("/style.css", b"body {}", "text/css; charset=utf-8"),
        ("/app.js?v=2", b"console.log(1)", "text/javascript; charset=utf-8"),
        ("/assets/logo.svg", b"<svg/>", "image/svg+xml"),
        ("/docs/", b"docs home", "text/html; charset=utf-8"),
        ("/docs/guide.html", b"guide", "text/html; charset=utf-8"),
        ("/about", b"about page", "text/html; charset=utf-8"),  # clean URL: about.html
        ("/home.html", b"<h1>home</h1>", "text/html; charset=utf-8"),  # a link inside the site
        ("/notes.txt", b"beside the site, inside the workspace", "text/plain; charset=utf-8"),
        ("/.well-known/security.txt", b"Contact: admin@example.test", "text/plain; charset=utf-8"),
        ("/%64ocs/guide.html", b"guide", "text/html; charset=utf-8"),
    ]:
        status, headers, got = served.get(path)
        assert (status, got, headers["content-type"]) == (200, body, kind), path
        assert headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "path",
    [
        "/passwd",  # -> /etc/passwd
        "/key",  # -> a file outside the workspace
        "/up/secret.key",  # through a link to a folder outside
        "/.env",
        "/.git/config",
        "/docs/.draft.html",
        "/env.txt",  # a link inside the site, to a dotfile
        "/hidden.txt",  # a link to a dotfile of the workspace
        "/%2eenv",
        "/%2e%2e/%2e%2e/secret.key",
        "/..%2f..%2fsecret.key",
        "/../../secret.key",
        "/site/../../secret.key",
        "/assets/",  # a folder without an index: no listing
        "/missing.html",
        "/docs/%00index.html",
        "/%ff",
    ],
)
def test_what_leaves_the_site_or_is_hidden_answers_404(served: Served, path: str) -> None:
    status, _, body = served.get(path)
    assert status == 404, path
    assert SECRET.encode() not in body and b"root:" not in body and b"logo.svg" not in body


def test_a_folder_without_its_slash_is_redirected_inside_the_site(served: Served) -> None:
    status, headers, _ = served.get("/docs?x=1")
    assert (status, headers["location"]) == (301, "/docs/?x=1")
    status, headers, _ = served.get("//docs")
    assert (status, headers["location"]) == (301, "/docs/")  # never `//docs/`, another host


def test_head_and_conditional_get(served: Served) -> None:
    status, headers, body = served.get("/style.css", "HEAD")
    assert (status, body, headers["content-length"]) == (200, b"", "7")
    etag, modified = headers["etag"], headers["last-modified"]
    assert served.get("/style.css", If_None_Match=etag)[0] == 304
    assert served.get("/style.css", If_None_Match='"other"')[0] == 200
    assert served.get("/style.css", If_Modified_Since=modified)[0] == 304
    assert served.get("/style.css", If_Modified_Since="Thu, 01 Jan 1970 00:00:00 GMT")[0] == 200
    assert served.get("/style.css", "POST")[0] == 501


def test_without_spa_a_missing_page_is_404_with_spa_paths_without_extension_get_the_index(
    site: Path, served: Served
) -> None:
    assert served.get("/pricing")[0] == 404
    port = free_port()
    proc = start(site, "--port", str(port), "--spa")
    try:
        poll(lambda: answering(port), "the static server")
        spa = Served(port)
        assert spa.get("/pricing")[:3:2] == (200, b"<h1>home</h1>")
        assert spa.get("/users/7/edit")[:3:2] == (200, b"<h1>home</h1>")
        assert spa.get("/missing.js")[0] == 404  # an asset that is not there stays a 404
        assert spa.get("/.env")[0] == 404
        assert spa.get("/passwd")[2] == b"<h1>home</h1>"  # the app's route, not the link's target
    finally:
        proc.terminate()
        proc.wait(timeout=5)


def test_a_root_that_resolves_outside_its_workspace_is_refused(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "dist").symlink_to(tmp_path / "elsewhere")
    proc = start(tmp_path / "work" / "dist", "--within", str(tmp_path / "work"), "--port", str(free_port()))
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode != 0 and "refusing to serve" in out and "outside" in out
