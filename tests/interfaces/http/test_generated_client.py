"""A Python client generated from the published OpenAPI (openapi-python-client) drives a real
`dockyard serve`: create, list, show, archive, delete, and a typed error for what is gone.

The generator lives in its own venv (.venv-tools/): its pins (httpx, typer) differ from Dockyard's,
and a generated client is what a user runs outside Dockyard's environment anyway.
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

GENERATOR = "openapi-python-client>=0.29,<0.30"
TOOLS = Path(__file__).resolve().parents[3] / ".venv-tools" / "openapi-python-client"

ROUND_TRIP = """
import json, sys
from dockyard_api_client import AuthenticatedClient
from dockyard_api_client.api.projects import (
    projects_archive, projects_create, projects_delete, projects_list, projects_show,
)
from dockyard_api_client.models import (
    ApiError, ArchiveProjectBody, CreateProjectBody, DeleteProjectBody, ProjectConfirmation,
)

client = AuthenticatedClient(base_url=sys.argv[1], token=sys.argv[2])
made = projects_create.sync(client=client, body=CreateProjectBody(name="generated-client"))
listed = projects_list.sync(client=client)
shown = projects_show.sync(made.id, client=client)
projects_archive.sync(made.id, client=client, body=ArchiveProjectBody())
confirm = DeleteProjectBody(confirmation=ProjectConfirmation(project_id=made.id))
deleted = projects_delete.sync(made.id, client=client, body=confirm)
gone = projects_show.sync(made.id, client=client)
print(json.dumps({
    "made": made.id,
    "listed": [p.id for p in listed.items],
    "shown": [shown.id, shown.name],
    "deleted": deleted.id,
    "gone": [type(gone).__name__, gone.error.code if isinstance(gone, ApiError) else None],
}))
"""


@pytest.fixture(scope="session")
def generator_bin() -> Path:
    """The generator's venv, made once per checkout (pip reads the machine's package mirrors)."""
    marker = TOOLS / ".installed"
    if not marker.exists() or marker.read_text() != GENERATOR:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(TOOLS)], check=True, timeout=300)
        pip = [str(TOOLS / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", GENERATOR]
        subprocess.run(pip, check=True, timeout=900)
        marker.write_text(GENERATOR)
    return TOOLS / "bin"


@pytest.mark.e2e
def test_a_generated_client_round_trips_a_project(
    live_server: Any, generator_bin: Path, tmp_path: Path
) -> None:
    spec = tmp_path / "openapi.json"
    spec.write_text(httpx.get(f"{live_server.url}/api/openapi.json").text)
    config = tmp_path / "config.yml"
    config.write_text("package_name_override: dockyard_api_client\n")
    package = tmp_path / "client" / "dockyard_api_client"
    generate = [str(generator_bin / "openapi-python-client"), "generate", "--path", str(spec)]
    generate += ["--output-path", str(package), "--meta", "none", "--config", str(config)]
    done = subprocess.run(generate, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    # Every schema became a model: the generator reports what it could not read, and drops it.
    assert "Unable to" not in done.stdout + done.stderr, done.stdout + done.stderr
    script = package.parent / "round_trip.py"  # beside the package: its folder is on sys.path
    script.write_text(ROUND_TRIP)
    run = subprocess.run(
        [str(generator_bin / "python"), str(script), live_server.url, live_server.token],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    seen = json.loads(run.stdout)
    assert seen["made"] in seen["listed"] and seen["shown"] == [seen["made"], "generated-client"]
    assert seen["deleted"] == seen["made"]
    assert seen["gone"] == ["ApiError", "project_not_found"]
