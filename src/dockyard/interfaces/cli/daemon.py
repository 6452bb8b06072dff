"""Start `dockyard serve` in the background when no control plane answers."""

import os
import subprocess
import sys
import time
from urllib.parse import urlparse

import httpx

from dockyard.config import Settings
from dockyard.interfaces.cli.client import base_url, http_client
from dockyard.secrets.files import open_private_log, private_dir

STARTUP_DEADLINE_S = 30.0


def answers(url: str) -> bool:
    try:
        return http_client(url).get(url + "/api/health", timeout=1.0).status_code == 200
    except httpx.TransportError:
        return False


def ensure_running() -> tuple[str, bool]:
    """Return (url, started_now). Starts a detached `dockyard serve` that outlives this command."""
    url = base_url()
    if answers(url):
        return url, False
    parsed = urlparse(url)
    if parsed.hostname not in ("127.0.0.1", "localhost"):
        raise RuntimeError(f"No control plane answers at {url}, and it is not on this machine to start.")
    settings = Settings.from_env()
    private_dir(settings.data_dir)
    log = open_private_log(settings.data_dir / "serve.log")  # handed to the child process
    cmd = [
        sys.executable,
        "-m",
        "dockyard.server",
        "--host",
        parsed.hostname,
        "--port",
        str(parsed.port or 80),
    ]
    proc = subprocess.Popen(
        cmd,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        env=os.environ.copy(),
    )
    os.close(log)  # the child has its own copy
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    while time.monotonic() < deadline:
        if answers(url):
            return url, True
        if proc.poll() is not None:
            raise RuntimeError(
                f"dockyard serve exited with {proc.returncode}; see {settings.data_dir / 'serve.log'}"
            )
        time.sleep(0.1)
    raise RuntimeError(f"dockyard serve did not answer within {STARTUP_DEADLINE_S:.0f}s; see serve.log")
