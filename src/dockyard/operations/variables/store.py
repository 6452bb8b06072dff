"""Variables of every layer in the store, read as domain entries and written in the caller's unit of work.

Layers live in one table: the project's (scope `project`), an environment's (`defaults`,
`environment`) and a resource's (`resource`). A secret row keeps only a reference to its sealed value.
"""

from collections.abc import Iterable

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from dockyard.domain.ids import new_id
from dockyard.domain.variables import Entry
from dockyard.operations.context import Context
from dockyard.secrets import vault
from dockyard.secrets.masking import Masker
from dockyard.store.tables import ConfigVariable, Deployment, Environment, Resource


def entry(row: ConfigVariable) -> Entry:
    return Entry(
        key=row.key,
        exposure=row.exposure,  # type: ignore[arg-type]
        scope=row.scope,  # type: ignore[arg-type]
        kind=row.kind,
        is_secret=row.is_secret,
        value=None if row.is_secret else row.value,
        secret_ref=row.secret_value_id,
        updated_at=row.updated_at,
    )


def _rows(session: Session, *where: object) -> list[ConfigVariable]:
    stmt = select(ConfigVariable).where(or_(*where)).order_by(ConfigVariable.key, ConfigVariable.exposure)
    return list(session.scalars(stmt))


_ENTRY_COLUMNS = (
    ConfigVariable.key,
    ConfigVariable.exposure,
    ConfigVariable.scope,
    ConfigVariable.kind,
    ConfigVariable.is_secret,
    ConfigVariable.value,
    ConfigVariable.secret_value_id,
    ConfigVariable.updated_at,
)


def _entries(session: Session, *where: object) -> list[Entry]:
    """Entries straight from columns (no ORM objects): the read path of effective views and snapshots."""
    stmt = select(*_ENTRY_COLUMNS).where(or_(*where)).order_by(ConfigVariable.key, ConfigVariable.exposure)
    return [Entry._make(row) for row in session.execute(stmt)]  # columns in the order of Entry's fields


def _project_layer(project_id: str) -> object:
    return and_(ConfigVariable.owner_id == project_id, ConfigVariable.scope == "project")


def _environment_layers(env: Environment) -> tuple[object, ...]:
    """The layers an environment resolves: its project's and its own."""
    return _project_layer(env.project_id), ConfigVariable.owner_id == env.id


def _resource_layers(resource: Resource) -> tuple[object, ...]:
    """The layers a resource resolves: its project's, its environment's and its own."""
    return (
        _project_layer(resource.project_id),
        ConfigVariable.owner_id == resource.environment_id,
        ConfigVariable.owner_id == resource.id,
    )


def environment_rows(session: Session, env: Environment) -> list[ConfigVariable]:
    return _rows(session, *_environment_layers(env))


def environment_entries(session: Session, env: Environment) -> list[Entry]:
    return _entries(session, *_environment_layers(env))


def resource_rows(session: Session, resource: Resource) -> list[ConfigVariable]:
    return _rows(session, *_resource_layers(resource))


def resource_entries(session: Session, resource: Resource) -> list[Entry]:
    return _entries(session, *_resource_layers(resource))


def owned_rows(session: Session, owner_id: str) -> list[ConfigVariable]:
    return _rows(session, ConfigVariable.owner_id == owner_id)


def find(session: Session, owner_id: str, scope: str, key: str, exposure: str) -> ConfigVariable | None:
    return session.scalar(
        select(ConfigVariable).where(
            ConfigVariable.owner_id == owner_id,
            ConfigVariable.scope == scope,
            ConfigVariable.key == key,
            ConfigVariable.exposure == exposure,
        )
    )


def _row(
    ctx: Context,
    project_id: str,
    owner_id: str,
    scope: str,
    key: str,
    exposure: str,
    environment_id: str | None,
    resource_id: str | None,
) -> tuple[ConfigVariable, bool]:
    """The entry with this identity, or a new one added to the session; (row, created)."""
    row = find(ctx.session, owner_id, scope, key, exposure)
    if row is not None:
        return row, False
    row = ConfigVariable(
        id=new_id("variable"),
        project_id=project_id,
        environment_id=environment_id,
        resource_id=resource_id,
        owner_id=owner_id,
        scope=scope,
        key=key,
        exposure=exposure,
        created_at=ctx.now,
    )
    ctx.session.add(row)
    return row, True


def put(
    ctx: Context,
    *,
    project_id: str,
    owner_id: str,
    scope: str,
    key: str,
    exposure: str,
    kind: str,
    is_secret: bool,
    value: str,
    environment_id: str | None = None,
    resource_id: str | None = None,
) -> tuple[ConfigVariable, bool]:
    """Create or replace one entry; (row, created). A secret's value is sealed, never stored as is."""
    row, created = _row(ctx, project_id, owner_id, scope, key, exposure, environment_id, resource_id)
    row.kind, row.is_secret, row.updated_at = kind, is_secret, ctx.now
    if is_secret:
        row.value = None
        row.secret_value = vault.seal(ctx.session, ctx.settings, project_id, value, ctx.now)
    else:
        row.value, row.secret_value = value, None
    return row, created


def copy_rows(ctx: Context, rows: Iterable[ConfigVariable], target: Environment) -> int:
    """Copy entries into `target`'s own layer (same project), replacing same identities. Sealed values
    are shared by reference: they never change, and no plaintext is read."""
    count = 0
    for source in rows:
        row, _ = _row(
            ctx, target.project_id, target.id, source.scope, source.key, source.exposure, target.id, None
        )
        row.kind, row.is_secret, row.updated_at = source.kind, source.is_secret, ctx.now
        row.value, row.secret_value_id = source.value, source.secret_value_id
        count += 1
    return count


def plaintexts(ctx: Context, rows: Iterable[ConfigVariable]) -> dict[str, str]:
    """Secret plaintext by variable id (for comparisons that never leave the server)."""
    rows = [r for r in rows if r.is_secret and r.secret_value_id]
    opened = vault.open_values(ctx.session, ctx.settings, [r.secret_value_id for r in rows])  # type: ignore[misc]
    return {r.id: opened.get(r.secret_value_id or "", "") for r in rows}


def snapshot_refs(snapshot: dict | None) -> list[str]:
    return [v["secretRef"] for v in (snapshot or {}).get("variables", []) if v.get("secretRef")]


def resource_masker(ctx: Context, resource: Resource, deployment_id: str | None) -> Masker:
    """Masks what the resource's running deployment was given and what its secrets are now."""
    refs = [e.secret_ref for e in resource_entries(ctx.session, resource) if e.secret_ref]
    if deployment_id:
        dep = ctx.session.get(Deployment, deployment_id)
        refs += snapshot_refs(dep.environment_snapshot if dep else None)
    return Masker(vault.open_values(ctx.session, ctx.settings, refs).values())
