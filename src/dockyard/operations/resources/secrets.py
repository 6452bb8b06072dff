"""A resource's secrets: runtime variables whose values are sealed at rest and never read back.

Create, read (masked), rotate (a new sealed value; running deployments keep theirs until the next
deploy) and delete. They are the resource layer's secret entries, so they also show in the
resource's effective configuration.
"""

from dockyard.domain import variables as v
from dockyard.domain.errors import Conflict, NotFound
from dockyard.operations.catalog import operation
from dockyard.operations.context import Context
from dockyard.operations.resources.handlers import load, load_writable
from dockyard.operations.resources.variables import put_resource_variable
from dockyard.operations.variables import store
from dockyard.operations.variables.models import (
    CreateSecret,
    DeleteSecret,
    RotateSecret,
    SecretItem,
    SecretKeyQuery,
    SecretList,
    SecretMutation,
    SecretQuery,
    SecretShow,
)
from dockyard.store.tables import ConfigVariable

RUNTIME = "runtime"


def _item(row: ConfigVariable) -> SecretItem:
    return SecretItem(
        resource_id=row.resource_id or "",
        key=row.key,
        exposure=row.exposure,  # type: ignore[arg-type]
        updated_at=row.updated_at,
    )


def _secret(ctx: Context, resource_id: str, key: str, exposure: str) -> ConfigVariable:
    v.check_key(key)
    row = store.find(ctx.session, resource_id, "resource", key, exposure)
    if row is None or not row.is_secret:
        raise NotFound(
            f"Resource {resource_id} has no {exposure} secret {key}.",
            code="secret_not_found",
            details={"resourceId": resource_id, "key": key, "exposure": exposure},
            next_action=f"List its secrets: dockyard resources list-secrets {resource_id}",
        )
    return row


@operation("resources.list-secrets", "GET", "/resources/{resourceId}/secrets")
def list_secrets(ctx: Context, inp: SecretQuery) -> SecretList:
    """List a resource's own secrets, masked."""
    row = load(ctx, inp.resource_id)
    rows = [r for r in store.owned_rows(ctx.session, row.id) if r.is_secret and r.exposure == inp.exposure]
    return SecretList(resource_id=row.id, items=[_item(r) for r in rows], generated_at=ctx.now)


@operation("resources.show-secret", "GET", "/resources/{resourceId}/secrets/{key}")
def show_secret(ctx: Context, inp: SecretKeyQuery) -> SecretShow:
    """Read one of a resource's secrets, masked (when it was last set, never its value)."""
    row = load(ctx, inp.resource_id)
    return SecretShow(secret=_item(_secret(ctx, row.id, inp.key, inp.exposure)), generated_at=ctx.now)


@operation("resources.create-secret", "POST", "/resources/{resourceId}/secrets", status_code=201)
def create_secret(ctx: Context, inp: CreateSecret) -> SecretMutation:
    """Create a runtime secret of a resource; its value is never shown again."""
    row = load_writable(ctx, inp.resource_id)
    v.check_key(inp.key)
    if store.find(ctx.session, row.id, "resource", inp.key, RUNTIME) is not None:
        raise Conflict(
            f"Resource {row.id} already has a runtime variable {inp.key}.",
            code="secret_exists",
            details={"resourceId": row.id, "key": inp.key},
            next_action=f"Rotate it instead: dockyard resources rotate-secret {row.id} {inp.key} --value …",
        )
    put_resource_variable(ctx, row, inp.key, inp.value, RUNTIME, "secret", True)
    return SecretMutation(resource_id=row.id, key=inp.key)


@operation("resources.rotate-secret", "POST", "/resources/{resourceId}/secrets/{key}")
def rotate_secret(ctx: Context, inp: RotateSecret) -> SecretMutation:
    """Give an existing secret a new value; deployments started before keep the value they ran with."""
    row = load_writable(ctx, inp.resource_id)
    _secret(ctx, row.id, inp.key, RUNTIME)
    put_resource_variable(ctx, row, inp.key, inp.value, RUNTIME, "secret", True)
    return SecretMutation(resource_id=row.id, key=inp.key)


@operation("resources.delete-secret", "DELETE", "/resources/{resourceId}/secrets/{key}")
def delete_secret(ctx: Context, inp: DeleteSecret) -> SecretMutation:
    """Delete one of a resource's secrets; the next deployment runs without it."""
    row = load_writable(ctx, inp.resource_id)
    ctx.session.delete(_secret(ctx, row.id, inp.key, RUNTIME))
    return SecretMutation(resource_id=row.id, key=inp.key)
