"""The container engine the tests get: build FROM the local busybox image, publish a port, serve a file."""

import contextlib
import io
import socket
import tarfile
import time
import uuid

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
