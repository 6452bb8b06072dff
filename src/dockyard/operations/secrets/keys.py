"""The encryption key of secrets at rest: rotate it, re-encrypting every sealed value in one go."""

from dockyard.hosting import sealing
from dockyard.operations.catalog import NoInput, Permission, operation
from dockyard.operations.context import Context
from dockyard.operations.variables.models import KeyRotation
from dockyard.secrets import keyring, vault


@operation("secrets.rotate-key", "POST", "/secrets/rotate-key", permission=Permission.ADMIN)
def rotate_key(ctx: Context, inp: NoInput) -> KeyRotation:
    """Rotate the encryption key of secrets and re-encrypt every stored secret value with the new one.

    With the key file, a new key is generated; older keys leave the file once the values are
    re-encrypted. With DOCKYARD_SECRET_KEY, the values sealed with a key listed in
    DOCKYARD_SECRET_KEY_PREVIOUS are re-encrypted with the current one.
    """
    retired = keyring.for_settings(ctx.settings)
    ring = keyring.begin_rotation(ctx.settings)
    count = vault.reseal_all(ctx.session, ring) + sealing.reseal_all(ctx.session, ring)
    settings = ctx.settings
    ctx.after_commit.append(lambda: keyring.finish_rotation(settings))
    retired_ids = [retired.current_id] if retired.current_id != ring.current_id else []
    return KeyRotation(
        key_source=ring.source,
        key_id=ring.current_id,
        retired_key_ids=retired_ids + [k for k in ring.previous_ids if k not in retired_ids],
        reencrypted_count=count,
        rotated_at=ctx.now,
    )
