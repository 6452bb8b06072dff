"""Python dependency names, package manager and version, read from requirements/pyproject files."""

import re
import tomllib
from dataclasses import dataclass, field
from typing import Any

from dockyard.pipeline.detect.files import Source
from dockyard.pipeline.detect.python_version import version_file

NAME_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?")
LOCKS = (("uv.lock", "uv"), ("poetry.lock", "poetry"))


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class PythonDeps:
    """Dependency name -> extras, from whichever files declare them."""

    names: dict[str, set[str]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    project_name: str | None = None
    poetry_only: bool = False  # pyproject lists dependencies only under [tool.poetry], which pip ignores
    warnings: list[str] = field(default_factory=list)

    def add(self, spec: str) -> None:
        match = NAME_RE.match(spec.strip())
        if match and "://" not in spec.split("@")[0]:
            extras = {normalize(e) for e in (match.group(2) or "").split(",") if e.strip()}
            self.names.setdefault(normalize(match.group(1)), set()).update(extras)


def read_requirements(src: Source, rel: str, deps: PythonDeps, depth: int = 0) -> None:
    text = src.read_text(rel)
    if text is None or rel in deps.files:
        return
    deps.files.append(rel)
    folder = rel.rsplit("/", 1)[0] + "/" if "/" in rel else ""
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line.startswith(("-r ", "--requirement ")) and depth < 3:
            read_requirements(src, folder + line.split(None, 1)[1].strip(), deps, depth + 1)
        elif line and not line.startswith(("#", "-")):
            deps.add(line)


def read_pyproject(src: Source, deps: PythonDeps) -> dict[str, Any]:
    text = src.read_text("pyproject.toml")
    if text is None:
        return {}
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        deps.warnings.append(f"pyproject.toml is not valid TOML ({exc}); it is ignored")
        return {}
    project = data.get("project") if isinstance(data.get("project"), dict) else {}
    tool = data.get("tool") if isinstance(data.get("tool"), dict) else {}
    poetry = tool.get("poetry") if isinstance(tool.get("poetry"), dict) else {}
    if "project" not in data and not poetry:  # a pyproject with only tool settings is not evidence
        return data
    deps.files.append("pyproject.toml")
    name = project.get("name") or poetry.get("name")
    deps.project_name = name if isinstance(name, str) else None
    declared = project.get("dependencies")
    for spec in declared if isinstance(declared, list) else []:
        if isinstance(spec, str):
            deps.add(spec)
    poetry_deps = poetry.get("dependencies")
    others = (
        [str(spec) for spec in poetry_deps if str(spec).lower() != "python"]
        if isinstance(poetry_deps, dict)
        else []
    )
    for spec in others:
        deps.add(spec)
    deps.poetry_only = not declared and bool(others)
    return data


def package_manager(src: Source, pyproject: dict[str, Any]) -> tuple[str, str | None]:
    """(manager, the lockfile that says so)."""
    for lock, manager in LOCKS:
        if src.is_file(lock):
            return manager, lock
    tool = pyproject.get("tool")
    if isinstance(tool, dict) and "poetry" in tool:
        return "poetry", None
    return "pip", None


def python_version(src: Source) -> tuple[str | None, str | None]:
    """(version, the file it came from). The install honours it with an interpreter of this machine
    (pipeline/interpreters.py), or fails saying which versions there are."""
    found = version_file(src.read_text(".python-version"), src.read_text("runtime.txt"))
    return found or (None, None)
