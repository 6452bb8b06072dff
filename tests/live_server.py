"""A real `dockyard serve` process for tests, on a free loopback port with its own data dir."""

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from dockyard.runtimes.host_process import HostProcessRuntime
from polling import poll

BIN = Path(sys.executable).parent
DOCKYARD = BIN / "dockyard"
READY_DEADLINE_S = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """`dockyard serve` as a subprocess on a free port, with its own data dir (SQLite)."""

    def __init__(self, data_dir: Path, cache_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DOCKYARD_URL": self.url,
            "DOCKYARD_DATA_DIR": str(data_dir),
            "XDG_CACHE_HOME": str(cache_dir),  # the CLI's manifest cache stays out of $HOME
            "COLUMNS": "200",  # rich wraps at the terminal width; keep tables on one line per row
            "NO_COLOR": "1",
        }
        for leaked in ("DOCKYARD_TOKEN", "DOCKYARD_DATABASE_URL"):
            self.env.pop(leaked, None)
        self.log = data_dir / "serve.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.token = ""

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [str(DOCKYARD), "serve", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

        def ready() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"dockyard serve exited {self.proc.returncode}:\n{self.log.read_text()}")
            return httpx.get(self.url + "/api/health", timeout=2).status_code == 200

        poll(ready, f"dockyard serve on {self.url} (log: {self.log})")
        self.token = (self.data_dir / "admin.token").read_text().strip()

    def cli(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Run the real `dockyard` binary against this server; returns exit code, stdout, stderr."""
        return subprocess.run(
            [str(DOCKYARD), *args],
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def cli_json(self, *args: str) -> Any:
        done = self.cli(*args, "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def stop(self) -> None:
        HostProcessRuntime(self.data_dir).shutdown_all()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
