"""Which Python an app asks for, and which of the machine's interpreters answers it. Pure: file texts
and (version, path) pairs in, a request and a choice out; finding and asking the interpreters is
pipeline/interpreters.py.

The request comes from the first of `.python-version` (first non-comment line: `3.12`, `3.12.3`,
`cpython-3.12`, or a specifier such as `>=3.12`), `runtime.txt` (`python-3.12.3`) and
`[project].requires-python` in pyproject.toml (`>=3.10,<3.13`).
"""

import re
from dataclasses import dataclass
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet

Version = tuple[int, ...]
PREFIX_RE = re.compile(r"^(?:c?python)?[-@]?(\d+(?:\.\d+){0,2})$", re.IGNORECASE)


class UnreadableRequest(ValueError):
    """The version file names something that is neither a version nor a specifier."""


@dataclass(frozen=True)
class Request:
    """`text` as the app wrote it, `origin` the file (and key) it came from."""

    text: str
    origin: str
    prefix: Version | None = None  # `3.12` matches 3.12.x; `3.1` never matches 3.10
    specifier: SpecifierSet | None = None

    def allows(self, version: Version) -> bool:
        if self.prefix is not None:
            return version[: len(self.prefix)] == self.prefix
        assert self.specifier is not None
        return self.specifier.contains(".".join(map(str, version)), prereleases=True)


@dataclass(frozen=True)
class Interpreter:
    version: Version
    path: str

    @property
    def label(self) -> str:
        return ".".join(map(str, self.version))


def parse(text: str, origin: str) -> Request:
    """A request from one version string; UnreadableRequest when it is neither form."""
    text = text.strip()
    match = PREFIX_RE.match(text)
    if match:
        return Request(text, origin, prefix=tuple(int(p) for p in match.group(1).split(".")))
    try:
        return Request(text, origin, specifier=SpecifierSet(text))
    except InvalidSpecifier as exc:
        raise UnreadableRequest(f"{origin} asks for {text!r}, which is not a Python version") from exc


def first_line(text: str | None) -> str | None:
    """The first line that is neither blank nor a comment."""
    for line in (text or "").splitlines():
        if line.strip() and not line.strip().startswith("#"):
            return line.strip()
    return None


def version_file(python_version: str | None, runtime_txt: str | None) -> tuple[str, str] | None:
    """(the requested version as written, its file) from .python-version, else runtime.txt."""
    line = first_line(python_version)
    if line:
        return line, ".python-version"
    runtime = (runtime_txt or "").strip()
    return (runtime.removeprefix("python-"), "runtime.txt") if runtime else None


def requested(
    python_version: str | None, runtime_txt: str | None, pyproject: dict[str, Any] | None
) -> Request | None:
    """The app's request from its files' texts (None: absent), or None when it asks for nothing."""
    found = version_file(python_version, runtime_txt)
    if found:
        return parse(found[0], found[1])
    project = (pyproject or {}).get("project")
    wanted = project.get("requires-python") if isinstance(project, dict) else None
    if isinstance(wanted, str) and wanted.strip():
        return parse(wanted, "requires-python in pyproject.toml")
    return None


def choose(request: Request | None, candidates: list[Interpreter]) -> Interpreter | None:
    """The first candidate (Dockyard's own Python) when it satisfies the request, else the newest
    one that does; None when none does."""
    fitting = [c for c in candidates if request is None or request.allows(c.version)]
    if not fitting:
        return None
    if fitting[0] is candidates[0]:
        return fitting[0]
    return max(fitting, key=lambda c: c.version)  # max keeps the first of equal versions


def unavailable(request: Request, candidates: list[Interpreter]) -> tuple[str, str]:
    """(message, next action) for a request no interpreter here satisfies."""
    have = sorted({c.version for c in candidates})
    listed = ", ".join(".".join(map(str, v)) for v in have) or "none"
    message = f"{request.origin} asks for Python {request.text}, but this machine has Python {listed}"
    if request.prefix is not None:
        install = ".".join(map(str, request.prefix[:2]))
        what = f"install Python {install} (`pyenv install {install}`)"
    else:
        what = f"install a Python that satisfies {request.text} (e.g. with `pyenv install`)"
    change = "to one of" if request.prefix is not None else "so that it allows one of"
    return message, f"{what[0].upper()}{what[1:]}, or change {request.origin} {change} {listed}."
