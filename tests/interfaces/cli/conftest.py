"""`plane`: one real `dockyard serve` per test module (a module may define its own with other settings)."""

from collections.abc import Iterator

import pytest
from control_plane_process import ControlPlane


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    cp = ControlPlane(tmp_path_factory.mktemp("plane"))
    cp.start()
    yield cp
    cp.stop()
