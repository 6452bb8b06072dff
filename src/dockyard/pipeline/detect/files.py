"""A read-only, bounded view of the app folder that every detector reads through.

It never leaves the folder (symlinks that resolve outside are treated as absent), never looks inside
dependency or VCS folders, and never reads a file over 1 MiB.
"""

from pathlib import Path, PurePosixPath

MAX_BYTES = 1 << 20
SKIP_DIRS = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__"})


class Source:
    """The app folder. Paths in and out are relative, POSIX-style ("src/app/main.py")."""

    def __init__(self, root: Path) -> None:
        if not root.exists():
            raise FileNotFoundError(f"{root} does not exist")
        if not root.is_dir():
            raise NotADirectoryError(f"{root} is not a folder")
        self.root = root.resolve()
        self.skipped: list[str] = []
        self._texts: dict[str, str | None] = {}

    def _inside(self, rel: str) -> Path | None:
        parts = PurePosixPath(rel).parts
        if not parts or PurePosixPath(rel).is_absolute() or any(p in SKIP_DIRS or p == ".." for p in parts):
            return None
        path = self.root.joinpath(*parts)
        try:
            resolved = path.resolve()
        except (OSError, RuntimeError):  # symlink loops
            return None
        return path if resolved.is_relative_to(self.root) else None

    def is_file(self, rel: str) -> bool:
        path = self._inside(rel)
        try:
            return path is not None and path.is_file()
        except OSError:  # unreadable folders count as absent
            return False

    def is_dir(self, rel: str) -> bool:
        path = self._inside(rel)
        try:
            return path is not None and path.is_dir()
        except OSError:
            return False

    def first_file(self, *names: str) -> str | None:
        return next((name for name in names if self.is_file(name)), None)

    def subdirs(self, rel: str = "") -> list[str]:
        """Sorted child folders of `rel`, leaving out hidden and skipped ones."""
        base = self._inside(rel) if rel else self.root
        if base is None or not base.is_dir():
            return []
        try:
            names = sorted(p.name for p in base.iterdir() if not p.name.startswith("."))
        except OSError:
            return []
        prefix = f"{rel}/" if rel else ""
        return [prefix + name for name in names if self.is_dir(prefix + name)]

    def read_text(self, rel: str) -> str | None:
        """The file's text, or None when it is absent, outside the folder, or too large to read."""
        if rel not in self._texts:
            self._texts[rel] = self._read(rel)
        return self._texts[rel]

    def _read(self, rel: str) -> str | None:
        path = self._inside(rel)
        if path is None or not path.is_file():
            return None
        try:
            if path.stat().st_size > MAX_BYTES:
                self.skipped.append(f"{rel} is larger than 1 MiB and was not read")
                return None
            return path.read_text(encoding="utf-8-sig", errors="replace")
        except OSError:
            return None
