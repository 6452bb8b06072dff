"""Environments: a project's stages (local, staging, production…), each with its own configuration."""

from typing import Literal

from pydantic import Field
from sqlalchemy import select

from dockyard.domain import lifecycle, variables
from dockyard.domain.errors import Conflict
from dockyard.domain.ids import new_id
from dockyard.domain.model import CamelModel
from dockyard.operations.catalog import operation
from dockyard.operations.common import CountOut, EnvironmentId, IdOut, Name, PageQuery, ProjectId, ReasonInput
from dockyard.operations.context import Context
from dockyard.operations.projects.handlers import load as load_project
from dockyard.operations.variables import store as variable_store
from dockyard.store import queries
from dockyard.store.tables import ConfigVariable, Environment

EnvironmentKind = Literal["local", "development", "test", "staging", "production", "preview", "custom"]


class MaskedVariable(CamelModel):
    key: str
    value: str
    scope: str
    exposure: Literal["build-time", "runtime"]
    is_secret: bool
    kind: str

    @classmethod
    def of_row(cls, row: ConfigVariable) -> "MaskedVariable":
        return cls.model_validate(variables.wire(variable_store.entry(row), with_ref=False))


class EnvironmentOut(CamelModel):
    id: str
    project_id: str
    name: str
    kind: EnvironmentKind
    parent_environment_id: str | None
    lifecycle_status: Literal["active", "locked", "archived"]
    locked_at: str | None
    lock_reason: str | None
    archived_at: str | None
    archive_reason: str | None
    created_at: str
    masked_variables: list[MaskedVariable] = Field(default_factory=list)

    @classmethod
    def of(cls, row: Environment, rows: list[ConfigVariable]) -> "EnvironmentOut":
        """The environment with its own variables (secrets masked)."""
        out = cls.model_validate(row, from_attributes=True)
        out.masked_variables = [MaskedVariable.of_row(r) for r in rows]
        return out


def _with_variables(ctx: Context, rows: list[Environment]) -> list[EnvironmentOut]:
    owned: dict[str, list[ConfigVariable]] = {r.id: [] for r in rows}
    if rows:
        stmt = select(ConfigVariable).where(ConfigVariable.owner_id.in_(list(owned)))
        for var in ctx.session.scalars(stmt.order_by(ConfigVariable.key, ConfigVariable.exposure)):
            owned[var.owner_id].append(var)
    return [EnvironmentOut.of(r, owned[r.id]) for r in rows]


class EnvironmentList(CamelModel):
    items: list[EnvironmentOut]
    next_cursor: str | None = None


class ProjectFilter(CamelModel):
    project_id: ProjectId | None = None


class EnvironmentPage(PageQuery, ProjectFilter):
    pass


class EnvironmentRef(CamelModel):
    environment_id: EnvironmentId


class CreateEnvironment(CamelModel):
    project_id: ProjectId
    name: Name
    kind: EnvironmentKind = "custom"


class RenameEnvironment(EnvironmentRef):
    name: Name


class LockEnvironment(EnvironmentRef, ReasonInput):
    pass


class CloneEnvironment(EnvironmentRef):
    target_name: Name
    kind: EnvironmentKind | None = None


def load(ctx: Context, environment_id: str) -> Environment:
    return queries.get_or_404(ctx.session, Environment, environment_id, "environment")


def _ensure_name_free(ctx: Context, project_id: str, name: str) -> None:
    taken = ctx.session.scalar(
        select(Environment.id).where(Environment.project_id == project_id, Environment.name == name)
    )
    if taken:
        raise Conflict(
            f"Project {project_id} already has an environment named {name!r}.",
            code="environment_name_conflict",
            details={"name": name, "environmentId": taken},
            next_action="Choose another name, or use the existing environment.",
        )


def _filter(inp: ProjectFilter) -> list:
    return [Environment.project_id == inp.project_id] if inp.project_id else []


def add_environment(
    ctx: Context, project_id: str, name: str, kind: str, parent_id: str | None = None
) -> Environment:
    project = load_project(ctx, project_id)
    lifecycle.ensure_project_active(project.lifecycle_status, project.id)
    _ensure_name_free(ctx, project.id, name)
    row = Environment(
        id=new_id("environment"),
        project_id=project.id,
        name=name,
        kind=kind,
        parent_environment_id=parent_id,
        lifecycle_status="active",
        created_at=ctx.now,
    )
    ctx.session.add(row)
    return row


@operation("environments.count", "GET", "/environments/count")
def count_environments(ctx: Context, inp: ProjectFilter) -> CountOut:
    """Count environments, optionally of one project."""
    return CountOut(count=queries.count(ctx.session, Environment, *_filter(inp)))


@operation("environments.list", "GET", "/environments")
def list_environments(ctx: Context, inp: EnvironmentPage) -> EnvironmentList:
    """List environments, newest first, optionally of one project."""
    stmt = select(Environment).where(*_filter(inp))
    rows, cursor = queries.keyset_page(ctx.session, stmt, Environment.id, inp.limit, inp.cursor)
    return EnvironmentList(items=_with_variables(ctx, rows), next_cursor=cursor)


@operation("environments.create", "POST", "/environments", status_code=201)
def create_environment(ctx: Context, inp: CreateEnvironment) -> IdOut:
    """Create an environment in an active project."""
    return IdOut(id=add_environment(ctx, inp.project_id, inp.name, inp.kind).id)


@operation("environments.show", "GET", "/environments/{environmentId}")
def show_environment(ctx: Context, inp: EnvironmentRef) -> EnvironmentOut:
    """Read one environment, with its own variables (secrets masked)."""
    return _with_variables(ctx, [load(ctx, inp.environment_id)])[0]


@operation("environments.rename", "POST", "/environments/{environmentId}/rename")
def rename_environment(ctx: Context, inp: RenameEnvironment) -> IdOut:
    """Rename an active environment without touching its configuration or deployments."""
    row = load(ctx, inp.environment_id)
    lifecycle.ensure_environment_writable(row.lifecycle_status, row.id)
    if inp.name != row.name:
        _ensure_name_free(ctx, row.project_id, inp.name)
        row.name = inp.name
    return IdOut(id=row.id)


@operation("environments.lock", "POST", "/environments/{environmentId}/lock")
def lock_environment(ctx: Context, inp: LockEnvironment) -> IdOut:
    """Lock an environment: it stays readable and refuses changes until unlocked."""
    row = load(ctx, inp.environment_id)
    if row.lifecycle_status == "archived":
        lifecycle.ensure_environment_writable(row.lifecycle_status, row.id)
    if row.lifecycle_status != "locked":
        row.lifecycle_status, row.locked_at, row.lock_reason = "locked", ctx.now, inp.reason
    return IdOut(id=row.id)


@operation("environments.unlock", "POST", "/environments/{environmentId}/unlock")
def unlock_environment(ctx: Context, inp: EnvironmentRef) -> IdOut:
    """Unlock an environment so changes are accepted again."""
    row = load(ctx, inp.environment_id)
    if row.lifecycle_status == "archived":
        lifecycle.ensure_environment_writable(row.lifecycle_status, row.id)
    row.lifecycle_status, row.locked_at, row.lock_reason = "active", None, None
    return IdOut(id=row.id)


@operation("environments.archive", "POST", "/environments/{environmentId}/archive")
def archive_environment(ctx: Context, inp: LockEnvironment) -> IdOut:
    """Archive an environment; its deployment history stays readable."""
    row = load(ctx, inp.environment_id)
    if row.lifecycle_status != "archived":
        lifecycle.ensure_environment_writable(row.lifecycle_status, row.id)
        row.lifecycle_status, row.archived_at, row.archive_reason = "archived", ctx.now, inp.reason
    return IdOut(id=row.id)


@operation("environments.clone", "POST", "/environments/{environmentId}/clone", status_code=201)
def clone_environment(ctx: Context, inp: CloneEnvironment) -> IdOut:
    """Clone an active environment into a new one in the same project, with its variables.

    Resources, deployments and runtime state are not copied; secrets are copied by reference to their
    sealed values (no plaintext is read).
    """
    source = load(ctx, inp.environment_id)
    lifecycle.ensure_environment_writable(source.lifecycle_status, source.id)
    target = add_environment(ctx, source.project_id, inp.target_name, inp.kind or source.kind, source.id)
    ctx.session.flush()
    variable_store.copy_rows(ctx, variable_store.owned_rows(ctx.session, source.id), target)
    return IdOut(id=target.id)
