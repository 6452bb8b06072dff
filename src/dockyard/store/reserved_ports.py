"""Ports the store has handed out on a machine: what the host runtime must never allocate again."""

from sqlalchemy import select

from dockyard.store.db import Database
from dockyard.store.tables import Resource, Server

EDGE_PORT_KEYS = ("httpPort", "httpsPort", "adminPort")


def reserved_ports(db: Database) -> set[int]:
    """Every server's edge listeners (configured, running or not yet) and every resource's host port."""
    with db.session() as s:
        found = [(e or {}).get(key) for e in s.scalars(select(Server.edge_proxy)) for key in EDGE_PORT_KEYS]
        networks = select(Resource.network_profile).where(Resource.deleted_at.is_(None))
        found += [(n or {}).get("hostPort") for n in s.scalars(networks)]
    return {port for port in found if isinstance(port, int)}
