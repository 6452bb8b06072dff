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
    mcp_idle_timeout_s: float = 300.0  # a server run with no MCP traffic this long is shut down
    public_url: str = "http://127.0.0.1:8420"  # where MCP clients reach this control plane

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
        idle = float(os.environ.get("DOCKYARD_MCP_IDLE_TIMEOUT_S") or 300)
        public = os.environ.get("DOCKYARD_PUBLIC_URL") or os.environ.get("DOCKYARD_URL") or cls.public_url
        return cls(data_dir=base, database_url=url, mcp_idle_timeout_s=idle, public_url=public.rstrip("/"))

    @property
    def token_file(self) -> Path:
        return self.data_dir / "admin.token"
