"""Which resource a folder deploys to: remembered per control plane after the first `dockyard up`."""

import json
from pathlib import Path

from dockyard.config import Settings


def _file() -> Path:
    return Settings.from_env().data_dir / "links.json"


def get(control_plane: str, folder: Path) -> dict[str, str] | None:
    try:
        return json.loads(_file().read_text()).get(f"{control_plane} {folder}")
    except (OSError, ValueError):
        return None


def put(control_plane: str, folder: Path, link: dict[str, str]) -> None:
    path = _file()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        links = json.loads(path.read_text())
    except (OSError, ValueError):
        links = {}
    links[f"{control_plane} {folder}"] = link
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(links, indent=2))
    tmp.replace(path)
