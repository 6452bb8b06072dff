"""Variables of environments (and of their project), the effective view, diff and promote.

An environment holds two layers of its own (`defaults` below the project's, `environment` above it);
`scope: project` writes the project's layer, shared by every environment of the project. A locked
or archived environment refuses every write.
"""

from sqlalchemy import select

from dockyard.domain import lifecycle
from dockyard.domain import variables as v
from dockyard.domain.errors import Conflict, Invalid, NotFound
from dockyard.operations.catalog import operation
from dockyard.operations.common import IdOut
from dockyard.operations.context import Context
from dockyard.operations.environments.handlers import EnvironmentRef, MaskedVariable, add_environment, load
from dockyard.operations.variables import store
from dockyard.operations.variables.models import (
    DiffEntry,
    DiffOut,
    DiffQuery,
    EffectivePrecedence,
    Nothing,
    PromoteEnvironment,
    SetEnvironmentVariable,
    UnsetEnvironmentVariable,
    VariableOut,
)
from dockyard.store.tables import ConfigVariable, Environment

OWN_SCOPES = ("defaults", "environment")


def load_writable(ctx: Context, environment_id: str) -> Environment:
    env = load(ctx, environment_id)
    lifecycle.ensure_environment_writable(env.lifecycle_status, env.id)
    return env


def variable_not_found(key: str, exposure: str, where: str, list_command: str) -> NotFound:
    return NotFound(
        f"No {exposure} variable {key} on {where}.",
        code="variable_not_found",
        details={"key": key, "exposure": exposure},
        next_action=f"List what is set: {list_command}",
    )


@operation("environments.set-variable", "POST", "/environments/{environmentId}/variables", status_code=204)
def set_variable(ctx: Context, inp: SetEnvironmentVariable) -> Nothing:
    """Set a variable of an environment (or of its project) with kind, exposure, scope and secrecy."""
    env = load_writable(ctx, inp.environment_id)
    is_secret = v.secret_flag(inp.key, inp.kind, inp.is_secret)
    v.check_entry(inp.key, inp.value, inp.exposure, is_secret)
    on_project = inp.scope == "project"
    store.put(
        ctx,
        project_id=env.project_id,
        owner_id=env.project_id if on_project else env.id,
        environment_id=None if on_project else env.id,
        scope=inp.scope,
        key=inp.key,
        exposure=inp.exposure,
        kind="secret" if is_secret else inp.kind,
        is_secret=is_secret,
        value=inp.value,
    )
    return Nothing()


@operation(
    "environments.unset-variable", "DELETE", "/environments/{environmentId}/variables/{key}", status_code=204
)
def unset_variable(ctx: Context, inp: UnsetEnvironmentVariable) -> Nothing:
    """Remove a variable of an environment in one exposure (and scope, when given)."""
    env = load_writable(ctx, inp.environment_id)
    scopes = (inp.scope,) if inp.scope else OWN_SCOPES
    rows = [
        row
        for scope in scopes
        if (
            row := store.find(
                ctx.session, env.project_id if scope == "project" else env.id, scope, inp.key, inp.exposure
            )
        )
    ]
    if not rows:
        raise variable_not_found(
            inp.key,
            inp.exposure,
            f"environment {env.id}",
            f"dockyard environments effective-precedence {env.id}",
        )
    for row in rows:
        ctx.session.delete(row)
    return Nothing()


@operation("environments.effective-precedence", "GET", "/environments/{environmentId}/effective-precedence")
def effective_precedence(ctx: Context, inp: EnvironmentRef) -> EffectivePrecedence:
    """Read an environment's variables after precedence (before resource overrides), masked."""
    env = load(ctx, inp.environment_id)
    entries = store.environment_entries(ctx.session, env)
    return EffectivePrecedence.model_validate(
        {
            "environment_id": env.id,
            "project_id": env.project_id,
            "owned_entries": [VariableOut.of(e) for e in entries if e.scope in OWN_SCOPES],
            "effective_entries": [VariableOut.of(e) for e in v.effective(entries)],
            "precedence": list(v.PRECEDENCE),
            "generated_at": ctx.now,
        }
    )


def _effective_rows(ctx: Context, env: Environment) -> dict[tuple[str, str], ConfigVariable]:
    rows = store.environment_rows(ctx.session, env)
    winners = {}
    for row in sorted(rows, key=lambda r: v.rank(r.scope)):
        winners[(row.key, row.exposure)] = row
    return winners


@operation("environments.diff", "GET", "/environments/{environmentId}/diff/{otherEnvironmentId}")
def diff(ctx: Context, inp: DiffQuery) -> DiffOut:
    """Compare two environments' effective configuration; secrets compare by value, shown masked."""
    left_env, right_env = load(ctx, inp.environment_id), load(ctx, inp.other_environment_id)
    if left_env.project_id != right_env.project_id:
        raise Invalid(
            f"Environments {left_env.id} and {right_env.id} belong to different projects.",
            code="environment_project_mismatch",
            details={"environmentId": left_env.id, "otherEnvironmentId": right_env.id},
            next_action="Compare environments of one project: dockyard environments list --project-id P",
        )
    left, right = _effective_rows(ctx, left_env), _effective_rows(ctx, right_env)
    secrets = store.plaintexts(ctx, [*left.values(), *right.values()])
    out = []
    for identity in sorted(left.keys() | right.keys()):
        a, b = left.get(identity), right.get(identity)
        if a is None or b is None:
            change = "added" if a is None else "removed"
        else:
            same_value = (
                (secrets.get(a.id) == secrets.get(b.id))
                if a.is_secret and b.is_secret
                else (not a.is_secret and not b.is_secret and a.value == b.value)
            )
            if same_value and a.kind == b.kind:
                continue
            change = "changed"
        out.append(
            DiffEntry(
                key=identity[0],
                exposure=identity[1],  # type: ignore[arg-type]
                left=MaskedVariable.of_row(a) if a else None,
                right=MaskedVariable.of_row(b) if b else None,
                change=change,  # type: ignore[arg-type]
            )
        )
    return DiffOut(out)


@operation("environments.promote", "POST", "/environments/{environmentId}/promote")
def promote(ctx: Context, inp: PromoteEnvironment) -> IdOut:
    """Promote an environment's own variables into another of the project (created when missing).

    Entries with the same key, exposure and layer are replaced; the target's other entries stay.
    Secrets travel as references to their sealed values: no plaintext is read or returned.
    """
    source = load(ctx, inp.environment_id)
    if source.lifecycle_status == "archived":
        lifecycle.ensure_environment_writable(source.lifecycle_status, source.id)
    target = ctx.session.scalar(
        select(Environment).where(
            Environment.project_id == source.project_id, Environment.name == inp.target_name
        )
    )
    if target is None:
        target = add_environment(ctx, source.project_id, inp.target_name, inp.target_kind or source.kind)
        ctx.session.flush()
    elif target.id == source.id:  # the name is valid; the store says it is this one: a conflict
        raise Conflict(
            "An environment cannot be promoted into itself.",
            code="promote_target_is_source",
            next_action="Name another environment of the project as targetName.",
        )
    lifecycle.ensure_environment_writable(target.lifecycle_status, target.id)
    store.copy_rows(ctx, store.owned_rows(ctx.session, source.id), target)
    return IdOut(id=target.id)
