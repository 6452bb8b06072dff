"""Packaging and dependency caches, with real subprocesses."""

import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from dockyard.pipeline import command_groups, interpreters, workspace
from dockyard.pipeline.app_env import with_app_tools
from dockyard.pipeline.failures import DeployFailure

ENV = {"PATH": os.environ["PATH"]}
PY = ".".join(map(str, sys.version_info[:3]))


def test_copy_leaves_out_vcs_and_dependency_folders(tmp_path: Path) -> None:
    src = tmp_path / "src"
    for rel in [
        "app.py",
        ".git/HEAD",
        "node_modules/x/index.js",
        ".venv/bin/python",
        "pkg/__pycache__/a.pyc",
    ]:
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text("x")
    workspace.copy_source(src, tmp_path / "ws")
    copied = sorted(str(p.relative_to(tmp_path / "ws")) for p in (tmp_path / "ws").rglob("*") if p.is_file())
    assert copied == ["app.py"]


def test_symlinks_that_leave_the_folder_are_not_copied_and_each_is_reported(tmp_path: Path) -> None:
    outside = tmp_path / "data" / "secret.key"
    outside.parent.mkdir()
    outside.write_text("the key")
    src = tmp_path / "src"
    (src / "pages").mkdir(parents=True)
    (src / "index.html").write_text("home")
    (src / "passwd").symlink_to("/etc/passwd")
    (src / "key").symlink_to(outside)
    (src / "up").symlink_to("../data")
    (src / "gone").symlink_to(src / "nothing-here")
    (src / "home.html").symlink_to("index.html")  # inside: kept
    (src / "pages" / "again.html").symlink_to(src / "index.html")  # absolute, but inside: kept
    refused = workspace.copy_source(src, tmp_path / "ws")
    ws = tmp_path / "ws"
    assert sorted(p.name for p in ws.iterdir()) == ["home.html", "index.html", "pages"]
    assert (ws / "home.html").read_text() == "home" and (ws / "pages" / "again.html").read_text() == "home"
    for kept in (ws / "home.html", ws / "pages" / "again.html"):  # they point into the copy itself
        assert kept.resolve().is_relative_to(ws.resolve())
    assert [r.split(" ")[0] for r in refused] == ["gone", "key", "passwd", "up"]
    assert "/etc/passwd" in next(r for r in refused if r.startswith("passwd"))


def test_copied_files_and_folders_are_private_to_their_owner(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "bin").mkdir(parents=True)
    (src / "index.html").write_text("home")
    (src / "bin" / "run").write_text("#!/bin/sh\n")
    (src / "bin" / "run").chmod(0o755)
    workspace.copy_source(src, tmp_path / "ws")
    modes = {p.name: p.stat().st_mode & 0o777 for p in [tmp_path / "ws", *(tmp_path / "ws").rglob("*")]}
    assert modes == {"ws": 0o700, "bin": 0o700, "index.html": 0o600, "run": 0o700}


def test_a_source_folder_holding_the_workspace_is_refused(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("home")
    with pytest.raises(workspace.SourceRefused, match="contains"):
        workspace.copy_source(tmp_path, tmp_path / "data" / "workspaces" / "res" / "dep")
    assert not (tmp_path / "data").exists()


def test_failing_command_reports_its_exit_code_and_last_line(tmp_path: Path) -> None:
    lines: list[str] = []
    with pytest.raises(workspace.StepFailed) as failure:
        workspace.run_streamed(
            "echo compiling; echo 'error: missing semicolon' >&2; exit 3",
            tmp_path,
            ENV,
            lines.append,
            "build",
        )
    assert "build failed with exit code 3: error: missing semicolon" in str(failure.value)
    assert lines == ["compiling", "error: missing semicolon"]


def test_a_command_starts_only_once_its_group_is_recorded(tmp_path: Path) -> None:
    """A control plane killed between starting a build and recording its group used to leave the
    build running for good: the command now waits for the record."""
    marker = tmp_path / "ran"
    seen: list[bool] = []

    def slow_store(group: dict | None) -> None:
        if group is not None:
            time.sleep(0.3)  # a store write that takes its time (a busy SQLite), not a synchronisation
            seen.append(marker.exists())

    token = command_groups._listener.set(slow_store)
    try:
        workspace.run_streamed(f"touch {marker}", tmp_path, ENV, lambda _: None, "touch")
    finally:
        command_groups._listener.reset(token)
    assert seen == [False] and marker.exists()


def test_a_command_whose_go_ahead_never_comes_does_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    done = subprocess.run([*workspace.GATE, "touch", str(marker)], stdin=subprocess.DEVNULL, env=ENV)
    assert done.returncode != 0 and not marker.exists()


def test_python_environment_is_built_once_per_requirements(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text("# nothing to install\n")
    first: list[str] = []
    venv = workspace.python_venv(tmp_path / "cache", app, "requirements.txt", ENV, first.append)
    assert (venv / "bin" / "python").exists()
    again: list[str] = []
    assert workspace.python_venv(tmp_path / "cache", app, "requirements.txt", ENV, again.append) == venv
    assert again[1:] == [f"dependencies unchanged: reusing environment {venv.name}"]


def test_uv_builds_the_environment_and_the_timeline_says_so(tmp_path: Path) -> None:
    said: list[str] = []
    app = _app(tmp_path, "app")
    venv = workspace.python_venv(tmp_path / "cache", app, "requirements.txt", ENV, said.append)
    assert said[0].startswith(f"using Python {PY} ({sys.executable}) (the app asks for no version)")
    assert said[1] == "creating a Python environment for 0 requirement(s) with uv"
    assert (tmp_path / "cache" / "uv").is_dir()  # one package cache under the data dir, not $HOME
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "--version"], capture_output=True, env=ENV
    )
    assert done.returncode != 0, "no command of the app calls pip: nothing seeded (a download when cold)"


def test_an_app_whose_commands_call_pip_gets_it_in_its_own_environment(tmp_path: Path) -> None:
    app = _app(tmp_path, "app")
    plain = workspace.python_venv(tmp_path / "cache", app, "requirements.txt", ENV, print)
    said: list[str] = []
    venv = workspace.python_venv(tmp_path / "cache", app, "requirements.txt", ENV, said.append, pip=True)
    assert venv != plain, "the same requirements without pip are another environment"
    assert "the app's commands call pip: it is seeded into the environment" in said
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "--version"], capture_output=True, env=ENV
    )
    assert done.returncode == 0


PROJECT = '[project]\nname = "shop"\nversion = "0.1.0"\nrequires-python = ">=3.11"\ndependencies = []\n'


def _locked_app(tmp_path: Path, name: str) -> Path:
    """A project with a uv.lock written by uv itself (no dependencies: no network needed)."""
    app = tmp_path / name
    app.mkdir()
    (app / "pyproject.toml").write_text(PROJECT)
    uv = workspace.uv_binary()
    assert uv is not None
    lock_env = {**ENV, "UV_CACHE_DIR": str(tmp_path / "lock-cache"), "UV_OFFLINE": "1"}
    subprocess.run(
        [uv, "lock", "--python", sys.executable], cwd=app, env=lock_env, check=True, capture_output=True
    )
    return app


def test_a_uv_lock_is_synced_exactly_and_keys_the_cache(tmp_path: Path) -> None:
    app = _locked_app(tmp_path, "app")
    said: list[str] = []
    venv = workspace.python_venv(tmp_path / "cache", app, "pyproject.toml", ENV, said.append, pip=True)
    assert said[1] == "creating a Python environment from uv.lock with uv"
    assert (venv / "bin" / "pip").exists()  # the sync left the seeded pip in place
    twin = _locked_app(tmp_path, "twin")  # the same lock elsewhere: the same environment, no install
    again: list[str] = []
    assert (
        workspace.python_venv(tmp_path / "cache", twin, "pyproject.toml", ENV, again.append, pip=True) == venv
    )
    assert again[1:] == [f"dependencies unchanged: reusing environment {venv.name}"]


def test_without_uv_a_uv_lock_falls_back_to_the_project_dependencies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _locked_app(tmp_path, "app")
    monkeypatch.setattr(workspace, "uv_binary", lambda: None)
    said: list[str] = []
    workspace.python_venv(tmp_path / "cache", app, "pyproject.toml", ENV, said.append)
    assert said[0].startswith("uv.lock is read by uv only")


def test_without_uv_pip_builds_it_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workspace, "uv_binary", lambda: None)  # a machine where uv cannot run
    said: list[str] = []
    venv = workspace.python_venv(
        tmp_path / "cache", _app(tmp_path, "app"), "requirements.txt", ENV, said.append
    )
    assert said[1] == "creating a Python environment for 0 requirement(s) with pip (uv is not installed)"
    assert (venv / "bin" / "python").exists()


def _another_python() -> tuple[str, str]:
    """(minor version, path) of the newest interpreter here of another minor version than Dockyard's
    (3.8 and later: what uv creates venvs for); the test is skipped on a machine without one."""
    own = sys.version_info[:2]
    others = [
        i for i in interpreters.interpreters(interpreters.candidate_paths()) if (3, 8) <= i.version[:2] != own
    ]
    if not others:
        pytest.skip(f"no Python here but {own[0]}.{own[1]}: nothing else to ask for")
    chosen = max(others, key=lambda i: i.version)
    return ".".join(map(str, chosen.version[:2])), chosen.path


def _venv_version(venv: Path) -> str:
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", interpreters.ASK], capture_output=True, text=True, env=ENV
    )
    return ".".join(done.stdout.split()[:2])


def test_the_python_version_file_picks_that_interpreter_and_keys_the_cache(tmp_path: Path) -> None:
    minor, path = _another_python()
    plain = workspace.python_venv(tmp_path / "cache", _app(tmp_path, "plain"), None, ENV, print)
    app = _app(tmp_path, "app")
    (app / ".python-version").write_text(f"# the app's Python\n{minor}\n")
    said: list[str] = []
    venv = workspace.python_venv(tmp_path / "cache", app, "requirements.txt", ENV, said.append)
    assert venv != plain and _venv_version(venv) == minor
    assert said[0].startswith(f"using Python {minor}.") and said[0].endswith(
        f"({path}) as .python-version asks ({minor})"
    )


def test_requires_python_picks_an_interpreter_that_satisfies_it(tmp_path: Path) -> None:
    minor, _ = _another_python()
    app = tmp_path / "app"
    app.mkdir()
    (app / "pyproject.toml").write_text(
        f'[project]\nname = "shop"\nversion = "1"\nrequires-python = "=={minor}.*"\ndependencies = []\n'
    )
    said: list[str] = []
    venv = workspace.python_venv(tmp_path / "cache", app, "pyproject.toml", ENV, said.append)
    assert _venv_version(venv) == minor
    assert said[0].endswith(f"as requires-python in pyproject.toml asks (=={minor}.*)")


def test_a_python_this_machine_lacks_fails_the_install_saying_what_there_is(tmp_path: Path) -> None:
    app = _app(tmp_path, "app")
    (app / ".python-version").write_text("3.4\n")
    with pytest.raises(DeployFailure) as failed:
        workspace.python_venv(tmp_path / "cache", app, "requirements.txt", ENV, print)
    failure = failed.value
    assert (failure.phase, failure.code) == ("install", "python-version-unavailable")
    assert failure.message.startswith(".python-version asks for Python 3.4, but this machine has Python ")
    assert PY in failure.message
    assert failure.next_action is not None and failure.next_action.startswith("Install Python 3.4")
    assert not (tmp_path / "cache" / "python").exists()  # nothing was built


def test_node_installs_share_one_package_cache_and_skip_the_audit(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "package.json").write_text(json.dumps({"name": "x", "dependencies": {}}))
    seen = tmp_path / "seen"
    install = f'echo "$npm_config_cache $npm_config_prefer_offline $npm_config_audit" > {seen}'
    workspace.node_modules(tmp_path / "cache", app, install, ENV, lambda _: None)
    assert seen.read_text().split() == [str(tmp_path / "cache" / "npm"), "true", "false"]


def test_node_modules_are_installed_once_and_linked(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "package.json").write_text(json.dumps({"name": "x", "dependencies": {}}))
    runs = tmp_path / "runs"
    install = f"mkdir -p node_modules/dep && echo installed > node_modules/dep/marker && echo run >> {runs}"
    workspace.node_modules(tmp_path / "cache", app, install, ENV, lambda _: None)
    assert (app / "node_modules" / "dep" / "marker").read_text() == "installed\n"
    second = tmp_path / "app2"
    second.mkdir()
    (second / "package.json").write_text((app / "package.json").read_text())
    said: list[str] = []
    workspace.node_modules(tmp_path / "cache", second, install, ENV, said.append)
    assert said[0].startswith("dependencies unchanged")
    assert runs.read_text() == "run\n"
    assert (second / "node_modules").resolve() == (app / "node_modules").resolve()


def _node_app(tmp_path: Path, **fields: object) -> Path:
    app = tmp_path / "app"
    app.mkdir()
    (app / "package.json").write_text(json.dumps({"name": "shop", "version": "1.0.0", **fields}))
    return app


def test_pnpm_comes_from_corepack_with_its_store_under_the_data_dir(tmp_path: Path) -> None:
    """A real install from the npm registry: pnpm is not installed here, corepack brings the version
    packageManager names, and the app's later commands (`pnpm start`) find it among its own tools."""
    if shutil.which("pnpm") or not shutil.which("corepack"):
        pytest.skip("pnpm is on PATH (corepack is not needed), or there is no corepack")
    app = _node_app(tmp_path, packageManager="pnpm@9.1.0", dependencies={"is-number": "7.0.0"})
    cache = tmp_path / "cache"
    # this machine's npm registry serves no package signatures, which corepack checks by default:
    # the setting a user of such a mirror gives as a build-time variable
    build_env = {**ENV, "COREPACK_INTEGRITY_KEYS": "0"}
    said: list[str] = []
    try:
        workspace.node_modules(cache, app, "pnpm install", build_env, said.append)
    except DeployFailure as failure:
        pytest.skip(f"corepack cannot fetch pnpm here: {failure.message}")
    assert "installing with pnpm 9.1.0 (packageManager pnpm@9.1.0) from corepack " in said[0]
    assert (app / "node_modules" / "is-number" / "package.json").is_file()
    assert (cache / "pnpm-store").is_dir() and (cache / "corepack").is_dir()
    tools = with_app_tools(ENV, None, app)  # what build, release and the process see
    done = subprocess.run(["pnpm", "--version"], cwd=app, env=tools, capture_output=True, text=True)
    assert (done.returncode, done.stdout.strip()) == (0, "9.1.0"), done.stderr


def test_bun_that_is_not_installed_fails_the_install_with_what_to_do(tmp_path: Path) -> None:
    if shutil.which("bun"):
        pytest.skip("bun is installed here")
    app = _node_app(tmp_path, dependencies={"is-number": "7.0.0"})
    (app / "bun.lockb").write_bytes(b"")
    with pytest.raises(DeployFailure) as failed:
        workspace.node_modules(tmp_path / "cache", app, "bun install --frozen-lockfile", ENV, print)
    failure = failed.value
    assert (failure.phase, failure.code) == ("install", "package-manager-unavailable")
    assert failure.message == "bun (bun.lockb) is not installed on this machine"
    assert failure.next_action is not None and failure.next_action.startswith("Install bun where")
    assert not (app / "node_modules").exists()


def test_the_timeline_says_which_manager_installs_and_why(tmp_path: Path) -> None:
    app = _node_app(tmp_path, dependencies={})
    (app / "package-lock.json").write_text(
        json.dumps({"name": "shop", "version": "1.0.0", "lockfileVersion": 3, "packages": {}})
    )
    said: list[str] = []
    workspace.node_modules(tmp_path / "cache", app, "npm ci", ENV, said.append)
    assert said[0] == f"installing with npm (package-lock.json) on PATH ({shutil.which('npm')})"
    assert not any("Unknown env config" in line for line in said)  # no other manager's settings


def test_requirement_includes_are_expanded_and_stay_inside_the_app(tmp_path: Path) -> None:
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements.txt").write_text("-r requirements/base.txt\nuvicorn\n-r ../outside.txt\n")
    (tmp_path / "requirements" / "base.txt").write_text("fastapi>=0.110\n--requirement extra.txt\n")
    (tmp_path / "requirements" / "extra.txt").write_text("httpx\n")
    (tmp_path.parent / "outside.txt").write_text("not-for-this-app\n")
    assert workspace.python_requirements(tmp_path, None) == ["fastapi>=0.110", "httpx", "uvicorn"]


def _app(tmp_path: Path, name: str, requirements: str = "# nothing to install\n") -> Path:
    app = tmp_path / name
    app.mkdir()
    (app / "requirements.txt").write_text(requirements)
    return app


def test_the_environments_console_scripts_run(tmp_path: Path) -> None:
    """Every script a venv installs (pip here; datasette, gunicorn, flask in apps) names the venv's
    python in its first lines: a venv built under another name and renamed has none that run."""
    app = _app(tmp_path, "app")
    venv = workspace.python_venv(tmp_path / "cache", app, "requirements.txt", ENV, print, pip=True)
    done = subprocess.run([str(venv / "bin" / "pip"), "--version"], capture_output=True, text=True, env=ENV)
    assert done.returncode == 0, done.stderr
    assert str(venv) in done.stdout


def test_a_half_built_environment_is_never_reused(tmp_path: Path) -> None:
    """A build killed midway (a crash, a cancel) leaves a folder without its completion marker: the
    next deploy builds it again instead of running the app in a venv missing packages."""
    app = _app(tmp_path, "app")
    venv = workspace.python_venv(tmp_path / "cache", app, "requirements.txt", ENV, print, pip=True)
    shutil.rmtree(venv / "bin")
    (venv / workspace.COMPLETE).unlink()
    said: list[str] = []
    again = workspace.python_venv(tmp_path / "cache", app, "requirements.txt", ENV, said.append, pip=True)
    assert again == venv
    assert not any(line.startswith("dependencies unchanged") for line in said)
    assert (
        subprocess.run([str(venv / "bin" / "pip"), "--version"], capture_output=True, env=ENV).returncode == 0
    )


def test_concurrent_deploys_of_the_same_requirements_build_one_environment(tmp_path: Path) -> None:
    apps = [_app(tmp_path, f"app{i}") for i in range(3)]
    said: list[list[str]] = [[] for _ in apps]
    with ThreadPoolExecutor(len(apps)) as pool:
        venvs = list(
            pool.map(
                lambda i: workspace.python_venv(
                    tmp_path / "cache", apps[i], "requirements.txt", ENV, said[i].append, pip=True
                ),
                range(len(apps)),
            )
        )
    assert len(set(venvs)) == 1
    built = [
        lines for lines in said if any(line.startswith("creating a Python environment") for line in lines)
    ]
    assert len(built) == 1
    assert (
        subprocess.run([str(venvs[0] / "bin" / "pip"), "--version"], capture_output=True, env=ENV).returncode
        == 0
    )
