"""How the detectors' findings combine: explicit files win over guesses, servers over static files."""

from dataclasses import replace
from pathlib import Path
from typing import Any

from dockyard.pipeline.detect.dockerfile import Containers, find_containers
from dockyard.pipeline.detect.evidence import Evidence
from dockyard.pipeline.detect.files import Source
from dockyard.pipeline.detect.manifest import Manifest, read_manifest
from dockyard.pipeline.detect.node import detect_node
from dockyard.pipeline.detect.procfile import Procfile, read_procfile
from dockyard.pipeline.detect.python import detect_python
from dockyard.pipeline.detect.static import detect_static

NOTHING = (
    "nothing to deploy: no index.html, requirements.txt, pyproject.toml, package.json, Procfile, "
    "Dockerfile or dockyard.yml found"
)
SERVER_FAMILIES = ("python", "node")


def detect(path: Path) -> Evidence:
    """What the app in `path` is and how to run it. Raises FileNotFoundError / NotADirectoryError."""
    src = Source(path)
    manifest, procfile = read_manifest(src), read_procfile(src)
    explicit_start = bool(procfile.processes or manifest.start or manifest.static)
    evidence = _containers(_family(src, explicit_start), find_containers(src), explicit_start)
    evidence = _manifest(_procfile(evidence, procfile), manifest)
    extra = list(src.skipped)
    if evidence.runtime_family is None:
        extra.append(
            f"{manifest.path} sets neither `start` nor `static` and no app was detected: add "
            "`start: <command listening on $PORT>` or `static: <folder>`"
            if manifest.used
            else NOTHING
        )
    return replace(
        evidence, warnings=evidence.warnings + tuple(extra), entry_profile=manifest.entry_profile()
    )


def _merge(
    evidence: Evidence, *, files: tuple[str, ...] = (), reason: str = "", warnings: tuple[str, ...] = ()
) -> Evidence:
    return replace(
        evidence,
        detected_files=tuple(sorted({*evidence.detected_files, *files})),
        reasoning=evidence.reasoning + ((reason,) if reason else ()),
        warnings=evidence.warnings + tuple(warnings),
    )


def _family(src: Source, start_given: bool) -> Evidence:
    python, node, static = detect_python(src, start_given), detect_node(src), detect_static(src)
    servers = [e for e in (node, python) if e and e.start_command and e.application_shape == "web-server"]
    if python and node and len(servers) == 2:
        python_wins = python.framework is not None and node.framework in (None, "node-http")
        chosen, other = (python, node) if python_wins else (node, python)
        return _merge(
            chosen,
            warnings=(
                f"both a Python and a Node app were found: starting the {chosen.runtime_family} one "
                f"(`{chosen.start_command}`), not `{other.start_command}`; "
                "set `start` in dockyard.yml to choose",
            ),
        )
    if servers:
        chosen = servers[0]
        other = python if chosen is node else node
        if other is not None and other.build_command:
            return _merge(
                chosen,
                warnings=(
                    "package.json has a build script, which is not run for a Python app: "
                    "add `build:` to dockyard.yml if the app needs it",
                ),
            )
        return chosen
    if node and node.application_shape == "static":
        return node
    if static:
        unused = [e.detected_files[0] for e in (python, node) if e is not None and e.detected_files]
        note = f"{' and '.join(unused)} found but nothing to start: " if unused else ""
        return _merge(static, reason=f"{note}serving the static site" if note else "")
    if node and python:
        return _merge(node, files=python.detected_files, warnings=python.warnings)
    return node or python or Evidence()


def _containers(evidence: Evidence, containers: Containers, explicit_start: bool) -> Evidence:
    if not containers.files:
        return evidence
    evidence = replace(evidence, dockerfile_path=containers.dockerfile, compose_file_path=containers.compose)
    evidence = _merge(evidence, files=containers.files)
    if evidence.runtime_family or explicit_start:
        what = " and ".join(containers.files)
        return _merge(evidence, reason=f"{what} recorded: built when a container engine answers")
    if containers.dockerfile:
        return _merge(
            replace(evidence, runtime_family="dockerfile"),
            reason=f"{containers.dockerfile} found and no Python, Node or static app",
            warnings=(
                f"{containers.dockerfile} apps need a container engine (DOCKER_HOST); to run this app "
                "as a host process instead, add a Procfile `web:` line or `start:` in dockyard.yml",
            ),
        )
    return _merge(evidence, warnings=(f"{containers.compose} found: compose files are not deployed yet",))


def _procfile(evidence: Evidence, procfile: Procfile) -> Evidence:
    if not procfile.processes:
        return _merge(evidence, warnings=procfile.warnings)
    web, release = procfile.command("web"), procfile.command("release")
    others = [kind for kind, _ in procfile.processes if kind not in ("web", "release")]
    warnings = list(procfile.warnings)
    if release:
        evidence = _merge(
            replace(evidence, release_command=release),
            reason=f"Procfile: `{release}` runs once per deployment, before the new version starts",
        )
    if web is None and evidence.start_command is None and others:
        kind = others.pop(0)
        web = procfile.command(kind)
        warnings.append(
            f"Procfile has no web process: starting `{kind}`, which must answer health checks on $PORT "
            "(or turn the health check off)"
        )
    if others:
        warnings.append(f"Procfile processes other than web are not run: {', '.join(others)}")
    if web is None:
        return _merge(evidence, files=("Procfile",), warnings=tuple(warnings))
    family = evidence.runtime_family if evidence.runtime_family in SERVER_FAMILIES else "custom"
    replaced = (
        f" (instead of `{evidence.start_command}`)" if evidence.start_command not in (None, web) else ""
    )
    return _merge(
        replace(
            evidence,
            runtime_family=family,
            start_command=web,
            application_shape="web-server" if procfile.command("web") else "worker",
            publish_directory=None,
        ),
        files=("Procfile",),
        reason=f"Procfile starts the app with `{web}`{replaced}",
        warnings=tuple(warnings),
    )


def _manifest(evidence: Evidence, m: Manifest) -> Evidence:
    if not m.used or m.path is None:
        return _merge(evidence, warnings=m.warnings)
    changes: dict[str, Any] = {}
    said = [
        f"{key}: {value}"
        for key, value in vars(m).items()
        if key not in ("path", "warnings") and value is not None
    ]
    warnings = list(m.warnings)
    for key, field in (
        ("install", "install_command"),
        ("build", "build_command"),
        ("release", "release_command"),
        ("port", "port"),
        ("health", "health_path"),
        ("spa", "spa"),
    ):
        if getattr(m, key) is not None:
            changes[field] = getattr(m, key)
    family = evidence.runtime_family
    if m.start:
        if m.static:
            warnings.append(f"{m.path} sets both `start` and `static`: `start` wins and `static` is ignored")
        changes.update(
            runtime_family=family if family in SERVER_FAMILIES else "custom",
            start_command=m.start,
            application_shape="web-server",
            publish_directory=None,
        )
    elif m.static:
        changes.update(
            runtime_family=family if family in SERVER_FAMILIES else "static",
            start_command=None,
            application_shape="static",
            publish_directory=m.static,
        )
    return _merge(
        replace(evidence, **changes),
        files=(m.path,),
        reason=f"{m.path} sets {'; '.join(said)}",
        warnings=tuple(warnings),
    )
