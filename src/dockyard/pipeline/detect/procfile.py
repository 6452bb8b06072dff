"""Procfile: `web: <command>` says how to start the app (Heroku convention, usually with $PORT)."""

import re
from dataclasses import dataclass

from dockyard.pipeline.detect.files import Source

LINE = re.compile(r"^([A-Za-z0-9_-]+)\s*:\s*(.*)$")


@dataclass(frozen=True)
class Procfile:
    path: str | None = None
    processes: tuple[tuple[str, str], ...] = ()  # (type, command) in file order
    warnings: tuple[str, ...] = ()

    def command(self, kind: str) -> str | None:
        return next((cmd for name, cmd in self.processes if name == kind), None)


def read_procfile(src: Source) -> Procfile:
    if not src.is_file("Procfile"):
        return Procfile()
    text = src.read_text("Procfile")
    if text is None:
        return Procfile(warnings=("Procfile could not be read and is ignored",))
    processes: list[tuple[str, str]] = []
    warnings: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = LINE.match(line)
        if match is None or not match.group(2).strip():
            warnings.append(f"Procfile line {number} is not `type: command` and is ignored: {line}")
            continue
        kind, command = match.group(1), match.group(2).strip()
        if any(name == kind for name, _ in processes):
            warnings.append(f"Procfile declares `{kind}` more than once: the first one is used")
            continue
        processes.append((kind, command))
    if not processes:
        warnings.append("Procfile declares no processes")
    return Procfile(path="Procfile", processes=tuple(processes), warnings=tuple(warnings))
