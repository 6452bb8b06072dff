"""A real control plane per MCP hosting test module. Its server runs' idle timeout is the module's
IDLE_TIMEOUT_S (the product's default when a module sets none): only a module that tests idle
retirement makes it short, so "the run is still active" is never a race against it elsewhere."""

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp_helpers import McpApi

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "interfaces" / "cli"))
from control_plane_process import ControlPlane

DEFAULT_IDLE_TIMEOUT_S = "300"


@pytest.fixture(scope="module")
def plane(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    data_dir: Path = tmp_path_factory.mktemp("mcp-plane")
    idle = getattr(request.module, "IDLE_TIMEOUT_S", DEFAULT_IDLE_TIMEOUT_S)
    cp = ControlPlane(data_dir, env={"DOCKYARD_MCP_IDLE_TIMEOUT_S": idle})
    cp.start()
    yield cp
    cp.stop()


@pytest.fixture(scope="module")
def mcp_api(plane: ControlPlane) -> McpApi:
    return McpApi(plane.url, (plane.data_dir / "admin.token").read_text().strip())
