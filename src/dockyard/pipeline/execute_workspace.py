"""Execute on the host-process runtime: package → install → build → release, then start → verify →
switch (pipeline/execution.py).

Each step runs in the app's own environment: after the install, its venv's bin and node_modules/.bin
come first on PATH, so `python`, `pip`, `flask`, `vite` are the app's and never the control plane's.
Install and build see the build-time variables; the release step sees what the process will see
(runtime variables, the persistent data folder) and runs once, before the candidate starts: when it
fails, nothing was started and the live version keeps serving.
"""

import os
import re
from pathlib import Path
from typing import Any

from dockyard.pipeline import build_cache, workspace
from dockyard.pipeline.app_env import DATA_DIR_VARIABLE, app_data_dir, base_env, with_app_tools
from dockyard.pipeline.execution import Execution
from dockyard.pipeline.package import package
from dockyard.pipeline.planner import Plan


def execute_workspace(ex: Execution, resource_id: str, snapshot: dict[str, Any], p: Plan) -> str:
    data = ex.svc.settings.data_dir
    work = data / "workspaces" / resource_id / ex.id
    package(ex, snapshot, work, "copying the source into a fresh workspace")
    env = {**base_env(), DATA_DIR_VARIABLE: str(app_data_dir(data, resource_id))}
    venv = install(ex, work, p, {**env, **ex.config.build})
    env = with_app_tools(env, venv, work)
    if p.build_command:
        ex.phase("build", f"running {p.build_command}")
        build(ex, work, p, env, venv)
    if p.release_command:
        ex.phase("release", f"running {p.release_command}")
        release_env = ex.process_env(resource_id, env, p.framework)
        ex.run_step("release", p.release_command, work, release_env)
    return ex.start_verify_switch(resource_id, work, env, p)


def build(ex: Execution, work: Path, p: Plan, env: dict[str, str], venv: Path | None) -> None:
    """Run the build command, or put back what the same build wrote before (pipeline/build_cache)."""
    assert p.build_command
    cache, linked = ex.svc.settings.data_dir / "cache", work / "node_modules"
    dependencies = str(venv) if venv else os.readlink(linked) if linked.is_symlink() else None
    inputs = build_cache.Inputs(p.install_command, p.build_command, dependencies, ex.config.build)
    build_key = build_cache.key(work, inputs)
    origin = build_cache.restore(cache, build_key, work)
    if origin is not None:
        ex.timeline.log(
            "build",
            "source, commands, dependencies and build-time variables unchanged since "
            f"{origin}: its build output is reused, `{p.build_command}` does not run again",
        )
        return
    before = build_cache.listing(work)
    ex.run_step("build", p.build_command, work, {**env, **ex.config.build})
    kept = build_cache.keep(cache, build_key, work, before, ex.id)
    ex.timeline.log("build", f"kept the {kept} file(s) the build wrote, for a deploy of this same source")


def calls_pip(*commands: str | None) -> bool:
    """Whether one of the app's commands runs pip (`pip install …`, `python -m pip …`; not pipenv)."""
    return any(re.search(r"\bpip3?\b(?![-.\w])", c or "") for c in commands)


def install(ex: Execution, work: Path, p: Plan, env: dict[str, str]) -> Path | None:
    """Bring the app's dependencies: a cached venv (returned), cached node_modules, or its own command."""
    data, emit = ex.svc.settings.data_dir, ex.emitter("install")
    if p.build_strategy == "python-venv" or (p.python_requirements and p.build_strategy != "static"):
        ex.phase("install", "installing Python dependencies")
        commands = (p.install_command, p.build_command, p.release_command, p.start_command)
        return ex.guard(
            "install",
            lambda: workspace.python_venv(
                data / "cache", work, p.python_requirements, env, emit, ex.canceled, pip=calls_pip(*commands)
            ),
        )
    if p.install_command:
        ex.phase("install", f"running {p.install_command}")
        if (work / "package.json").exists():
            ex.guard(
                "install",
                lambda: workspace.node_modules(
                    data / "cache", work, p.install_command or "", env, emit, ex.canceled
                ),
            )
        else:
            ex.run_step("install", p.install_command, work, env)
    return None
