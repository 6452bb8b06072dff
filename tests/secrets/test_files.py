"""The data dir is its owner's only: after real deploys nothing in it is open to group or others, and
an older, open data dir is tightened when the control plane starts."""

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dockyard.config import Settings
from dockyard.startup import prepare

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "interfaces" / "cli"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hosting"))
from control_plane_process import ControlPlane, app
from mcp_helpers import ECHO_STDIO, McpApi

SECRET = "sk-env-1b9f4e7c2a6d"


def open_to_others(root: Path) -> list[str]:
    """Every file or folder under `root` (root included) that group or others may read, write or enter."""
    found = []
    for path in [root, *root.rglob("*")]:
        try:
            st = path.lstat()
        except FileNotFoundError:  # gone meanwhile (a temp file)
            continue
        if not stat.S_ISLNK(st.st_mode) and stat.S_IMODE(st.st_mode) & 0o077:
            found.append(f"{path.relative_to(root)} {oct(stat.S_IMODE(st.st_mode))}")
    return found


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    data_dir = tmp_path_factory.mktemp("private") / "data"  # made by the control plane itself
    cp = ControlPlane(data_dir)
    data_dir.mkdir(mode=0o755)
    os.chmod(data_dir, 0o755)  # as an older Dockyard left it
    cp.start()
    yield cp
    cp.stop()


@pytest.mark.e2e
def test_after_deploys_nothing_in_the_data_dir_is_open_to_group_or_others(
    plane: ControlPlane, tmp_path: Path
) -> None:
    site = plane.up(app(tmp_path, "private-site", {"index.html": "private"}))
    procfile = "web: python3 -m http.server --bind 127.0.0.1 $PORT\n"  # an access log line per request
    talker = plane.up(app(tmp_path, "talker", {"Procfile": procfile, "notes.txt": "hi"}))
    assert site["status"] == talker["status"] == "succeeded", talker["stderr"]
    assert httpx.get(site["url"]).text == "private" and httpx.get(talker["url"]).status_code == 200
    mcp = McpApi(plane.url, (plane.data_dir / "admin.token").read_text().strip())
    version = mcp.deploy_version({**ECHO_STDIO, "env": {"ECHO_PREFIX": SECRET}}, name="private env")
    assert version["status"] == "deployment_succeeded", version["deployment"]
    assert (plane.data_dir / "runners").is_dir() and list(plane.data_dir.glob("workspaces/*/*.log"))
    assert open_to_others(plane.data_dir) == []
    stored = b"".join(p.read_bytes() for p in plane.data_dir.glob("dockyard.db*"))
    assert stored and SECRET.encode() not in stored


def test_an_open_data_dir_is_tightened_with_all_it_holds_at_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "workspaces" / "res_1").mkdir(parents=True)
    (data / "workspaces" / "res_1" / "app.log").write_text("app output")
    (data / "workspaces" / "res_1" / "run.sh").write_text("#!/bin/sh\n")
    (data / "link").symlink_to("/etc/hostname")
    for path, mode in [
        (data, 0o755),
        (data / "workspaces", 0o775),
        (data / "workspaces" / "res_1", 0o755),
        (data / "workspaces" / "res_1" / "app.log", 0o644),
        (data / "workspaces" / "res_1" / "run.sh", 0o755),
    ]:
        os.chmod(path, mode)
    db = prepare(Settings(data_dir=data, database_url=f"sqlite:///{data / 'dockyard.db'}"))
    db.engine.dispose()
    assert open_to_others(data) == []
    assert stat.S_IMODE((data / "workspaces" / "res_1" / "run.sh").stat().st_mode) == 0o700  # still runs
    assert stat.S_IMODE(os.stat("/etc/hostname").st_mode) & 0o004  # a link's target is not touched
