"""Package and install: copy the source into a per-deployment workspace, then bring dependencies
from a content-addressed cache (a Python venv per requirements, node_modules per lockfile), so a
redeploy with unchanged dependencies installs nothing."""

import contextlib
import fcntl
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

IGNORED = shutil.ignore_patterns(".git", "node_modules", ".venv", "venv", "__pycache__", ".dockyard")
NODE_LOCKS = ("package-lock.json", "pnpm-lock.yaml", "yarn.lock", "bun.lock", "bun.lockb")
Emit = Callable[[str], None]


class StepFailed(RuntimeError):
    """A user's install or build command failed; the message says which and how it ended."""


class StepCanceled(RuntimeError):
    """The deployment was canceled while a command ran; the command's process group was killed."""


CANCEL_POLL_S = 0.5


def _watch(proc: subprocess.Popen, canceled: Callable[[], bool], done: threading.Event) -> None:
    """Kill the command's whole process group as soon as `canceled()` says so."""
    while not done.wait(CANCEL_POLL_S):
        if canceled():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            return


def copy_source(source: Path, workspace: Path) -> None:
    if workspace.exists():
        shutil.rmtree(workspace)
    shutil.copytree(source, workspace, ignore=IGNORED, symlinks=True)


def run_streamed(
    command: list[str] | str,
    cwd: Path,
    env: dict[str, str],
    emit: Emit,
    what: str,
    canceled: Callable[[], bool] | None = None,
) -> None:
    """Run a command, handing each output line to `emit`; raise StepFailed on a non-zero exit and
    StepCanceled when `canceled()` turned true while it ran."""
    proc = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        shell=isinstance(command, str),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    assert proc.stdout is not None
    done = threading.Event()
    if canceled is not None:
        threading.Thread(target=_watch, args=(proc, canceled, done), daemon=True).start()
    tail: list[str] = []
    try:
        for line in proc.stdout:
            line = line.rstrip("\n")
            emit(line)
            tail = [*tail[-19:], line]
        code = proc.wait()
    finally:
        done.set()
    if canceled is not None and code != 0 and canceled():
        raise StepCanceled(f"{what} was stopped: the deployment was canceled")
    if code != 0:
        raise StepFailed(f"{what} failed with exit code {code}" + (f": {tail[-1]}" if tail else ""))


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()[:24]


COMPLETE = ".dockyard-complete"  # written last: a cache entry without it is a build that did not finish
LAYOUT = b"in-place-1"  # part of every cache key: entries of an older layout are never reused


@contextlib.contextmanager
def _locked(path: Path, emit: Emit, canceled: Callable[[], bool] | None) -> Iterator[None]:
    """Hold an exclusive lock on `path` (released by the kernel when a crashed holder dies),
    waiting for another deploy that holds it; StepCanceled when the deployment is canceled meanwhile."""
    with open(path, "a") as handle:
        waiting = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not waiting:
                    emit("waiting for another deploy that is installing the same dependencies")
                    waiting = True
                if canceled is not None and canceled():
                    raise StepCanceled(
                        "the deployment was canceled while it waited for the install"
                    ) from None
                time.sleep(CANCEL_POLL_S)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build_in_place(
    final: Path, build: Callable[[Path], None], emit: Emit, canceled: Callable[[], bool] | None
) -> bool:
    """Build `final` at the path it is used from (a venv's scripts name their own interpreter by its
    absolute path, so a venv must never be renamed), once: deploys needing the same entry take turns
    on a lock file, and the completion marker says the entry is whole. True when this call built it."""
    if (final / COMPLETE).is_file():
        return False
    final.parent.mkdir(parents=True, exist_ok=True)
    with _locked(final.with_name(f"{final.name}.lock"), emit, canceled):
        if (final / COMPLETE).is_file():
            return False  # another deploy built it while this one waited
        if final.exists():
            shutil.rmtree(final)  # left by a build that did not finish: nothing uses it
        try:
            build(final)
        except BaseException:
            shutil.rmtree(final, ignore_errors=True)
            raise
        (final / COMPLETE).touch()
    return True


def python_requirements(workspace: Path, spec: str | None) -> list[str]:
    if spec == "pyproject.toml":
        data = tomllib.loads((workspace / "pyproject.toml").read_text())
        return list(data.get("project", {}).get("dependencies", []))
    return _requirement_lines(workspace, workspace / (spec or "requirements.txt"), depth=0)


def _requirement_lines(workspace: Path, path: Path, depth: int) -> list[str]:
    """The file's lines with `-r other.txt` includes expanded in place (the venv is built from a
    copy of the lines elsewhere, where a relative include would not resolve)."""
    if depth > 5 or not path.is_file() or not path.resolve().is_relative_to(workspace.resolve()):
        return []
    out: list[str] = []
    for line in path.read_text().splitlines():
        parts = line.strip().split(maxsplit=1)
        if len(parts) == 2 and parts[0] in ("-r", "--requirement"):
            out += _requirement_lines(workspace, path.parent / parts[1], depth + 1)
        else:
            out.append(line)
    return out


def python_venv(
    cache: Path,
    workspace: Path,
    spec: str | None,
    env: dict[str, str],
    emit: Emit,
    canceled: Callable[[], bool] | None = None,
) -> Path:
    """A venv with the app's requirements, shared by every deploy with the same requirements."""
    reqs = [
        r.strip() for r in python_requirements(workspace, spec) if r.strip() and not r.strip().startswith("#")
    ]
    key = _digest(LAYOUT, sys.version.encode(), "\n".join(reqs).encode())
    final = cache / "python" / key

    def build(target: Path) -> None:
        emit(f"creating a Python environment for {len(reqs)} requirement(s)")
        run_streamed([sys.executable, "-m", "venv", str(target)], workspace, env, emit, "creating the venv")
        if reqs:
            req_file = target / "requirements.lock.txt"
            req_file.write_text("\n".join(reqs) + "\n")
            run_streamed(
                [
                    str(target / "bin" / "python"),
                    "-m",
                    "pip",
                    "install",
                    "--disable-pip-version-check",
                    "-r",
                    str(req_file),
                ],
                workspace,
                env,
                emit,
                "pip install",
                canceled,
            )

    if not _build_in_place(final, build, emit, canceled):
        emit(f"dependencies unchanged: reusing environment {key}")
    return final


def node_modules(
    cache: Path,
    workspace: Path,
    install: str,
    env: dict[str, str],
    emit: Emit,
    canceled: Callable[[], bool] | None = None,
) -> None:
    """Install once per package.json + lockfile; the workspace links the cached node_modules."""
    parts = [(workspace / "package.json").read_bytes()]
    locks = [name for name in NODE_LOCKS if (workspace / name).exists()]
    parts += [(workspace / name).read_bytes() for name in locks]
    key = _digest(LAYOUT, install.encode(), *parts)
    final = cache / "node" / key

    def build(target: Path) -> None:
        target.mkdir()
        for name in ["package.json", *locks]:
            shutil.copy2(workspace / name, target / name)
        run_streamed(install, target, env, emit, f"`{install}`", canceled)
        (target / "node_modules").mkdir(exist_ok=True)

    if not _build_in_place(final, build, emit, canceled):
        emit(f"dependencies unchanged: reusing node_modules {key}")
    os.symlink(final / "node_modules", workspace / "node_modules")
