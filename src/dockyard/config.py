"""Settings from the environment, with the defaults a single machine needs."""

import os
from dataclasses import dataclass
from pathlib import Path


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'dockyard.db'}"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str

    @classmethod
    def from_env(cls, data_dir: str | Path | None = None) -> "Settings":
        base = (
            Path(
                data_dir
                or os.environ.get("DOCKYARD_DATA_DIR")
                or Path.home() / ".local" / "share" / "dockyard"
            )
            .expanduser()
            .resolve()
        )
        url = os.environ.get("DOCKYARD_DATABASE_URL") or sqlite_url(base)
        return cls(data_dir=base, database_url=url)

    @property
    def token_file(self) -> Path:
        return self.data_dir / "admin.token"
