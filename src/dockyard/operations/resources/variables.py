"""A resource's own variables (the `resource` layer, above its environment's), `.env` import, and the
effective configuration the resource's next deployment will run with."""

from dockyard.domain import dotenv
from dockyard.domain import variables as v
from dockyard.domain.errors import Invalid
from dockyard.operations.catalog import operation
from dockyard.operations.context import Context
from dockyard.operations.environments.variables import variable_not_found
from dockyard.operations.resources.handlers import load, load_writable
from dockyard.operations.resources.models import ResourceRef
from dockyard.operations.variables import store
from dockyard.operations.variables.models import (
    DuplicateOverride,
    EffectiveConfig,
    ExistingOverride,
    ImportedEntry,
    ImportReport,
    ImportVariables,
    Nothing,
    SetResourceVariable,
    SkippedEntry,
    UnsetResourceVariable,
    VariableOut,
)
from dockyard.store.tables import ConfigVariable, Resource


def put_resource_variable(
    ctx: Context, row: Resource, key: str, value: str, exposure: str, kind: str, is_secret: bool
) -> tuple[ConfigVariable, bool]:
    v.check_entry(key, value, exposure, is_secret)
    return store.put(
        ctx,
        project_id=row.project_id,
        owner_id=row.id,
        environment_id=row.environment_id,
        resource_id=row.id,
        scope="resource",
        key=key,
        exposure=exposure,
        kind="secret" if is_secret else kind,
        is_secret=is_secret,
        value=value,
    )


@operation("resources.set-variable", "POST", "/resources/{resourceId}/variables", status_code=204)
def set_variable(ctx: Context, inp: SetResourceVariable) -> Nothing:
    """Set one variable or secret of a resource; it overrides the same key of its environment."""
    row = load_writable(ctx, inp.resource_id)
    is_secret = v.secret_flag(inp.key, inp.kind, inp.is_secret)
    put_resource_variable(ctx, row, inp.key, inp.value, inp.exposure, inp.kind, is_secret)
    return Nothing()


@operation("resources.unset-variable", "DELETE", "/resources/{resourceId}/variables/{key}", status_code=204)
def unset_variable(ctx: Context, inp: UnsetResourceVariable) -> Nothing:
    """Remove one variable of a resource (its environment's value, if any, applies again)."""
    row = load_writable(ctx, inp.resource_id)
    found = store.find(ctx.session, row.id, "resource", inp.key, inp.exposure)
    if found is None:
        raise variable_not_found(
            inp.key, inp.exposure, f"resource {row.id}", f"dockyard resources effective-config {row.id}"
        )
    ctx.session.delete(found)
    return Nothing()


@operation("resources.effective-config", "GET", "/resources/{resourceId}/effective-config")
def effective_config(ctx: Context, inp: ResourceRef) -> EffectiveConfig:
    """Read the configuration a resource's next deployment gets: every layer resolved, masked."""
    row = load(ctx, inp.resource_id)
    entries = store.resource_entries(ctx.session, row)
    resolved = v.resolve(entries)
    return EffectiveConfig.model_validate(
        {
            "resource_id": row.id,
            "environment_id": row.environment_id,
            "owned_entries": [VariableOut.of(e) for e in entries if e.scope == "resource"],
            "effective_entries": [VariableOut.of(r.winner) for r in resolved],
            "overrides": [
                {
                    "key": r.winner.key,
                    "exposure": r.winner.exposure,
                    "selected_scope": r.winner.scope,
                    "overridden_scopes": list(r.overridden),
                }
                for r in resolved
                if r.overridden
            ],
            "precedence": list(v.PRECEDENCE),
            "generated_at": ctx.now,
        }
    )


def _classify(inp: ImportVariables, key: str) -> bool:
    if key in inp.secret_keys:
        return True
    if key in inp.plain_keys:
        return False
    return v.looks_secret(key)


def _check_lists(inp: ImportVariables) -> None:
    both = sorted(set(inp.secret_keys) & set(inp.plain_keys))
    if both:
        raise Invalid(
            f"{', '.join(both[:10])} cannot be both secret and plain.",
            code="variable_kind_conflict",
            details={"keys": both},
            next_action="List each key in secretKeys or plainKeys, not both.",
        )
    for key in [*inp.secret_keys, *inp.plain_keys]:
        v.check_key(key, "secretKeys" if key in inp.secret_keys else "plainKeys")


def _refuse_duplicates(parsed: dotenv.Parsed) -> None:
    if parsed.duplicates:
        lines = "; ".join(f"{d.key} (lines {d.first_line} and {d.last_line})" for d in parsed.duplicates[:10])
        raise Invalid(
            f"Some keys are set more than once: {lines}. Nothing was imported.",
            code="env_import_duplicate_keys",
            details={
                "duplicates": [
                    {"key": d.key, "firstLine": d.first_line, "lastLine": d.last_line}
                    for d in parsed.duplicates
                ]
            },
            next_action="Keep one line per key, or send onDuplicate=last-wins to keep the last of each.",
        )


@operation("resources.import-variables", "POST", "/resources/{resourceId}/variables/import")
def import_variables(ctx: Context, inp: ImportVariables) -> ImportReport:
    """Import pasted .env content into a resource's variables and secrets, all or nothing.

    Secret-looking names (…_TOKEN, …_PASSWORD, DATABASE_URL…) become secrets unless listed in
    plainKeys. The report says what was created, replaced or skipped, with secret values masked.
    """
    row = load_writable(ctx, inp.resource_id)
    _check_lists(inp)
    parsed = dotenv.parse(inp.content)
    if inp.on_duplicate == "reject":
        _refuse_duplicates(parsed)
    classified = [(p, _classify(inp, p.key)) for p in parsed.entries]
    for p, is_secret in classified:  # every entry is judged before anything is written
        v.check_entry(p.key, p.value, inp.exposure, is_secret)
    existing = {r.key: r for r in store.owned_rows(ctx.session, row.id) if r.exposure == inp.exposure}
    current = store.plaintexts(ctx, existing.values())
    report = ImportReport(
        resource_id=row.id,
        imported_entries=[],
        duplicate_overrides=[
            DuplicateOverride(
                key=d.key, exposure=inp.exposure, first_line=d.first_line, last_line=d.last_line
            )
            for d in parsed.duplicates
        ],
        existing_overrides=[],
        skipped_entries=[
            SkippedEntry(key=d.key, source_line=d.first_line, reason="overridden-by-later-line")
            for d in parsed.duplicates
        ],
    )
    for p, is_secret in classified:
        old = existing.get(p.key)
        if old is not None and old.is_secret == is_secret:
            same = current.get(old.id) == p.value if is_secret else old.value == p.value
            if same:
                report.skipped_entries.append(SkippedEntry(key=p.key, source_line=p.line, reason="unchanged"))
                continue
        kind = "secret" if is_secret else "plain-config"
        put_resource_variable(ctx, row, p.key, p.value, inp.exposure, kind, is_secret)
        if old is not None:
            report.existing_overrides.append(ExistingOverride(key=p.key, exposure=inp.exposure))
        report.imported_entries.append(
            ImportedEntry(
                key=p.key,
                value=v.MASK if is_secret else p.value,
                exposure=inp.exposure,
                kind=kind,
                is_secret=is_secret,
                action="replaced" if old is not None else "created",
                source_line=p.line,
            )
        )
    return report
