"""Build outputs kept per source: a deploy whose workspace, commands, dependencies and build-time
variables are those of an earlier successful build gets that build's outputs back (`dist/`,
`.next/`, collected static files: whatever the build wrote) instead of running it again — a
redeploy for a runtime variable, or of a source that did not change, never rebuilds.

The key is a digest of the workspace's files (what the deploy copied, not node_modules or a venv),
the install and build commands, the environment the dependencies were installed into, and the
build-time variables' names and values; the values never appear anywhere but in that digest, and
the timeline names the deployment whose build is reused rather than the key. The newest
KEPT_BUILDS entries stay.
"""

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from dockyard.pipeline.workspace import COMPLETE, IGNORED_NAMES

KEPT_BUILDS = 20
ORIGIN = ".dockyard-origin"  # the deployment whose build an entry holds
Listing = dict[str, tuple[int, int]]  # relative path -> (size, mtime in ns)


@dataclass(frozen=True)
class Inputs:
    """What a build's outputs depend on, besides the workspace's files."""

    install_command: str | None
    build_command: str
    dependencies: str | None  # the cached venv's or node_modules' own path: its key
    variables: dict[str, str]


def _files(root: Path) -> list[Path]:
    """The workspace's files and links, in a stable order, without dependency folders (a link is
    not followed: node_modules is one, to the shared install)."""
    found: list[Path] = []

    def walk(folder: str) -> None:
        with os.scandir(folder) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.name in IGNORED_NAMES:
                    continue
                if entry.is_symlink() or entry.is_file():
                    found.append(Path(entry.path))
                elif entry.is_dir():
                    walk(entry.path)

    walk(str(root))
    return found


def key(work: Path, inputs: Inputs) -> str:
    h = hashlib.sha256(b"build-1\0")
    for part in (inputs.install_command or "", inputs.build_command, inputs.dependencies or ""):
        h.update(part.encode() + b"\0")
    for name in sorted(inputs.variables):
        h.update(f"{name}={inputs.variables[name]}".encode() + b"\0")
    for path in _files(work):
        rel = path.relative_to(work).as_posix().encode()
        if path.is_symlink():
            h.update(b"L" + rel + b"\0" + os.readlink(path).encode() + b"\0")
            continue
        h.update(b"F" + rel + (b"x" if os.access(path, os.X_OK) else b"-") + b"\0")
        with open(path, "rb") as f:
            h.update(hashlib.file_digest(f, "sha256").digest())
    return h.hexdigest()[:32]


def listing(work: Path) -> Listing:
    """What is in the workspace now, to tell afterwards what the build wrote."""
    seen: Listing = {}
    for path in _files(work):
        if not path.is_symlink():
            st = path.stat()
            seen[path.relative_to(work).as_posix()] = (st.st_size, st.st_mtime_ns)
    return seen


def restore(cache: Path, build_key: str, work: Path) -> str | None:
    """Put a kept build's outputs into `work`; the deployment that built them, or None: no such build."""
    entry = cache / "builds" / build_key
    if not (entry / COMPLETE).is_file():
        return None
    shutil.copytree(entry / "files", work, symlinks=True, dirs_exist_ok=True)
    os.utime(entry)  # the newest used stay
    return (entry / ORIGIN).read_text().strip() or "an earlier deployment"


def keep(cache: Path, build_key: str, work: Path, before: Listing, deployment_id: str) -> int:
    """Keep what the build wrote or changed in `work` under `build_key`; how many files."""
    after = listing(work)
    written = sorted(rel for rel, seen in after.items() if before.get(rel) != seen)
    entry = cache / "builds" / build_key
    staging = entry.with_name(f".{build_key}.{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    for rel in written:
        (staging / "files" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(work / rel, staging / "files" / rel)
    (staging / "files").mkdir(parents=True, exist_ok=True)
    (staging / ORIGIN).write_text(deployment_id + "\n")
    (staging / COMPLETE).touch()
    shutil.rmtree(entry, ignore_errors=True)
    os.replace(staging, entry)
    _evict(cache / "builds")
    return len(written)


def _evict(builds: Path) -> None:
    entries = sorted(
        (p for p in builds.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in entries[KEPT_BUILDS:]:
        shutil.rmtree(old, ignore_errors=True)
