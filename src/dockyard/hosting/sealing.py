"""MCP secrets kept inline in their rows — a provider config (sealed whole), the registry password,
remote headers and the stdio/container `env` of a version's source — sealed with the control plane's
keyring (secrets.keyring), bound to the row they belong to (`owner_id`), and re-sealed with the rest
on a key rotation. A sealed `env` keeps its variable names in `env_keys`, which is what answers show."""

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from dockyard.secrets import keyring
from dockyard.store.mcp_tables import McpCustomVersion, McpProviderConfig, McpProviderVersion

# Of a version's `source`; their owner is the custom version.
SOURCE_FIELDS = ("password_sealed", "headers_sealed", "env_sealed")


def seal(data_dir: Path, plaintext: str, owner_id: str) -> str:
    return keyring.for_data_dir(data_dir).encrypt(plaintext, owner_id)


def open_sealed(data_dir: Path, token: str, owner_id: str) -> str:
    return keyring.for_data_dir(data_dir).decrypt(token, owner_id)


def _reseal(ring: keyring.Keyring, token: str, owner_id: str) -> str | None:
    if keyring.Keyring.sealed_with(token) == ring.current_id:
        return None
    return ring.encrypt(ring.decrypt(token, owner_id), owner_id)


def reseal_all(session: Session, ring: keyring.Keyring) -> int:
    """Re-encrypt with the current key every MCP secret sealed with another; returns how many."""
    count = 0
    for config in session.scalars(select(McpProviderConfig)):
        if (fresh := _reseal(ring, config.sealed, config.id)) is not None:
            config.sealed, count = fresh, count + 1
    versions = [(v, v.id) for v in session.scalars(select(McpCustomVersion))]
    versions += [(v, v.custom_version_id) for v in session.scalars(select(McpProviderVersion))]
    for version, owner_id in versions:
        source = dict(version.source or {})
        changed = False
        for field in SOURCE_FIELDS:
            if source.get(field) and (fresh := _reseal(ring, source[field], owner_id)) is not None:
                source[field], changed, count = fresh, True, count + 1
        if changed:
            version.source = source
    return count
