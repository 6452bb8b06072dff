"""Usage counters of sessions, server sessions and runs: counted in memory on the hot path and added
to the store in batches (every FLUSH_S, and when a run ends), so a tools/call costs no write."""

import threading
from collections import defaultdict

import anyio
from sqlalchemy import update

from dockyard.store.db import Database
from dockyard.store.mcp_tables import McpServerRun, McpServerSession, McpSession

FLUSH_S = 0.5
TABLES = {"session": McpSession, "server_session": McpServerSession, "run": McpServerRun}


class UsageCounter:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])

    def add(self, kind: str, row_id: str, client: int = 1, server: int = 1, refused: int = 0) -> None:
        with self._lock:
            counts = self._pending[(kind, row_id)]
            counts[0] += client
            counts[1] += server
            counts[2] += refused

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, defaultdict(lambda: [0, 0, 0])
        if not pending:
            return
        with self.db.session() as s:
            for (kind, row_id), (client, server, refused) in pending.items():
                table = TABLES[kind]
                values = {
                    "client_message_count": table.client_message_count + client,
                    "server_message_count": table.server_message_count + server,
                }
                if refused:
                    values["refused_tool_call_count"] = McpServerSession.refused_tool_call_count + refused
                s.execute(update(table).where(table.id == row_id).values(**values))

    async def flush_forever(self) -> None:
        while True:
            await anyio.sleep(FLUSH_S)
            await anyio.to_thread.run_sync(self.flush)
