"""Real third-party apps deployed the way their own docs say, with `dockyard up` against a real
control plane: the app's console scripts, its build, release and data directory as a user relies on."""

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from control_plane_process import ControlPlane, app

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    cp = ControlPlane(tmp_path_factory.mktemp("plane"))
    cp.start()
    yield cp
    cp.stop()


def test_datasette_from_its_console_script_serves_a_sqlite_file(plane: ControlPlane, tmp_path: Path) -> None:
    folder = app(
        tmp_path,
        "datasette-site",
        {
            "requirements.txt": "datasette\n",
            "Procfile": "web: datasette serve data.db --host 127.0.0.1 --port $PORT\n",
        },
    )
    with sqlite3.connect(folder / "data.db") as db:
        db.execute("create table ships (name text)")
        db.execute("insert into ships values ('Endurance')")
    result = plane.up(folder)
    assert result["status"] == "succeeded", result
    page = httpx.get(result["url"] + "data/ships.json?_shape=array")
    assert page.status_code == 200 and [row["name"] for row in page.json()] == ["Endurance"]
    assert "Datasette" in httpx.get(result["url"]).text
