"""The Node package manager an install command names (npm, pnpm, yarn, bun): the one on PATH, else,
for pnpm and yarn, the version the app's packageManager asks for through Node's corepack, with its
downloads kept under the data dir. bun cannot be brought on demand: its absence fails the install."""

import functools
import json
import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from dockyard.pipeline.detect.node import LOCKS, choose_manager
from dockyard.pipeline.failures import DeployFailure

MANAGERS = ("npm", "pnpm", "yarn", "bun")
FROM_COREPACK = ("pnpm", "yarn")
# The machine's settings that corepack's downloads honour: a registry mirror, the keys that verify
# what it serves (`0` where a mirror strips npm's signatures), the CA of a TLS-inspecting proxy.
COREPACK_PASSED = ("COREPACK_NPM_REGISTRY", "COREPACK_INTEGRITY_KEYS", "NODE_EXTRA_CA_CERTS")
UNAVAILABLE = "package-manager-unavailable"


@dataclass(frozen=True)
class Provided:
    """The manager an install uses, why (the lockfile or packageManager naming it), where it comes
    from; `shim`: the script that runs it through corepack when it is not on PATH."""

    name: str | None = None
    why: str = ""
    where: str = ""
    shim: Path | None = None

    def env(self, env: dict[str, str]) -> dict[str, str]:
        if self.shim is None:
            return env
        return {**env, "PATH": f"{self.shim.parent}:{env.get('PATH', '')}"}

    def leave_in(self, bin_dir: Path) -> None:
        """Copy the shim among the app's own tools (node_modules/.bin, first on PATH for build,
        release, the process and a rollback), so `pnpm start` runs where pnpm is not installed; one
        the app's own dependencies put there stays."""
        if self.shim is not None and not (bin_dir / self.shim.name).exists():
            bin_dir.mkdir(parents=True, exist_ok=True)
            shutil.copy2(self.shim, bin_dir / self.shim.name)


def corepack_env(cache: Path) -> dict[str, str]:
    """corepack's downloads under the data dir, no prompt before one, package.json left as it is, and
    the machine's own settings for reaching the registry."""
    passed = {name: os.environ[name] for name in COREPACK_PASSED if os.environ.get(name)}
    if "NODE_EXTRA_CA_CERTS" not in passed and os.environ.get("SSL_CERT_FILE"):
        passed["NODE_EXTRA_CA_CERTS"] = os.environ["SSL_CERT_FILE"]  # the bundle pip and uv are given
    return {
        "COREPACK_HOME": str(cache / "corepack"),
        "COREPACK_ENABLE_DOWNLOAD_PROMPT": "0",
        "COREPACK_ENABLE_AUTO_PIN": "0",
        **passed,
    }


def _named(install: str) -> str | None:
    words = install.split()
    return words[0] if words and words[0] in MANAGERS else None


def settings(install: str, cache: Path) -> dict[str, str]:
    """The settings of the manager `install` names, beside npm's (npm warns about keys it does not
    know): its package store under the data dir; a Yarn 2+ install makes node_modules (which the
    workspace links) rather than Plug'n'Play files; corepack's for pnpm and yarn."""
    name = _named(install)
    if name == "pnpm":
        store = str(cache / "pnpm-store")  # pnpm reads npm_config_* (older) and pnpm_config_* settings
        return {"npm_config_store_dir": store, "pnpm_config_store_dir": store, **corepack_env(cache)}
    if name == "yarn":
        return {
            "YARN_CACHE_FOLDER": str(cache / "yarn"),
            "YARN_GLOBAL_FOLDER": str(cache / "yarn-global"),
            "YARN_NODE_LINKER": "node-modules",
            "YARN_ENABLE_TELEMETRY": "0",
            **corepack_env(cache),
        }
    if name == "bun":
        return {"BUN_INSTALL_CACHE_DIR": str(cache / "bun")}
    return {}


@functools.cache
def _corepack_version(corepack: str) -> str | None:
    try:
        done = subprocess.run(
            [corepack, "--version"], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (done.stdout.strip() or None) if done.returncode == 0 else None


def _shim(cache: Path, name: str, corepack: str) -> Path:
    """A script running `corepack NAME`, with the data dir's corepack settings unless the caller's
    environment has its own (written whole, then renamed: deploys may write it at once)."""
    shim = cache.resolve() / "corepack" / "bin" / name
    shim.parent.mkdir(parents=True, exist_ok=True)
    lines = ["#!/bin/sh", f"# {name} through corepack ({name} is not installed on this machine)"]
    for key, value in corepack_env(cache.resolve()).items():
        if key not in COREPACK_PASSED:
            lines += [f'[ -n "${{{key}:-}}" ] || {key}={shlex.quote(value)}', f"export {key}"]
    lines.append(f'exec {shlex.quote(corepack)} {name} "$@"')
    partial = shim.with_name(f".{name}.{os.getpid()}")
    partial.write_text("\n".join(lines) + "\n")
    partial.chmod(0o755)
    os.replace(partial, shim)
    return shim


def _why(workspace: Path, name: str) -> str:
    """Why this manager: the lockfile or packageManager that names it, else the install command."""
    try:
        declared = json.loads((workspace / "package.json").read_text()).get("packageManager")
    except (OSError, ValueError, AttributeError):
        declared = None
    choice = choose_manager([lock for lock, _ in LOCKS if (workspace / lock).is_file()], declared)
    return choice.why if choice.manager == name else "the install command"


def provide(cache: Path, workspace: Path, install: str, path: str) -> Provided:
    """The manager `install` starts with, from `path` (a PATH) or corepack; DeployFailure when it is
    neither there nor to be had from corepack. A corepack shim still has to fetch it (fetched)."""
    name = _named(install)
    if name is None:
        return Provided()  # the app's own command: it brings what it runs
    why = _why(workspace, name)
    found = shutil.which(name, path=path)
    if found:
        return Provided(name, why, f"on PATH ({found})")
    corepack = shutil.which("corepack", path=path)
    version = _corepack_version(corepack) if corepack else None
    if name not in FROM_COREPACK or corepack is None or version is None:
        how = " and there is no corepack (Node 16.9+) to bring it" if name in FROM_COREPACK else ""
        raise DeployFailure(
            "install",
            UNAVAILABLE,
            f"{name} ({why}) is not installed on this machine{how}",
            f"Install {name} where `dockyard serve` runs (on its PATH) and deploy again, or commit the "
            "lockfile of a package manager this machine has (npm: `npm install` writes package-lock.json).",
        )
    return Provided(name, why, f"from corepack {version}", _shim(cache, name, corepack))


def fetched(provided: Provided, said: list[str]) -> str:
    """The line for the timeline once the shim answered `--version` (its output: `said`)."""
    version = said[-1].strip() if said else "?"
    return f"installing with {provided.name} {version} ({provided.why}) {provided.where}"


def not_fetched(provided: Provided, said: list[str]) -> DeployFailure:
    """corepack could not fetch the manager: what it said, and what to do."""
    signatures = any("signature" in line for line in said)
    errors = [line.strip() for line in said if line.strip().startswith(("Error", "Usage Error"))]
    last = (errors or [line.strip() for line in said if line.strip()] or ["no output"])[-1]
    return DeployFailure(
        "install",
        UNAVAILABLE,
        f"{provided.name} ({provided.why}) is not installed on this machine, and corepack could not "
        f"fetch it: {last}",
        f"Install {provided.name} where `dockyard serve` runs (`npm install -g {provided.name}`) and "
        "deploy again"
        + (
            "; or, when the registry is a mirror that serves no package signatures, set "
            "COREPACK_INTEGRITY_KEYS=0 for `dockyard serve` or as a build-time variable."
            if signatures
            else "."
        ),
    )
