"""The container engine the tests get: build FROM the local busybox image, publish a port, serve a file;
and the Debian mirror its Python base image is bootstrapped from, read from the machine's apt sources."""

import contextlib
import io
import os
import socket
import subprocess
import tarfile
import textwrap
import time
import uuid
from pathlib import Path

import httpx
import pytest

from engine import BUSYBOX_IMAGE, TEST_LABEL, engine_or_skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _context(files: dict[str, str]) -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    return buf


def test_build_run_publish_and_serve() -> None:
    url = engine_or_skip()
    docker = pytest.importorskip("docker")
    client = docker.DockerClient(base_url=url, timeout=120)
    tag = f"localhost/dockyard-test-engine:{uuid.uuid4().hex[:12]}"
    token = uuid.uuid4().hex
    dockerfile = f"FROM {BUSYBOX_IMAGE}\nRUN echo {token} > /www/hello.txt\n"
    container = None
    try:
        client.images.build(
            fileobj=_context({"Dockerfile": dockerfile}),
            custom_context=True,
            tag=tag,
            labels=TEST_LABEL,
            rm=True,
            pull=False,
        )
        port = _free_port()
        container = client.containers.run(
            tag,
            ["httpd", "-f", "-p", "8080", "-h", "/www"],
            detach=True,
            labels=TEST_LABEL,
            ports={"8080/tcp": ("127.0.0.1", port)},
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/hello.txt", timeout=2)
                if r.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            container.reload()
            assert container.status in ("created", "running"), container.logs().decode()
            assert time.monotonic() < deadline, f"no answer on 127.0.0.1:{port}: {container.logs().decode()}"
            time.sleep(0.1)
        assert r.text.strip() == token
    finally:
        if container is not None:
            container.remove(force=True)
        with contextlib.suppress(docker.errors.ImageNotFound):
            client.images.remove(tag, force=True)
        client.close()


SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "container-engine.sh"
DEBIAN_12 = """\
    Types: deb
    URIs: http://security.mirror.example/debian-security
    Suites: bookworm-security
    Components: main

    # the release itself, after its security archive
    Types: deb deb-src
    URIs: http://mirror.example/debian/
    Suites: bookworm bookworm-updates
    Components: main
    Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
    """


def _mirror(apt: dict[str, str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the script's mirror detection on an apt directory holding `apt` (path -> text)."""
    root = tmp_path / "apt"
    for rel, text in apt.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))
    environ = {k: v for k, v in os.environ.items() if k != "DOCKYARD_DEBIAN_MIRROR"}
    return subprocess.run(
        ["bash", str(SCRIPT), "mirror", str(root)],
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


SOURCES = {
    "deb822-release-after-security": {"sources.list.d/debian.sources": DEBIAN_12},
    "deb822-disabled-stanza-skipped": {
        "sources.list.d/debian.sources": "Types: deb\nURIs: http://old.example/debian\nSuites: bookworm\n"
        "Enabled: no\n\n" + textwrap.dedent(DEBIAN_12),
    },
    "one-line-with-options": {
        "sources.list": """\
            # deb http://commented.example/debian bookworm main
            deb-src http://src.example/debian bookworm main
            deb [arch=amd64 signed-by=/etc/debian.gpg] http://mirror.example/debian bookworm main
            """,
    },
    "vendor-lists-first": {
        "sources.list.d/a-vendor.list": "deb https://vendor.example/apt nodistro main\n",
        "sources.list.d/b-debian.list": "deb http://mirror.example/debian trixie main\n",
        "sources.list.d/x.sources.off": "Types: deb\nURIs: http://x.example/d\nSuites: bookworm\n",
    },
}


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_the_mirror_is_the_debian_archive_the_apt_sources_name(tmp_path: Path, name: str) -> None:
    done = _mirror(SOURCES[name], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "http://mirror.example/debian"


def test_dockyard_debian_mirror_overrides_the_apt_sources(tmp_path: Path) -> None:
    chosen = "http://chosen.example/debian"
    done = _mirror(SOURCES["one-line-with-options"], tmp_path, DOCKYARD_DEBIAN_MIRROR=chosen)
    assert done.returncode == 0 and done.stdout.strip() == chosen


def test_no_debian_archive_in_the_apt_sources_says_what_to_set(tmp_path: Path) -> None:
    done = _mirror({"sources.list.d/vendor.list": "deb https://vendor.example/apt nodistro main\n"}, tmp_path)
    assert done.returncode != 0 and done.stdout == ""
    assert "no Debian archive" in done.stderr and "DOCKYARD_DEBIAN_MIRROR" in done.stderr
