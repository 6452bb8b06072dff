"""dockyard.yml: the user's explicit answers, which win over every guess."""

from dataclasses import dataclass
from typing import Any

from dockyard.pipeline.detect.files import Source

NAMES = ("dockyard.yml", "dockyard.yaml")
COMMAND_KEYS = ("install", "build", "release", "start")
KNOWN_KEYS = frozenset({*COMMAND_KEYS, "port", "health", "healthPath", "static", "spa"})


@dataclass(frozen=True)
class Manifest:
    path: str | None = None
    install: str | None = None
    build: str | None = None
    release: str | None = None
    start: str | None = None
    port: int | None = None
    health: str | None = None
    static: str | None = None
    spa: bool | None = None
    warnings: tuple[str, ...] = ()

    @property
    def used(self) -> bool:
        values = (self.install, self.build, self.release, self.start, self.port, self.health)
        values = (*values, self.static, self.spa)
        return any(v is not None for v in values)

    def entry_profile(self) -> dict[str, Any]:
        """What it sets, under the resource profiles' names (config drift compares them)."""
        return {
            "path": self.path,
            "installCommand": self.install,
            "buildCommand": self.build,
            "startCommand": self.start,
            "publishDirectory": self.static,
            "healthCheckPath": self.health,
            "internalPort": self.port,
        }


def read_manifest(src: Source) -> Manifest:
    name = src.first_file(*NAMES)
    if name is None:
        return Manifest()
    warnings: list[str] = []
    if name == NAMES[0] and src.is_file(NAMES[1]):
        warnings.append("both dockyard.yml and dockyard.yaml exist: dockyard.yaml is ignored")
    text = src.read_text(name)
    if text is None:
        return Manifest(warnings=(f"{name} could not be read and is ignored", *warnings))
    import yaml  # here, not at start: only an app with a manifest needs it (1 MB resident)

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" (line {where.line + 1})" if where is not None else ""
        return Manifest(warnings=(f"{name} is not valid YAML{at} and is ignored", *warnings))
    if data is None:
        return Manifest(warnings=tuple(warnings))
    if not isinstance(data, dict):
        return Manifest(warnings=(f"{name} must be a mapping of keys to values; it is ignored", *warnings))
    unknown = sorted(str(k) for k in data if k not in KNOWN_KEYS)
    if unknown:
        warnings.append(
            f"{name} has unknown keys {', '.join(unknown)} (known: {', '.join(sorted(KNOWN_KEYS))})"
        )
    commands = {key: _command(name, key, data.get(key), warnings) for key in COMMAND_KEYS}
    health_key = "health" if "health" in data else "healthPath"
    return Manifest(
        path=name,
        port=_port(name, data.get("port"), warnings),
        health=_health(name, health_key, data.get(health_key), warnings),
        static=_static(name, data.get("static"), warnings),
        spa=_spa(name, data.get("spa"), warnings),
        warnings=tuple(warnings),
        **commands,
    )


def _command(name: str, key: str, value: Any, warnings: list[str]) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return " && ".join(v.strip() for v in value)  # a list of steps runs in order, stopping at a failure
    warnings.append(f"{name}: `{key}` must be a shell command (a string); it is ignored")
    return None


def _port(name: str, value: Any, warnings: list[str]) -> int | None:
    if value is None:
        return None
    if isinstance(value, int | str) and not isinstance(value, bool) and str(value).strip().isdigit():
        port = int(value)
        if 1 <= port <= 65535:
            return port
    warnings.append(f"{name}: `port` must be a number from 1 to 65535, not {value!r}; it is ignored")
    return None


def _health(name: str, key: str, value: Any, warnings: list[str]) -> str | None:
    if isinstance(value, dict):  # `health: {path: /healthz}`
        value = value.get("path")
    if value is None:
        return None
    if isinstance(value, str) and value.strip():
        path = value.strip()
        return path if path.startswith("/") else f"/{path}"
    warnings.append(f"{name}: `{key}` must be a URL path such as /health; it is ignored")
    return None


def _static(name: str, value: Any, warnings: list[str]) -> str | None:
    if value is None or value is False:
        return None
    if value is True:
        return "."
    if isinstance(value, str) and value.strip():
        folder = value.strip().rstrip("/") or "."
        if folder.startswith("/") or ".." in folder.split("/"):
            warnings.append(f"{name}: `static` must be a folder inside the app, not {folder}; it is ignored")
            return None
        return folder.removeprefix("./") or "."
    warnings.append(f"{name}: `static` must be the folder to serve, such as `dist`; it is ignored")
    return None


def _spa(name: str, value: Any, warnings: list[str]) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    warnings.append(f"{name}: `spa` must be true or false, not {value!r}; it is ignored")
    return None
