"""A real `dockyard serve` process for end-to-end tests: start, SIGKILL, start again, clean up."""

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import httpx

from dockyard.runtimes.host_process import HostProcessRuntime
from polling import poll

BIN = Path(sys.executable).parent
DEADLINE_S = 30.0
START_S = 90.0


class ControlPlane:
    def __init__(self, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "DOCKYARD_URL": self.url, "DOCKYARD_DATA_DIR": str(data_dir), **(env or {})}
        self.env.pop("DOCKYARD_TOKEN", None)
        self.proc: subprocess.Popen | None = None
        self.edge_port: int | None = None
        self.https_port: int | None = None

    def start(self) -> None:
        with open(self.data_dir / "serve.err", "ab") as err:
            self.proc = subprocess.Popen(
                [str(BIN / "dockyard"), "serve", "--port", str(self.port)],
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        try:  # a loaded machine can take a while to import and migrate
            poll(self._answers, "dockyard serve", START_S)
        except AssertionError:
            self.proc.kill()  # never left running behind a failed fixture
            self.proc.wait()
            raise

    def _answers(self) -> bool:
        """This serve process answers its health check (not some other process on the port)."""
        assert self.proc is not None and self.proc.poll() is None, (self.data_dir / "serve.err").read_text()[
            -2000:
        ]
        return httpx.get(self.url + "/api/health").json().get("status") == "ok"

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def cli_args(self, *args: str) -> list[str]:
        return [str(BIN / "dockyard"), *args]

    def cli(
        self, *args: str, timeout: float = 300, cwd: Path | None = None, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.cli_args(*args),
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=cwd,
            **({"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}),
        )

    def up(self, path: Path, *extra: str) -> dict[str, Any]:
        done = self.cli("up", str(path), "--json", *extra)
        assert done.stdout.strip(), done.stderr
        return {
            **json.loads(done.stdout.strip().splitlines()[-1]),
            "exit": done.returncode,
            "stderr": done.stderr,
        }

    def api(self, method: str, path: str, **kw: Any) -> Any:
        token = (self.data_dir / "admin.token").read_text().strip()
        resp = httpx.request(
            method, self.url + "/api" + path, headers={"Authorization": f"Bearer {token}"}, timeout=30, **kw
        )
        return resp.json()

    def local_server(self) -> str:
        return next(s["id"] for s in self.api("GET", "/servers")["items"] if s["providerKey"] == "local")

    def with_nginx_edge(self, http_port: int, https_port: int) -> None:
        """Give the local server an nginx edge on these ports (`stop` stops it)."""
        self.edge_port, self.https_port = http_port, https_port
        server = self.local_server()
        body = {"proxyKind": "nginx", "httpPort": http_port, "httpsPort": https_port}
        self.api("POST", f"/servers/{server}/edge-proxy/configuration", json=body)
        self.api("POST", f"/servers/{server}/edge-proxy/bootstrap", json={})
        assert self.api("GET", f"/servers/{server}")["server"]["edgeProxy"]["status"] == "ready"

    def stop(self) -> None:
        HostProcessRuntime(self.data_dir).shutdown_all()
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=15)
        if self.edge_port is not None:
            from dockyard.edge.sync import make

            edge = make(self.data_dir, {"kind": "nginx"})
            if edge is not None:
                edge.stop()

    def __enter__(self) -> "ControlPlane":
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def app(tmp_path: Path, name: str, files: dict[str, str]) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(textwrap.dedent(text))
    return folder


class Load:
    """Requests in a loop on fresh connections; records every failure and every body seen."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.url, self.failures, self.seen = url, [], set()
        self.headers = {"Connection": "close", **(headers or {})}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        with httpx.Client(headers=self.headers, timeout=10) as client:
            while not self._stop.is_set():
                try:
                    resp = client.get(self.url)
                    self.seen.add(resp.text)
                    if resp.status_code != 200:
                        self.failures.append(resp.status_code)
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))

    def __enter__(self) -> "Load":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
