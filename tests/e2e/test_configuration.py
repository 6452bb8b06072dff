"""Configuration and secrets end to end: the real `dockyard` CLI against a real `dockyard serve`, an app
that prints its environment as a real process.

The canary: a secret with a unique value reaches the app's environment and appears nowhere else —
not in an API answer, the timeline, runtime logs read through the platform, events, error messages,
the control plane's own log, or the bytes of the SQLite database.
"""

import json
import secrets
import shutil
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from interfaces.cli.control_plane_process import ControlPlane
from polling import poll

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "print-env"
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    cp = ControlPlane(tmp_path_factory.mktemp("config-plane"))
    cp.start()
    yield cp
    cp.stop()


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, f"exit {done.returncode}\nstdout: {done.stdout}\nstderr: {done.stderr}"
    return done.stdout


def refused(done: subprocess.CompletedProcess[str], code: str) -> str:
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert f"Error [{code}]" in done.stderr, done.stderr
    return done.stderr


class Seen:
    """Everything the platform showed: API answers, CLI output, error messages."""

    def __init__(self, plane: ControlPlane) -> None:
        self.plane, self.texts = plane, []

    def api(self, method: str, path: str, **kw: Any) -> Any:
        token = (self.plane.data_dir / "admin.token").read_text().strip()
        resp = httpx.request(
            method,
            self.plane.url + "/api" + path,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
            **kw,
        )
        self.texts.append(resp.text)
        return resp

    def cli(self, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        done = self.plane.cli(*args, **kw)
        self.texts += [done.stdout, done.stderr]
        return done


def instance_log(plane: ControlPlane, resource: str, deployment: str) -> str:
    """What the process itself wrote (its raw log file, not read through the platform)."""
    return (plane.data_dir / "workspaces" / resource / f"{deployment}.log").read_text()


def test_a_secret_reaches_the_process_and_nothing_else(plane: ControlPlane, tmp_path: Path) -> None:
    canary = "cnry-" + secrets.token_hex(12)
    folder = tmp_path / "print-env"
    shutil.copytree(EXAMPLE, folder)
    seen = Seen(plane)
    first = plane.up(folder, "--yes")
    assert first["status"] == "succeeded", first["stderr"]
    rid = first["resourceId"]

    # set through the CLI, in the folder (its link picks the resource) and by name
    ok(seen.cli("env", "set", "APP_SECRET", "--secret", "--stdin", cwd=folder, stdin=canary + "\n"))
    ok(seen.cli("env", "set", "GREETING=configured", "--resource", "print-env"))
    ok(seen.cli("env", "set", "PUBLIC_BUILD_MARK=mark-42", "--build-time", cwd=folder))
    env_file = tmp_path / ".env"
    env_file.write_text(f'# imported\nexport EXTRA_PASSWORD="{canary}-imported"\nFEATURE=on\n')
    imported = ok(seen.cli("env", "import", str(env_file), "--resource", rid))
    assert "EXTRA_PASSWORD (secret)" in imported
    seen.api(
        "POST",
        f"/resources/{rid}/runtime-profile",
        json={"runtimeProfile": {"buildCommand": "echo $PUBLIC_BUILD_MARK > built.txt"}},
    )

    # bad input carrying the canary: clear errors, never echoing it
    refused(seen.cli("env", "set", f"1BAD={canary}", cwd=folder), "variable_key_invalid")
    refused(
        seen.cli("env", "set", f"API_TOKEN={canary}", "--build-time", cwd=folder),
        "secret_build_time_forbidden",
    )
    bad_env = tmp_path / "bad.env"
    bad_env.write_text(f'OK=1\nBROKEN="{canary}\n')
    refused(seen.cli("env", "import", str(bad_env), cwd=folder), "env_import_parse_failed")
    assert (
        seen.api("POST", f"/resources/{rid}/secrets", json={"key": "APP_SECRET", "value": canary}).status_code
        == 409
    )

    second = plane.up(folder)
    assert second["status"] == "succeeded", second["stderr"]
    dep = second["deploymentId"]
    assert httpx.get(second["url"]).text == "hello from configured\n"
    printed = poll(lambda: "BUILT=" in (log := instance_log(plane, rid, dep)) and log, "the app's output")
    assert f"APP_SECRET={canary}\n" in printed, "the secret is in the process's environment"
    assert f"EXTRA_PASSWORD={canary}-imported\n" in printed
    assert "BUILT=mark-42\n" in printed, "build-time values reach the build step"
    assert "PUBLIC_BUILD_MARK=" not in printed, "build-time values stay out of the running app"

    # every surface a person or a tool reads
    listed = ok(seen.cli("env", "list", cwd=folder))
    assert "APP_SECRET" in listed and "****" in listed
    through_platform = ok(seen.cli("logs", rid, "--tail", "500"))
    assert "APP_SECRET=****" in through_platform
    env_id = seen.api("GET", f"/resources/{rid}").json()["resource"]["environmentId"]
    for path in (
        f"/resources/{rid}",
        f"/resources/{rid}/effective-config",
        f"/resources/{rid}/secrets",
        f"/resources/{rid}/secrets/APP_SECRET",
        f"/resources/{rid}/runtime-logs?tailLines=500",
        f"/environments/{env_id}",
        f"/environments/{env_id}/effective-precedence",
        "/environments",
        "/deployments",
        f"/deployments/{dep}",
        f"/deployments/{dep}?includeSnapshot=true",
        f"/deployments/{dep}/logs",
        f"/deployments/{dep}/events",
        "/resources",
    ):
        assert seen.api("GET", path).status_code == 200, path
    ok(seen.cli("deployments", "logs", dep))
    ok(seen.cli("deployments", "show", dep, "--json"))
    snapshot = seen.api("GET", f"/deployments/{dep}").json()["deployment"]["environmentSnapshot"]
    secret_entry = next(v for v in snapshot["variables"] if v["key"] == "APP_SECRET")
    assert secret_entry["value"] == "****" and secret_entry["secretRef"].startswith("sev_")

    # a key rotation re-encrypts, and the next deploy still gets the secret
    rotation = json.loads(ok(seen.cli("secrets", "rotate-key", "--json")))
    assert rotation["reencryptedCount"] >= 2

    leaks = [t for t in seen.texts if canary in t]
    assert not leaks, f"the canary leaked in {len(leaks)} answers, e.g. {leaks[0][:300]}"
    serve_log = plane.data_dir / "serve.err"
    assert canary not in (serve_log.read_text() if serve_log.exists() else "")
    sqlite3.connect(plane.data_dir / "dockyard.db").execute("PRAGMA wal_checkpoint(FULL)").close()
    for db_file in plane.data_dir.glob("dockyard.db*"):
        assert canary.encode() not in db_file.read_bytes(), db_file
    state = plane.data_dir / "runners" / rid / "state.json"
    if state.exists():  # the runner's copy of the environment is its owner's only
        assert stat.S_IMODE(state.stat().st_mode) == 0o600

    third = plane.up(folder)
    assert third["status"] == "succeeded", third["stderr"]
    log = poll(lambda: "BUILT=" in (out := instance_log(plane, rid, third["deploymentId"])) and out, "output")
    assert f"APP_SECRET={canary}\n" in log


def test_a_change_waits_for_the_next_deploy(plane: ControlPlane, tmp_path: Path) -> None:
    folder = tmp_path / "snapshots"
    shutil.copytree(EXAMPLE, folder)
    ok(plane.cli("up", str(folder), "--yes", "--json"))
    ok(plane.cli("env", "set", "GREETING=first", cwd=folder))
    first = plane.up(folder)
    assert httpx.get(first["url"]).text == "hello from first\n"
    before = plane.api("GET", f"/deployments/{first['deploymentId']}")["deployment"]["environmentSnapshot"]

    ok(plane.cli("env", "set", "GREETING=second", cwd=folder))
    assert httpx.get(first["url"]).text == "hello from first\n", "the running deployment keeps its values"
    after = plane.api("GET", f"/deployments/{first['deploymentId']}")["deployment"]["environmentSnapshot"]
    assert after == before, "its snapshot never changes"

    second = plane.up(folder)
    assert httpx.get(second["url"]).text == "hello from second\n", "the next deploy uses the current values"
    ok(plane.cli("env", "unset", "GREETING", cwd=folder))
    assert "GREETING" not in ok(plane.cli("env", "list", cwd=folder))
