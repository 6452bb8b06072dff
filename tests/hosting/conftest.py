"""A real control plane for MCP hosting tests, with a short idle timeout for server runs."""

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp_helpers import McpApi

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "interfaces" / "cli"))
from control_plane_process import ControlPlane

IDLE_TIMEOUT_S = "2"


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    data_dir: Path = tmp_path_factory.mktemp("mcp-plane")
    cp = ControlPlane(data_dir, env={"DOCKYARD_MCP_IDLE_TIMEOUT_S": IDLE_TIMEOUT_S})
    cp.start()
    yield cp
    cp.stop()


@pytest.fixture(scope="module")
def mcp_api(plane: ControlPlane) -> McpApi:
    return McpApi(plane.url, (plane.data_dir / "admin.token").read_text().strip())
