"""`dockyard serve --no-bootstrap-admin` (or DOCKYARD_BOOTSTRAP=manual): the first start creates no
admin and no token; POST /api/bootstrap/auth/first-admin does, as the reference describes."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from live_server import free_port
from polling import poll

pytestmark = pytest.mark.e2e
DOCKYARD = Path(sys.executable).parent / "dockyard"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKYARD_")}
    return {**env, "DOCKYARD_PROBE_ALLOW": os.environ.get("DOCKYARD_PROBE_ALLOW", ""), **extra}


@pytest.mark.parametrize("how", ["flag", "setting"])
def test_a_manual_first_start_waits_for_the_first_admin(tmp_path: Path, how: str) -> None:
    data, port = tmp_path / "data", free_port()
    argv = [str(DOCKYARD), "serve", "--port", str(port), "--data-dir", str(data)]
    extra = {"DOCKYARD_BOOTSTRAP": "manual"} if how == "setting" else {}
    with open(tmp_path / "serve.log", "wb") as log:
        proc = subprocess.Popen(
            argv + (["--no-bootstrap-admin"] if how == "flag" else []),
            env=_env(**extra),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}/api"
    try:
        status = poll(lambda: httpx.get(f"{base}/bootstrap/auth/status").json(), "serve to answer")
        assert status["bootstrapRequired"] is True and not (data / "admin.token").exists()
        assert httpx.get(f"{base}/projects").status_code == 401
        made = httpx.post(f"{base}/bootstrap/auth/first-admin", json={"email": "ops@example.com"})
        assert made.status_code == 201 and made.json()["email"] == "ops@example.com"
        token = (data / "admin.token").read_text().strip()
        assert httpx.get(f"{base}/projects", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        assert "first-admin" in (tmp_path / "serve.log").read_text()  # what serve said at start
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)


def test_a_bootstrap_setting_that_is_neither_mode_stops_serve_saying_so(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(DOCKYARD), "serve", "--port", str(free_port()), "--data-dir", str(tmp_path / "data")],
        env=_env(DOCKYARD_BOOTSTRAP="later"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "DOCKYARD_BOOTSTRAP='later' is not auto or manual" in done.stdout + done.stderr
