"""MCP stdio/container `env` sealed: plaintext values in versions' sources become `env_sealed`

Revision ID: 0012
Revises: 0011

The values are sealed with the data dir's keyring (hosting.sealing does the same for new rows), so
this migration needs the data dir: `store.db.migrate` passes it. On SQLite, secure_delete zeroes
the old cells instead of leaving the plaintext in free space.
"""

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TABLES = (("mcp_custom_versions", "id"), ("mcp_provider_versions", "custom_version_id"))


def _sealed(source: dict[str, Any], owner_id: str, data_dir: Path) -> dict[str, Any]:
    from dockyard.secrets import keyring

    env = source["env"]
    ring = keyring.for_data_dir(data_dir)
    rest = {k: v for k, v in source.items() if k != "env"}
    return rest | {"env_sealed": ring.encrypt(json.dumps(env), owner_id), "env_keys": sorted(env)}


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA secure_delete = ON")
    data_dir = context.config.attributes.get("data_dir")
    for name, owner in TABLES:
        table = sa.table(name, sa.column("id"), sa.column(owner), sa.column("source", sa.JSON))
        owner_col = table.c[owner]
        rows = conn.execute(sa.select(table.c.id, owner_col.label("owner_id"), table.c.source)).all()
        for row in rows:
            source = row.source if isinstance(row.source, dict) else json.loads(row.source or "{}")
            if not source.get("env"):
                continue
            if data_dir is None:
                raise RuntimeError("sealing MCP env values needs the data dir (its secret key)")
            sealed = _sealed(source, row.owner_id, Path(data_dir))
            conn.execute(table.update().where(table.c.id == row.id).values(source=sealed))


def downgrade() -> None:
    """The sealed values stay sealed (hosting.sources opens them)."""
