"""Projects: the top-level grouping of environments and resources."""

from typing import Literal

from pydantic import Field
from sqlalchemy import select

from dockyard.domain import lifecycle
from dockyard.domain.errors import Conflict
from dockyard.domain.ids import new_id
from dockyard.domain.model import CamelModel
from dockyard.domain.names import slugify
from dockyard.operations.catalog import NoInput, operation
from dockyard.operations.common import (
    Blocker,
    CountOut,
    IdOut,
    Name,
    PageQuery,
    ProjectId,
    Reason,
    ReasonInput,
)
from dockyard.operations.context import Context
from dockyard.store import queries
from dockyard.store.tables import Organization, Project, Resource


class ProjectOut(CamelModel):
    id: str
    organization_id: str
    name: str
    slug: str
    description: str | None
    lifecycle_status: Literal["active", "archived"]
    archived_at: str | None
    archive_reason: str | None
    created_at: str

    @classmethod
    def of(cls, row: Project) -> "ProjectOut":
        return cls.model_validate(row, from_attributes=True)


class ProjectList(CamelModel):
    items: list[ProjectOut]
    next_cursor: str | None = None


class ProjectRef(CamelModel):
    project_id: ProjectId


class CreateProject(CamelModel):
    name: Name
    description: Reason | None = None


class RenameProject(ProjectRef):
    name: Name


class DescribeProject(ProjectRef):
    description: Reason | None = None


class ArchiveProject(ProjectRef, ReasonInput):
    pass


class ProjectConfirmation(CamelModel):
    project_id: str = Field(description="The project's id, typed again to confirm the deletion.")


class DeleteProject(ProjectRef):
    confirmation: ProjectConfirmation


class ProjectDeleteCheck(CamelModel):
    schema_version: str = "projects.delete-check/v1"
    project_id: str
    lifecycle_status: str
    eligible: bool
    blockers: list[Blocker]
    checked_at: str


def load(ctx: Context, project_id: str) -> Project:
    return queries.get_or_404(ctx.session, Project, project_id, "project")


def _ensure_slug_free(ctx: Context, org_id: str, slug: str, except_id: str | None = None) -> None:
    taken = ctx.session.scalar(
        select(Project.id).where(Project.organization_id == org_id, Project.slug == slug)
    )
    if taken and taken != except_id:
        raise Conflict(
            f"A project with slug {slug!r} already exists.",
            code="project_slug_conflict",
            details={"slug": slug, "projectId": taken},
            next_action="Choose another name, or use the existing project.",
        )


def default_organization_id(ctx: Context) -> str:
    return ctx.session.scalars(select(Organization.id).order_by(Organization.id).limit(1)).one()


@operation("projects.count", "GET", "/projects/count")
def count_projects(ctx: Context, inp: NoInput) -> CountOut:
    """Count projects."""
    return CountOut(count=queries.count(ctx.session, Project))


@operation("projects.list", "GET", "/projects")
def list_projects(ctx: Context, inp: PageQuery) -> ProjectList:
    """List projects, newest first."""
    rows, cursor = queries.keyset_page(ctx.session, select(Project), Project.id, inp.limit, inp.cursor)
    return ProjectList(items=[ProjectOut.of(r) for r in rows], next_cursor=cursor)


@operation("projects.create", "POST", "/projects", status_code=201)
def create_project(ctx: Context, inp: CreateProject) -> IdOut:
    """Create a project."""
    org_id = default_organization_id(ctx)
    slug = slugify(inp.name)
    _ensure_slug_free(ctx, org_id, slug)
    row = Project(
        id=new_id("project"),
        organization_id=org_id,
        name=inp.name,
        slug=slug,
        description=inp.description,
        lifecycle_status="active",
        created_at=ctx.now,
    )
    ctx.session.add(row)
    return IdOut(id=row.id)


@operation("projects.show", "GET", "/projects/{projectId}")
def show_project(ctx: Context, inp: ProjectRef) -> ProjectOut:
    """Read one project."""
    return ProjectOut.of(load(ctx, inp.project_id))


@operation("projects.rename", "POST", "/projects/{projectId}/rename")
def rename_project(ctx: Context, inp: RenameProject) -> IdOut:
    """Rename a project; its slug follows the new name."""
    row = load(ctx, inp.project_id)
    lifecycle.ensure_project_active(row.lifecycle_status, row.id)
    slug = slugify(inp.name)
    _ensure_slug_free(ctx, row.organization_id, slug, except_id=row.id)
    row.name, row.slug = inp.name, slug
    return IdOut(id=row.id)


@operation("projects.set-description", "POST", "/projects/{projectId}/description")
def describe_project(ctx: Context, inp: DescribeProject) -> IdOut:
    """Set or clear a project's description."""
    row = load(ctx, inp.project_id)
    lifecycle.ensure_project_active(row.lifecycle_status, row.id)
    row.description = inp.description
    return IdOut(id=row.id)


@operation("projects.archive", "POST", "/projects/{projectId}/archive")
def archive_project(ctx: Context, inp: ArchiveProject) -> IdOut:
    """Archive a project: it stays readable and refuses new environments and resources."""
    row = load(ctx, inp.project_id)
    if row.lifecycle_status != "archived":
        row.lifecycle_status, row.archived_at, row.archive_reason = "archived", ctx.now, inp.reason
    return IdOut(id=row.id)


@operation("projects.restore", "POST", "/projects/{projectId}/restore")
def restore_project(ctx: Context, inp: ProjectRef) -> IdOut:
    """Restore an archived project to active."""
    row = load(ctx, inp.project_id)
    row.lifecycle_status, row.archived_at, row.archive_reason = "active", None, None
    return IdOut(id=row.id)


def _blockers(ctx: Context, row: Project) -> list[lifecycle.Blocker]:
    live = queries.count(ctx.session, Resource, Resource.project_id == row.id, Resource.deleted_at.is_(None))
    return lifecycle.project_delete_blockers(row.lifecycle_status, row.id, live)


@operation("projects.delete-check", "GET", "/projects/{projectId}/delete-check")
def project_delete_check(ctx: Context, inp: ProjectRef) -> ProjectDeleteCheck:
    """Preview whether a project can be deleted, and what blocks it."""
    row = load(ctx, inp.project_id)
    blockers = _blockers(ctx, row)
    return ProjectDeleteCheck(
        project_id=row.id,
        lifecycle_status=row.lifecycle_status,
        eligible=not blockers,
        blockers=Blocker.of_all(blockers),
        checked_at=ctx.now,
    )


@operation("projects.delete", "DELETE", "/projects/{projectId}")
def delete_project(ctx: Context, inp: DeleteProject) -> IdOut:
    """Delete an archived project with no live resources; needs confirmation.projectId."""
    row = load(ctx, inp.project_id)
    lifecycle.ensure_confirmed(inp.confirmation.project_id, row.id, "projectId")
    lifecycle.refuse_if_blocked(
        _blockers(ctx, row),
        f"Project {row.id}",
        f"See dockyard projects delete-check {row.id}; archive the project and delete its resources first.",
    )
    ctx.session.delete(row)
    return IdOut(id=row.id)
