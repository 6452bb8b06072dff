"""Generated Containerfiles for detected apps (static, Python, Node). Pure: plan in, text out.

Dependencies install from the manifests alone (the requirements, package.json and its lockfile) before
the source is copied, so an edit of the app's code reuses the dependency layer.

Base images are settings (DOCKYARD_BASE_IMAGE_STATIC, _PYTHON, _NODE) so a machine without a
registry can point them at images it built itself.
"""

import json
import os

from dockyard.pipeline.planner import Plan

DEFAULT_BASES = {
    "static": "docker.io/library/busybox:stable",
    "python": "docker.io/library/python:3.11-slim",
    "node": "docker.io/library/node:20-slim",
}
GENERATED_NAME = ".dockyard.Containerfile"
REQUIREMENTS_NAME = ".dockyard-requirements.txt"


def base_image(kind: str) -> str:
    return os.environ.get(f"DOCKYARD_BASE_IMAGE_{kind.upper()}") or DEFAULT_BASES[kind]


def _cmd(command: str) -> str:
    return "CMD " + json.dumps(["/bin/sh", "-c", command])


def _corepack(install: str | None) -> list[str]:
    """pnpm and yarn from the image's corepack (Node's official images have it) when the image lacks them."""
    words = (install or "").split()
    manager = words[0] if words and words[0] in ("pnpm", "yarn") else None
    return [f"RUN command -v {manager} >/dev/null || corepack enable {manager}"] if manager else []


def containerfile(p: Plan, lockfiles: tuple[str, ...] = (), build_args: tuple[str, ...] = ()) -> str:
    """The Containerfile for a generated image; the app listens on $PORT (= the plan's port).

    `build_args` (the deployment's build-time variables) are declared so install and build see them.
    """
    port = p.container_port
    args = [f"ARG {key}" for key in build_args]
    if p.build_strategy == "static":
        publish = (p.publish_directory or ".").strip("/") or "."
        lines = [
            f"FROM {base_image('static')}",
            f"COPY {publish}/ /www/",
            # busybox httpd serves dotfiles (.env, .git/): none goes into the image but /.well-known/
            "RUN find /www -mindepth 1 -name '.*' ! -path /www/.well-known -prune -exec rm -rf {} +",
            f"ENV PORT={port}",
            f"EXPOSE {port}",
            _cmd("exec httpd -f -p ${PORT} -h /www"),
        ]
    elif p.build_strategy == "python-venv":
        lines = [
            f"FROM {base_image('python')}",
            "WORKDIR /app",
            *args,
            f"COPY {REQUIREMENTS_NAME} /app/{REQUIREMENTS_NAME}",
            "RUN python3 -m venv /venv && /venv/bin/pip install --disable-pip-version-check --no-cache-dir"
            f" -r /app/{REQUIREMENTS_NAME}",
            "COPY . /app",
            f"ENV PATH=/venv/bin:$PATH PORT={port} HOST=0.0.0.0 PYTHONUNBUFFERED=1",
            *([f"RUN {p.build_command}"] if p.build_command else []),
            f"EXPOSE {port}",
            _cmd(p.start_command or ""),
        ]
    elif p.build_strategy == "node-packages":
        lines = [
            f"FROM {base_image('node')}",
            "WORKDIR /app",
            *args,
            f"COPY {' '.join(('package.json', *lockfiles))} /app/",
            *_corepack(p.install_command),
            *([f"RUN {p.install_command}"] if p.install_command else []),
            "COPY . /app",
            f"ENV PATH=/app/node_modules/.bin:$PATH PORT={port} HOST=0.0.0.0 NODE_ENV=production",
            *([f"RUN {p.build_command}"] if p.build_command else []),
            f"EXPOSE {port}",
            _cmd(p.start_command or ""),
        ]
    else:
        raise ValueError(f"no generated image for the {p.build_strategy} strategy")
    return "\n".join(lines) + "\n"
