"""The store: tables on one metadata (both modules imported here, so migrations and checks see all)."""

from dockyard.store import mcp_tables, tables  # noqa: F401
