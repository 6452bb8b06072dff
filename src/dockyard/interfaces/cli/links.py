"""Which resource a folder deploys to: remembered per control plane after the first `dockyard up`."""

import json
from pathlib import Path

from dockyard.config import Settings
from dockyard.secrets.files import private_dir, write_private


def _file() -> Path:
    return Settings.from_env().data_dir / "links.json"


def get(control_plane: str, folder: Path) -> dict[str, str] | None:
    try:
        return json.loads(_file().read_text()).get(f"{control_plane} {folder}")
    except (OSError, ValueError):
        return None


def put(control_plane: str, folder: Path, link: dict[str, str]) -> None:
    path = _file()
    private_dir(path.parent)
    try:
        links = json.loads(path.read_text())
    except (OSError, ValueError):
        links = {}
    links[f"{control_plane} {folder}"] = link
    write_private(path, json.dumps(links, indent=2))
