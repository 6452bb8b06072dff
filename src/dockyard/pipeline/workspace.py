"""Package and install: copy the source into a per-deployment workspace, then bring dependencies
from a content-addressed cache (a Python venv per requirements, node_modules per lockfile), so a
redeploy with unchanged dependencies installs nothing."""

import contextlib
import fcntl
import hashlib
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

from dockyard.pipeline import command_groups, interpreters, node_managers
from dockyard.pipeline.detect import python_version
from dockyard.pipeline.failures import DeployFailure

IGNORED_NAMES = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__", ".dockyard"})
NODE_LOCKS = ("package-lock.json", "pnpm-lock.yaml", "yarn.lock", "bun.lock", "bun.lockb")
Emit = Callable[[str], None]
CERT_VARIABLES = ("SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE")  # the first set names the bundle


class StepFailed(RuntimeError):
    """A user's install or build command failed; the message says which and how it ended."""


class StepCanceled(RuntimeError):
    """The deployment was canceled while a command ran; the command's process group was killed."""


CANCEL_POLL_S = 0.5
# Waits for one line on stdin (the go-ahead, once the group is recorded), then becomes the command, in
# the same process and group, with stdin from /dev/null. End of input instead (the control plane died
# before it): nothing runs.
GATE = ["/bin/sh", "-c", 'read -r _ && exec "$@" </dev/null', "dockyard-gate"]


def _watch(proc: subprocess.Popen, canceled: Callable[[], bool], done: threading.Event) -> None:
    """Kill the command's whole process group as soon as `canceled()` says so."""
    while not done.wait(CANCEL_POLL_S):
        if canceled():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            return


class SourceRefused(ValueError):
    """The folder cannot be copied: the workspace (the data dir) is inside it."""


def copy_source(source: Path, workspace: Path, private: bool = True) -> list[str]:
    """Copy the app folder into a fresh workspace, leaving out VCS and dependency folders.

    A symlink to something inside the folder stays a link (relative, so it points into the copy);
    one that leads outside it (`key -> /etc/passwd`), dangles or points into a folder left out is
    not copied. Returns one line per link left out, saying where it pointed. `private`: readable by
    the owner only; a container's build context keeps the files' modes instead, since an image's
    non-root USER must still read them (the data dir around it is private anyway).
    """
    root = source.resolve()
    if workspace.resolve().is_relative_to(root):
        raise SourceRefused(
            f"{source} contains Dockyard's data dir (the workspace {workspace} would be inside the "
            "folder it copies)"
        )
    if workspace.exists():
        shutil.rmtree(workspace)
    refused: list[str] = []
    _copy_tree(root, root, workspace, refused, private)
    return sorted(refused)


def _copy_tree(root: Path, folder: Path, dest: Path, refused: list[str], private: bool) -> None:
    dest.mkdir(mode=0o700, parents=True)
    # mkdir's mode is masked by the umask, which may also be narrower than the source's.
    os.chmod(dest, 0o700 if private else stat.S_IMODE(os.stat(folder).st_mode))
    with os.scandir(folder) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.name in IGNORED_NAMES:
                continue
            rel = Path(entry.path).relative_to(root).as_posix()
            if entry.is_symlink():
                problem = _link_problem(root, Path(entry.path))
                if problem:
                    refused.append(f"{rel} -> {os.readlink(entry.path)}: {problem}; not copied")
                else:
                    real = os.path.realpath(entry.path)
                    os.symlink(os.path.relpath(real, folder), dest / entry.name)
            elif entry.is_dir(follow_symlinks=False):
                _copy_tree(root, Path(entry.path), dest / entry.name, refused, private)
            elif entry.is_file(follow_symlinks=False):
                target = dest / entry.name
                shutil.copyfile(entry.path, target, follow_symlinks=False)
                st = entry.stat(follow_symlinks=False)
                mode = 0o600 | (st.st_mode & 0o100) if private else stat.S_IMODE(st.st_mode)
                os.chmod(target, mode)  # private: the owner's execute bit is kept
                os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))  # stable ETags across deploys
            else:
                refused.append(f"{rel}: not a regular file, folder or link; not copied")


def _link_problem(root: Path, link: Path) -> str | None:
    """Why the link at `link` cannot be kept in the copy, or None when it can."""
    real = Path(os.path.realpath(link))
    if not real.is_relative_to(root):
        return "it points outside the folder"
    if not real.exists():
        return "it points to nothing"
    if any(part in IGNORED_NAMES for part in real.relative_to(root).parts):
        return "it points into a folder that is not copied"
    return None


def run_streamed(
    command: list[str] | str,
    cwd: Path,
    env: dict[str, str],
    emit: Emit,
    what: str,
    canceled: Callable[[], bool] | None = None,
) -> None:
    """Run a command, handing each output line to `emit`; raise StepFailed on a non-zero exit and
    StepCanceled when `canceled()` turned true while it ran. Its process group is announced while it
    runs (command_groups), so a restart after a crash can stop what it left. The command itself
    starts only once its group is recorded (GATE): a control plane killed in between leaves nothing
    running that no one knows of."""
    argv = [*GATE, *(["/bin/sh", "-c", command] if isinstance(command, str) else command)]
    gate_r, gate_w = os.pipe()
    try:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=gate_r,
            text=True,
            errors="replace",
            start_new_session=True,
        )
    finally:
        os.close(gate_r)
    try:
        command_groups.started(proc.pid)
    finally:
        os.write(gate_w, b"go\n")
        os.close(gate_w)
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
        command_groups.ended()
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
    pip: bool = False,
) -> Path:
    """A venv with the app's requirements, shared by every deploy with the same requirements (or the
    same uv.lock, installed exactly as locked when uv is here). `pip`: the app's own commands call
    pip, so uv seeds it (and setuptools) into the venv — otherwise not: on a machine with nothing
    cached, seeding is a download of its own (0.4 s of a first deploy)."""
    uv = uv_binary()
    lock, project = workspace / "uv.lock", workspace / "pyproject.toml"
    locked = lock.is_file() and project.is_file()
    if locked and uv is None:
        emit("uv.lock is read by uv only, which is not installed: installing [project].dependencies")
    reqs = [
        r.strip() for r in python_requirements(workspace, spec) if r.strip() and not r.strip().startswith("#")
    ]
    base = app_python(workspace, emit)
    interpreter = f"{base.label} {base.path}".encode()
    seeded = b"pip" if pip or uv is None else b""  # `python -m venv` always has pip
    if locked and uv is not None:
        key = _digest(LAYOUT, interpreter, seeded, b"uv.lock", lock.read_bytes(), project.read_bytes())
    else:
        key = _digest(LAYOUT, interpreter, seeded, "\n".join(reqs).encode())
    final = cache / "python" / key

    def build(target: Path) -> None:
        python = str(target / "bin" / "python")
        if uv is None:
            emit(
                f"creating a Python environment for {len(reqs)} requirement(s) with pip (uv is not installed)"
            )
            run_streamed([base.path, "-m", "venv", str(target)], workspace, env, emit, "creating the venv")
            install = [python, "-m", "pip", "install", "--disable-pip-version-check", "-r"]
            _install(target, reqs, install, workspace, env, emit, "pip install", canceled)
            return
        step_env = {**uv_env(cache), **env}
        created = [uv, "venv", *(["--seed"] if pip else []), "--python", base.path, str(target)]
        seeding = "the app's commands call pip: it is seeded into the environment"
        if locked:
            emit("creating a Python environment from uv.lock with uv")
            if pip:
                emit(seeding)
            run_streamed(created, workspace, step_env, emit, "creating the venv")
            # exactly the locked versions; the app's own code stays source, dev dependencies stay out,
            # and a seeded pip stays (--inexact)
            sync = [uv, "sync", "--frozen", "--no-dev", "--no-install-project", "--inexact"]
            run_streamed(
                sync,
                workspace,
                {**step_env, "UV_PROJECT_ENVIRONMENT": str(target)},
                emit,
                "uv sync",
                canceled,
            )
            return
        emit(f"creating a Python environment for {len(reqs)} requirement(s) with uv")
        if pip:
            emit(seeding)
        run_streamed(created, workspace, step_env, emit, "creating the venv")
        install = [uv, "pip", "install", "--python", python, "-r"]
        _install(target, reqs, install, workspace, step_env, emit, "uv pip install", canceled)

    if not _build_in_place(final, build, emit, canceled):
        emit(f"dependencies unchanged: reusing environment {key}")
    return final


def app_python(workspace: Path, emit: Emit) -> python_version.Interpreter:
    """The interpreter the app asks for (.python-version, runtime.txt, requires-python), said on the
    timeline; DeployFailure when it is unreadable or this machine has none that fits."""
    try:
        pyproject = tomllib.loads(_text(workspace / "pyproject.toml") or "")
    except tomllib.TOMLDecodeError:
        pyproject = {}  # detection warned; pip or uv says what is wrong with it
    try:
        request = python_version.requested(
            _text(workspace / ".python-version"), _text(workspace / "runtime.txt"), pyproject
        )
    except python_version.UnreadableRequest as exc:
        raise DeployFailure(
            "install",
            "python-version-unreadable",
            str(exc),
            "Put a version such as 3.12 or 3.12.3 (or a specifier such as >=3.11) in that file.",
        ) from exc
    chosen, considered = interpreters.find(request)
    if chosen is None:
        assert request is not None  # with no request Dockyard's own Python is chosen
        raise DeployFailure(
            "install", "python-version-unavailable", *python_version.unavailable(request, considered)
        )
    why = f"as {request.origin} asks ({request.text})" if request else "(the app asks for no version)"
    emit(f"using Python {chosen.label} ({chosen.path}) {why}")
    return chosen


def _text(path: Path) -> str | None:
    return path.read_text(errors="replace") if path.is_file() else None


def _install(
    target: Path,
    reqs: list[str],
    command: list[str],
    workspace: Path,
    env: dict[str, str],
    emit: Emit,
    label: str,
    canceled: Callable[[], bool] | None,
) -> None:
    """`command` (ending in `-r`) with the requirements written beside the venv."""
    if reqs:
        req_file = target / "requirements.lock.txt"
        req_file.write_text("\n".join(reqs) + "\n")
        run_streamed([*command, str(req_file)], workspace, env, emit, label, canceled)


def uv_binary() -> str | None:
    """uv, installed beside Dockyard (a dependency) or on PATH; None: install with pip."""
    beside = Path(sys.executable).parent / "uv"
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else shutil.which("uv")


def uv_env(cache: Path) -> dict[str, str]:
    """One package cache for every deploy on this machine; uv never fetches an interpreter itself;
    the certificate bundle the machine gives pip (a proxy's CA) serves uv too. The app's own build
    settings come after these, so a UV_* variable there wins."""
    found = {"UV_CACHE_DIR": str(cache / "uv"), "UV_PYTHON_DOWNLOADS": "never", "UV_NO_PROGRESS": "1"}
    bundle = next((os.environ[n] for n in CERT_VARIABLES if os.environ.get(n)), None)
    return found | ({"SSL_CERT_FILE": bundle} if bundle else {})


def npm_env(cache: Path) -> dict[str, str]:
    """npm's (and pnpm's) settings for an install: one package cache under the data dir, used before
    the registry is asked again, and no audit or funding request on the way (each is a registry round
    trip). The app's own build settings come after these and win."""
    return {
        "npm_config_cache": str(cache / "npm"),
        "npm_config_prefer_offline": "true",
        "npm_config_audit": "false",
        "npm_config_fund": "false",
        "npm_config_update_notifier": "false",
    }


def node_modules(
    cache: Path,
    workspace: Path,
    install: str,
    env: dict[str, str],
    emit: Emit,
    canceled: Callable[[], bool] | None = None,
) -> None:
    """Install once per package.json + lockfile + install command; the workspace links the cached
    node_modules. The package manager the command names comes from PATH, or from corepack."""
    cache = cache.resolve()  # the install runs in the cache entry: its settings name absolute paths
    parts = [(workspace / "package.json").read_bytes()]
    locks = [name for name in NODE_LOCKS if (workspace / name).exists()]
    parts += [(workspace / name).read_bytes() for name in locks]
    key = _digest(LAYOUT, install.encode(), *parts)
    final = cache / "node" / key
    step_env = {**npm_env(cache), **node_managers.settings(install, cache), **env}

    def build(target: Path) -> None:
        target.mkdir()
        for name in ["package.json", *locks]:
            shutil.copy2(workspace / name, target / name)
        manager = _node_manager(cache, target, install, step_env, emit, canceled)
        run_streamed(install, target, manager.env(step_env), emit, f"`{install}`", canceled)
        (target / "node_modules").mkdir(exist_ok=True)
        manager.leave_in(target / "node_modules" / ".bin")

    if not _build_in_place(final, build, emit, canceled):
        emit(f"dependencies unchanged: reusing node_modules {key}")
    os.symlink(final / "node_modules", workspace / "node_modules")


def _node_manager(
    cache: Path,
    folder: Path,
    install: str,
    env: dict[str, str],
    emit: Emit,
    canceled: Callable[[], bool] | None,
) -> node_managers.Provided:
    """The manager `install` names, said on the timeline; through corepack, its version is fetched
    first (the one packageManager in `folder`'s package.json asks for), so a failure says so plainly."""
    manager = node_managers.provide(cache, folder, install, env.get("PATH", ""))
    if manager.shim is not None:
        said: list[str] = []
        try:
            run_streamed([str(manager.shim), "--version"], folder, env, said.append, "corepack", canceled)
        except StepFailed as exc:
            raise node_managers.not_fetched(manager, said) from exc
        emit(node_managers.fetched(manager, said))
    elif manager.name:
        emit(f"installing with {manager.name} ({manager.why}) {manager.where}")
    return manager
