"""Default access domain policies: how generated hostnames are made, system-wide or per server.

Changing a policy renames the generated routes in its scope at once (a custom-domain binding is
not touched) and re-applies the affected edges.
"""

from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, model_validator
from sqlalchemy import delete, select

from dockyard.domain.access import template_error
from dockyard.domain.errors import Invalid, NotFound
from dockyard.domain.ids import new_id
from dockyard.domain.model import CamelModel
from dockyard.operations.catalog import NoInput, operation
from dockyard.operations.common import DNS_LABEL, IdOut, ServerId, TextSchema
from dockyard.operations.context import Context
from dockyard.operations.servers.handlers import load as load_server
from dockyard.store.tables import AccessPolicy, AccessRoute, Resource, Server


def _template(value: str) -> str:
    problem = template_error(value)
    if problem:
        raise ValueError(problem)
    return value


TEMPLATE_SCHEMA = TextSchema(maxLength=200, pattern=f"^\\{{slug\\}}(-\\{{suffix\\}})?(\\.{DNS_LABEL})+$")
Template = Annotated[str, Field(max_length=200), AfterValidator(_template), TEMPLATE_SCHEMA]


class Scope(CamelModel):
    # The rule below, in the published schema too: serverId with deployment-target, and only with it.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"properties": {"kind": {"const": "system"}, "serverId": {"type": "null"}}},
                {
                    "properties": {"kind": {"const": "deployment-target"}, "serverId": {"type": "string"}},
                    "required": ["kind", "serverId"],
                },
            ]
        }
    )
    kind: Literal["system", "deployment-target"] = "system"
    server_id: ServerId | None = None

    @model_validator(mode="after")
    def _server_when_targeted(self) -> "Scope":
        if (self.kind == "deployment-target") != (self.server_id is not None):
            raise ValueError("serverId is required with kind deployment-target, and only with it")
        return self

    @property
    def key(self) -> str:
        return "system" if self.kind == "system" else f"server:{self.server_id}"


class ConfigurePolicy(CamelModel):
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"properties": {"mode": {"enum": ["disabled", "provider"]}, "templateRef": {"type": "null"}}},
                {
                    "properties": {"mode": {"const": "custom-template"}, "templateRef": {"type": "string"}},
                    "required": ["templateRef"],
                },
            ]
        }
    )
    scope: Scope = Field(default_factory=Scope)
    mode: Literal["disabled", "provider", "custom-template"]
    provider_key: Literal["localhost", "sslip"] | None = None
    template_ref: Template | None = Field(
        default=None, description="With mode custom-template, e.g. {slug}.apps.example.com"
    )

    @model_validator(mode="after")
    def _template_with_mode(self) -> "ConfigurePolicy":
        if (self.mode == "custom-template") != (self.template_ref is not None):
            raise ValueError("templateRef is required with mode custom-template, and only with it")
        return self


class PolicyOut(CamelModel):
    schema_version: str = "default-access-domain-policies.policy/v1"
    id: str
    scope: Scope
    mode: str
    provider_key: str | None
    template_ref: str | None
    updated_at: str


class PolicyList(CamelModel):
    schema_version: str = "default-access-domain-policies.list/v1"
    items: list[PolicyOut]


class ShowPolicy(CamelModel):
    scope_kind: Literal["system", "deployment-target"] = "system"
    server_id: ServerId | None = Field(
        default=None, description="Required with scopeKind=deployment-target, refused otherwise."
    )


class PolicyShow(CamelModel):
    schema_version: str = "default-access-domain-policies.show/v1"
    scope: Scope
    policy: PolicyOut | None


def _out(row: AccessPolicy) -> PolicyOut:
    scope = Scope(kind=row.scope_kind, server_id=row.server_id)  # type: ignore[arg-type]
    return PolicyOut(
        id=row.id,
        scope=scope,
        mode=row.mode,
        provider_key=row.provider_key,
        template_ref=row.template_ref,
        updated_at=row.updated_at,
    )


@operation("access-policies.list", "GET", "/default-access-domain-policies")
def list_policies(ctx: Context, inp: NoInput) -> PolicyList:
    """List the default access domain policies (system-wide and per server)."""
    rows = ctx.session.scalars(select(AccessPolicy).order_by(AccessPolicy.scope_key))
    return PolicyList(items=[_out(r) for r in rows])


@operation("access-policies.show", "GET", "/default-access-domain-policies/show")
def show_policy(ctx: Context, inp: ShowPolicy) -> PolicyShow:
    """Show the policy of one scope (null when none is set: generated names by the server's address)."""
    if (inp.scope_kind == "deployment-target") != (inp.server_id is not None):
        raise Invalid(
            "serverId is required with scopeKind=deployment-target, and only with it.",
            details={"errors": [{"field": "serverId", "message": "with deployment-target only"}]},
            next_action="Pass serverId with scopeKind=deployment-target.",
        )
    scope = Scope(kind=inp.scope_kind, server_id=inp.server_id)
    row = ctx.session.scalar(select(AccessPolicy).where(AccessPolicy.scope_key == scope.key))
    return PolicyShow(scope=scope, policy=_out(row) if row else None)


@operation("access-policies.configure", "POST", "/default-access-domain-policies")
def configure_policy(ctx: Context, inp: ConfigurePolicy) -> IdOut:
    """Set how generated hostnames are made in a scope; generated routes there are renamed."""
    if inp.scope.server_id:
        load_server(ctx, inp.scope.server_id)
    row = ctx.session.scalar(select(AccessPolicy).where(AccessPolicy.scope_key == inp.scope.key))
    if row is None:
        row = AccessPolicy(id=new_id("access_policy"), scope_key=inp.scope.key)
        ctx.session.add(row)
    row.scope_kind, row.server_id = inp.scope.kind, inp.scope.server_id
    row.mode, row.provider_key, row.template_ref = inp.mode, inp.provider_key, inp.template_ref
    row.updated_at = ctx.now
    servers = [inp.scope.server_id] if inp.scope.server_id else list(ctx.session.scalars(select(Server.id)))
    _rename(ctx, servers)
    return IdOut(id=row.id)


def _rename(ctx: Context, server_ids: list[str]) -> None:
    """Drop the generated routes on these servers and give their resources new ones, then re-apply."""
    from dockyard.edge.sync import GENERATED, assign_route, sync_after_commit

    routed = ctx.session.execute(
        select(AccessRoute.resource_id, AccessRoute.server_id).where(
            AccessRoute.server_id.in_(server_ids), AccessRoute.source == GENERATED
        )
    ).all()
    ctx.session.execute(
        delete(AccessRoute).where(AccessRoute.server_id.in_(server_ids), AccessRoute.source == GENERATED)
    )
    ctx.session.flush()
    for resource_id, server_id in routed:
        resource, server = ctx.session.get(Resource, resource_id), ctx.session.get(Server, server_id)
        if resource is None or server is None:
            raise NotFound(f"resource {resource_id} vanished while renaming routes")
        assign_route(ctx.session, resource, server, ctx.now)
    for server_id in sorted({s for _, s in routed}):
        sync_after_commit(ctx, server_id)
