"""Sealed secret values in the store: add one, open some, re-seal all (key rotation).

A value is sealed once and never changed (a new value is a new row), so a deployment's snapshot can
refer to exactly the value it ran with.
"""

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from dockyard.config import Settings
from dockyard.domain.ids import new_id
from dockyard.secrets import keyring
from dockyard.store.tables import SecretValue


def seal(session: Session, settings: Settings, project_id: str, plaintext: str, now: str) -> SecretValue:
    ring = keyring.for_settings(settings)
    value_id = new_id("secret_value")
    row = SecretValue(
        id=value_id,
        project_id=project_id,
        ciphertext=ring.encrypt(plaintext, value_id),
        key_id=ring.current_id,
        created_at=now,
    )
    session.add(row)
    return row


def open_values(session: Session, settings: Settings, value_ids: Iterable[str]) -> dict[str, str]:
    """Plaintext by id, for the ids that exist. Only the pipeline and comparisons call this."""
    wanted = sorted(set(value_ids))
    if not wanted:
        return {}
    ring = keyring.for_settings(settings)
    out: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        rows = session.scalars(select(SecretValue).where(SecretValue.id.in_(wanted[start : start + 500])))
        out.update({row.id: ring.decrypt(row.ciphertext, row.id) for row in rows})
    return out


def reseal_all(session: Session, ring: keyring.Keyring) -> int:
    """Re-encrypt with the current key every value sealed with another; returns how many."""
    count = 0
    for row in session.scalars(select(SecretValue).where(SecretValue.key_id != ring.current_id)):
        row.ciphertext = ring.encrypt(ring.decrypt(row.ciphertext, row.id), row.id)
        row.key_id = ring.current_id
        count += 1
    return count
