"""Resources: the deployable units (an app, a static site, a worker) inside an environment."""

from sqlalchemy import select

from dockyard.domain import lifecycle
from dockyard.domain.config_drift import config_drift
from dockyard.domain.diagnostics import profile_diagnostics
from dockyard.domain.errors import Conflict
from dockyard.domain.ids import new_id
from dockyard.domain.names import slugify
from dockyard.domain.profiles import AccessProfile, HealthCheck, NetworkProfile, RuntimeProfile, Service
from dockyard.operations.catalog import operation
from dockyard.operations.common import CountOut, IdOut
from dockyard.operations.context import Context
from dockyard.operations.deployments.rollups import Rollup, live_route, rollups
from dockyard.operations.environments.handlers import load as load_environment
from dockyard.operations.projects.handlers import load as load_project
from dockyard.operations.resources import access_failures
from dockyard.operations.resources.access_models import AccessFailure
from dockyard.operations.resources.control_models import attempt_of
from dockyard.operations.resources.models import (
    AccessSummary,
    ArchiveResource,
    CreateResource,
    DeleteResource,
    DiagnosticOut,
    LatestDeployment,
    Lifecycle,
    ResourceCore,
    ResourceFilter,
    ResourceList,
    ResourcePage,
    ResourceShow,
    ResourceSummary,
    RuntimeView,
    ShowResource,
)
from dockyard.pipeline.app_env import remove_app_data
from dockyard.store import queries
from dockyard.store.tables import Deployment, Resource


def load(ctx: Context, resource_id: str) -> Resource:
    """A live (not deleted) resource, or 404."""
    return queries.get_or_404(ctx.session, Resource, resource_id, "resource", deleted_at=None)


def load_writable(ctx: Context, resource_id: str) -> Resource:
    """A resource that may change: itself active, its environment neither locked nor archived."""
    row = load(ctx, resource_id)
    lifecycle.ensure_resource_active(row.lifecycle_status, row.id)
    env = load_environment(ctx, row.environment_id)
    lifecycle.ensure_environment_writable(env.lifecycle_status, env.id)
    return row


def _core_fields(row: Resource, roll: Rollup | None = None) -> dict:
    roll = roll or Rollup(0, None, None, None)
    return {
        "deployment_count": roll.count,
        "last_deployment_id": roll.last_id,
        "last_deployment_status": roll.last_status,
        "id": row.id,
        "project_id": row.project_id,
        "environment_id": row.environment_id,
        "destination_id": row.destination_id,
        "name": row.name,
        "slug": row.slug,
        "kind": row.kind,
        "description": row.description,
        "created_at": row.created_at,
        "services": row.services,
    }


def access_summary(roll: Rollup, failure: AccessFailure | None = None) -> AccessSummary:
    route = live_route(roll.live, roll.routed)
    return AccessSummary(
        latest_generated_access_route=route,
        proxy_route_status="ready" if route else "unknown",
        last_route_realization_deployment_id=roll.live.id if roll.live else None,
        latest_access_failure_diagnostic=failure,
    )


def summary(row: Resource, roll: Rollup, failure: AccessFailure | None = None) -> ResourceSummary:
    return ResourceSummary(
        **_core_fields(row, roll),
        network_profile=NetworkProfile.model_validate(row.network_profile or {}),
        access_profile=AccessProfile.model_validate(row.access_profile or {}),
        access_summary=access_summary(roll, failure),
        latest_runtime_control=attempt_of(row.latest_runtime_control),
    )


def _where(inp: ResourceFilter) -> list:
    where = [Resource.deleted_at.is_(None)]
    if inp.project_id:
        where.append(Resource.project_id == inp.project_id)
    if inp.environment_id:
        where.append(Resource.environment_id == inp.environment_id)
    return where


@operation("resources.count", "GET", "/resources/count")
def count_resources(ctx: Context, inp: ResourceFilter) -> CountOut:
    """Count resources, optionally of one project or environment."""
    return CountOut(count=queries.count(ctx.session, Resource, *_where(inp)))


@operation("resources.list", "GET", "/resources")
def list_resources(ctx: Context, inp: ResourcePage) -> ResourceList:
    """List resources, newest first, optionally of one project or environment."""
    stmt = select(Resource).where(*_where(inp))
    rows, cursor = queries.keyset_page(ctx.session, stmt, Resource.id, inp.limit, inp.cursor)
    ids = [r.id for r in rows]
    rolls, failures = rollups(ctx.session, ids), access_failures.latest(ctx.session, ids, ctx.now)
    return ResourceList(items=[summary(r, rolls[r.id], failures.get(r.id)) for r in rows], next_cursor=cursor)


@operation("resources.create", "POST", "/resources", status_code=201)
def create_resource(ctx: Context, inp: CreateResource) -> IdOut:
    """Create a resource in an environment of an active project."""
    project = load_project(ctx, inp.project_id)
    lifecycle.ensure_project_active(project.lifecycle_status, project.id)
    env = load_environment(ctx, inp.environment_id)
    if env.project_id != project.id:  # both exist; what the store says of them conflicts
        raise Conflict(
            f"Environment {env.id} belongs to project {env.project_id}, not {project.id}.",
            code="environment_not_in_project",
            details={"environmentId": env.id, "projectId": project.id},
            next_action=f"See its environments: dockyard environments list --project-id {project.id}",
        )
    lifecycle.ensure_environment_writable(env.lifecycle_status, env.id)
    slug = slugify(inp.name)
    taken = ctx.session.scalar(
        select(Resource.id).where(
            Resource.environment_id == env.id, Resource.slug == slug, Resource.deleted_at.is_(None)
        )
    )
    if taken:
        raise Conflict(
            f"Environment {env.id} already has a resource with slug {slug!r}.",
            code="resource_slug_conflict",
            details={"slug": slug, "resourceId": taken},
            next_action="Choose another name, or deploy to the existing resource.",
        )
    services = inp.services or [Service(name="web", kind="web")]

    def dump(profile: object) -> dict | None:
        return profile.model_dump(mode="json") if profile is not None else None  # type: ignore[attr-defined]

    row = Resource(
        id=new_id("resource"),
        project_id=project.id,
        environment_id=env.id,
        destination_id=inp.destination_id,
        name=inp.name,
        slug=slug,
        kind=inp.kind,
        description=inp.description,
        services=[s.model_dump(mode="json") for s in services],
        source=dump(inp.source),
        runtime_profile=dump(inp.runtime_profile),
        network_profile=dump(inp.network_profile),
        access_profile=None,
        health_policy=None,
        lifecycle_status="active",
        created_at=ctx.now,
    )
    ctx.session.add(row)
    return IdOut(id=row.id)


@operation("resources.show", "GET", "/resources/{resourceId}")
def show_resource(ctx: Context, inp: ShowResource) -> ResourceShow:
    """Read one resource with its profiles, and optionally access summary and profile diagnostics."""
    row = load(ctx, inp.resource_id)
    roll = rollups(ctx.session, [row.id])[row.id]
    latest = ctx.session.get(Deployment, roll.last_id) if roll.last_id else None
    diagnostics = None
    if inp.include_profile_diagnostics:
        found = [
            *profile_diagnostics(row.source, row.runtime_profile, row.network_profile),
            *config_drift(
                {
                    "source": row.source,
                    "runtimeProfile": row.runtime_profile,
                    "networkProfile": row.network_profile,
                },
                latest.id if latest else None,
                latest.source_snapshot if latest else None,
                ((latest.runtime_plan or {}).get("source") or {}).get("entryProfile") if latest else None,
            ),
        ]
        diagnostics = [DiagnosticOut.model_validate(d, from_attributes=True) for d in found]
    return ResourceShow(
        resource=ResourceCore(**_core_fields(row, roll)),
        source=row.source,
        runtime_profile=RuntimeProfile.model_validate(row.runtime_profile or {}),
        network_profile=NetworkProfile.model_validate(row.network_profile or {}),
        access_profile=AccessProfile.model_validate(row.access_profile or {}),
        health_policy=HealthCheck.model_validate(row.health_policy or {}),
        access_summary=access_summary(
            roll, access_failures.latest(ctx.session, [row.id], ctx.now).get(row.id)
        )
        if inp.include_access_summary
        else None,
        latest_deployment=LatestDeployment(
            id=latest.id,
            status=latest.status,
            created_at=latest.created_at,
            started_at=latest.started_at,
            finished_at=latest.finished_at,
            server_id=latest.server_id,
            destination_id=latest.destination_id,
        )
        if latest and inp.include_latest_deployment
        else None,
        runtime=RuntimeView.of(ctx.services.runtime.status(row.id)) if ctx.services and roll.live else None,
        lifecycle=Lifecycle(
            status=row.lifecycle_status, archived_at=row.archived_at, deleted_at=row.deleted_at
        ),
        diagnostics=diagnostics,
        generated_at=ctx.now,
    )


@operation("resources.archive", "POST", "/resources/{resourceId}/archive")
def archive_resource(ctx: Context, inp: ArchiveResource) -> IdOut:
    """Archive a resource: it stays readable and refuses changes and deployments."""
    row = load(ctx, inp.resource_id)
    if row.lifecycle_status != "archived":
        env = load_environment(ctx, row.environment_id)
        lifecycle.ensure_environment_writable(env.lifecycle_status, env.id)
        row.lifecycle_status, row.archived_at = "archived", ctx.now
    return IdOut(id=row.id)


@operation("resources.delete", "DELETE", "/resources/{resourceId}")
def delete_resource(ctx: Context, inp: DeleteResource) -> IdOut:
    """Delete a resource; needs confirmation.resourceSlug. Its history is kept, the slug is freed,
    its persistent data folder (DOCKYARD_APP_DATA_DIR) is removed."""
    row = load(ctx, inp.resource_id)
    lifecycle.ensure_confirmed(inp.confirmation.resource_slug, row.slug, "resourceSlug")
    env = load_environment(ctx, row.environment_id)
    lifecycle.ensure_environment_writable(env.lifecycle_status, env.id)
    row.lifecycle_status, row.deleted_at = "deleted", ctx.now
    data_dir, resource_id = ctx.settings.data_dir, row.id
    ctx.after_commit.append(lambda: remove_app_data(data_dir, resource_id))
    return IdOut(id=row.id)
