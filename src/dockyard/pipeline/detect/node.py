"""Node apps: package manager from the lockfile, install/build/start commands from package.json."""

import json
import re
from dataclasses import dataclass
from typing import Any

from dockyard.pipeline.detect.evidence import Evidence
from dockyard.pipeline.detect.files import Source

LOCKS = (
    ("package-lock.json", "npm"),
    ("npm-shrinkwrap.json", "npm"),
    ("pnpm-lock.yaml", "pnpm"),
    ("yarn.lock", "yarn"),
    ("bun.lockb", "bun"),
    ("bun.lock", "bun"),
)
FRAMEWORKS = ("next", "express", "fastify", "koa")  # next first: a custom Next server often uses express
ENTRY_FILES = ("server.js", "index.js", "app.js", "server.mjs", "index.mjs", "app.mjs")
# Front-end builders whose build output is a static site: (dependency, output folder, name, framework).
STATIC_BUILDERS = (
    ("next", "out", "Next.js static export", "next"),
    ("vite", "dist", "Vite", None),
    ("react-scripts", "build", "Create React App", None),
    ("astro", "dist", "Astro", None),
    ("gatsby", "public", "Gatsby", None),
    ("@vue/cli-service", "dist", "Vue CLI", None),
)
SPA_BUILDERS = frozenset({"vite", "react-scripts", "@vue/cli-service"})  # client-side routing
DEV_SERVER_RE = re.compile(r"^\s*(vite|react-scripts start|astro dev|gatsby develop|vue-cli-service serve)\b")
NODE_FILE_RE = re.compile(r"^\s*node\s+(?:--?[\w-]+(?:=\S+)?\s+)*([\w./-]+\.[cm]?js)\b")
# A start script that is only `node` with plain words (no shell, no variables) runs as it is: the
# package manager's own process (0.3 s to start, ~60 MB resident for the app's whole life, a signal
# hop at every stop) adds nothing to it.
PLAIN_NODE_RE = re.compile(r"^\s*node(?:\s+[\w./=:@-]+)+\s*$")
START = {"npm": "npm start", "pnpm": "pnpm start", "yarn": "yarn start", "bun": "bun run start"}


@dataclass(frozen=True)
class ManagerChoice:
    """The package manager, the lockfile it reads (None: none is there), why it was chosen."""

    manager: str
    lock: str | None
    why: str
    warnings: tuple[str, ...] = ()


def _install(manager: str, lock: str | None) -> str:
    """Installs exactly as locked when there is a lockfile, devDependencies included (the build needs
    them), as `npm ci` does when NODE_ENV is not production."""
    if manager == "npm":
        return "npm ci" if lock else "npm install"
    return f"{manager} install --frozen-lockfile" if lock else f"{manager} install"


def choose_manager(present: list[str], declared: object) -> ManagerChoice:
    """`present`: the lockfiles in the folder; `declared`: package.json's packageManager
    ("pnpm@9.1.0"), which wins over the lockfiles."""
    locks = [(lock, manager) for lock, manager in LOCKS if lock in present]
    name = declared.split("@")[0] if isinstance(declared, str) else ""
    if name in START:
        own = [lock for lock, manager in locks if manager == name]
        warnings = tuple(
            f"package.json's packageManager is {declared}: {lock} is not read; delete it"
            for lock, manager in locks
            if manager != name
        )
        return ManagerChoice(name, own[0] if own else None, f"packageManager {declared}", warnings)
    if not locks:
        return ManagerChoice("npm", None, "no lockfile")
    several = len({manager for _, manager in locks}) > 1
    names = ", ".join(lock for lock, _ in locks)
    warnings = (f"several lockfiles ({names}): using {locks[0][0]}; delete the others",) if several else ()
    return ManagerChoice(locks[0][1], locks[0][0], locks[0][0], warnings)


def _version(src: Source, data: dict[str, Any]) -> tuple[str | None, str | None]:
    engines = data.get("engines")
    if isinstance(engines, dict) and isinstance(engines.get("node"), str):
        return engines["node"], "package.json"
    for name in (".nvmrc", ".node-version"):
        text = (src.read_text(name) or "").strip()
        if text:
            return text.splitlines()[0].strip().removeprefix("v"), name
    return None, None


def _names(data: dict[str, Any], *keys: str) -> set[str]:
    return {name for key in keys if isinstance(data.get(key), dict) for name in data[key]}


def detect_node(src: Source) -> Evidence | None:
    if not src.is_file("package.json"):
        return None
    data: Any = None
    try:
        data = json.loads(src.read_text("package.json") or "")
        problem = "it is not a JSON object"
    except ValueError as exc:
        problem = str(exc)
    if not isinstance(data, dict):
        return Evidence(
            runtime_family="node",
            detected_files=("package.json",),
            warnings=(f"package.json could not be read as JSON ({problem}): fix it to deploy this app",),
        )
    warnings: list[str] = []
    reasons: list[str] = []
    files = ["package.json"]
    raw_scripts = data.get("scripts")
    scripts = (
        {k: v for k, v in raw_scripts.items() if isinstance(v, str)} if isinstance(raw_scripts, dict) else {}
    )
    deps = _names(data, "dependencies", "devDependencies")
    choice = choose_manager([lock for lock, _ in LOCKS if src.is_file(lock)], data.get("packageManager"))
    manager, lock = choice.manager, choice.lock
    warnings += choice.warnings
    version, version_file = _version(src, data)
    files += [f for f in (lock, version_file) if f and f != "package.json"]
    has_deps = bool(deps | _names(data, "optionalDependencies"))
    install = _install(manager, lock) if has_deps or lock else None
    build = f"{manager} run build" if "build" in scripts else None
    framework = next((f for f in FRAMEWORKS if f in deps), "node-http")
    reasons.append(
        f"package manager: {manager} ({choice.why})"
        + (f"; dependencies include {framework}" if framework != "node-http" else "")
    )
    builder = next((b for b in STATIC_BUILDERS if b[0] in deps), None)
    start, shape, publish, entry = None, None, None, None
    start_script = scripts.get("start")
    if start_script and not (builder and build and DEV_SERVER_RE.match(start_script)):
        match = NODE_FILE_RE.match(start_script)
        shape = "web-server"
        if match and PLAIN_NODE_RE.match(start_script):
            start = start_script.strip()
            reasons.append(
                f"the start script is `{start}`: running it directly, without {manager} in between"
            )
        else:
            start = START[manager]
            reasons.append(f"the start script runs `{start_script}`: starting with `{start}`")
        entry = match.group(1) if match else None
    else:
        main = data.get("main") if isinstance(data.get("main"), str) else None
        entry = main if main and src.is_file(main) else next((f for f in ENTRY_FILES if src.is_file(f)), None)
        if entry is None and main and build and not builder:  # a compiled `main` appears after the build
            entry = main
        if entry:
            start, shape = f"node {entry}", "web-server"
            reasons.append(f"no start script; {entry} is the server: starting with `node {entry}`")
        elif builder and build:
            dep, publish, label, kind = builder
            framework, shape = kind, "static"
            why = "package.json has no start script"
            if start_script:
                why = f"the start script runs a development server (`{start_script}`)"
            reasons.append(f"{label} app ({dep}) with a build script: serving its build output {publish}/")
            warnings.append(f"{why}: serving the static build output in {publish}/ after `{build}`")
        else:
            warnings.append(
                "package.json has no start script and no server.js/index.js: cannot tell how to start it"
            )
    if entry and src.is_file(entry):
        files.append(entry)
        if "PORT" not in (src.read_text(entry) or "PORT"):
            warnings.append(
                f"{entry} does not read PORT: dockyard tells the app which port to listen on in $PORT"
            )
    name = data.get("name")
    return Evidence(
        runtime_family="node",
        framework=framework if shape or framework != "node-http" else None,
        package_manager=manager,
        application_shape=shape,
        runtime_version=version,
        project_name=name if isinstance(name, str) else None,
        detected_files=tuple(sorted(set(files))),
        detected_scripts=tuple(sorted(scripts)),
        install_command=install,
        build_command=build,
        start_command=start,
        publish_directory=publish,
        spa=shape == "static" and builder is not None and builder[0] in SPA_BUILDERS,
        reasoning=tuple(reasons),
        warnings=tuple(warnings),
    )
