"""Files that may hold secret values (keys, a process's environment, app output): readable by their
owner only. The data dir is 0700 and what is in it has no group/other bits."""

import contextlib
import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077


def private_umask() -> None:
    """Everything this process (and its children) creates is its owner's only: set at the start of
    `dockyard serve` and of each process runner."""
    os.umask(PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    """`path`, created 0700 if missing. One found open to others (made before Dockyard kept its data
    dir private) is tightened with all it holds: folders 0700, files without group/other bits."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        for folder, _, names in os.walk(path):
            for name in names:
                _tighten(Path(folder) / name)
            _tighten(Path(folder), folder=True)  # the root last: a walk cut short is redone next time
    return path


def _tighten(path: Path, folder: bool = False) -> None:
    with contextlib.suppress(OSError):  # gone meanwhile, or another user's (an edge's temp dir)
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode) or not stat.S_IMODE(st.st_mode) & 0o077:
            return
        os.chmod(path, 0o700 if folder else stat.S_IMODE(st.st_mode) & 0o700)


def write_private(path: Path, text: str) -> None:
    """Replace `path` atomically with `text`, mode 0600 from the first byte."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def open_private_log(path: Path) -> int:
    """A file descriptor appending to `path`, created 0600 (a log handed to a child process)."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
