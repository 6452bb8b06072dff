"""The package phase: the source folder copied into a fresh workspace (pipeline.workspace), with the
symlinks left out reported on the timeline. A folder that holds Dockyard's data dir, or lies in it,
is refused: deploying it would copy (and could serve) the secret key and the admin token."""

from pathlib import Path
from typing import Any

from dockyard.pipeline import workspace
from dockyard.pipeline.execution import Execution
from dockyard.pipeline.failures import DeployFailure


def package(ex: Execution, snapshot: dict[str, Any], work: Path, summary: str, private: bool = True) -> None:
    """`private`: see workspace.copy_source."""
    ex.phase("package", summary)
    source = Path(snapshot["source"]["locator"])
    data = ex.svc.settings.data_dir.resolve()
    try:
        if source.resolve().is_relative_to(data):
            raise workspace.SourceRefused(f"{source} is inside Dockyard's data dir {data}")
        refused = workspace.copy_source(source, work, private)
    except workspace.SourceRefused as exc:
        raise DeployFailure(
            "package",
            "source-folder-refused",
            f"{exc}: it is not deployed, so the keys and tokens in the data dir stay private",
            "Deploy the app's own folder: one that neither holds Dockyard's data dir nor lies in it.",
        ) from exc
    for line in refused:
        ex.timeline.log("package", f"symlink {line}", level="warn")
