"""The long-lived parts a handler may need beyond its unit of work: database, runtime, worker."""

from collections.abc import Callable
from dataclasses import dataclass, field

from dockyard.config import Settings
from dockyard.runtimes.host_process import HostProcessRuntime
from dockyard.store.db import Database
from dockyard.store.reserved_ports import reserved_ports


@dataclass
class Services:
    settings: Settings
    db: Database
    runtime: HostProcessRuntime
    wake_worker: Callable[[], None] = field(default=lambda: None)
    mcp_session_closed: Callable[[str], None] = field(default=lambda _session_id: None)  # set by the gateway

    @classmethod
    def create(cls, settings: Settings, db: Database) -> "Services":
        runtime = HostProcessRuntime(settings.data_dir, reserved=lambda: reserved_ports(db))
        return cls(settings=settings, db=db, runtime=runtime)
