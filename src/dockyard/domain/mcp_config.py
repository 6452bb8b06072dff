"""Provider config: validated against the version's JSON Schema, secrets found and masked, and mapped to
env vars, CLI args and HTTP headers by a declarative transformer. No user code is ever evaluated.

Secret fields are the schema properties marked `"x-secret": true`, `"writeOnly": true` or
`"format": "password"`. A transformer is
`{"env": {"API_KEY": "{{config.api_key}}"}, "args": ["--region", "{{config.region}}"],
"headers": {"Authorization": "Bearer {{config.token}}"}}`; a placeholder names a (dotted) config path.
"""

import json
import re
from dataclasses import dataclass, field
from typing import Any

from dockyard.domain.errors import Invalid

MASK = "********"
PLACEHOLDER = re.compile(r"{{\s*config\.([A-Za-z0-9_.-]+)\s*}}")
TRANSFORMER_KEYS = {"env", "args", "headers"}


def _path(parts: Any) -> str:
    return ".".join(str(p) for p in parts)


def check_schema(schema: dict[str, Any]) -> None:
    """A config schema must itself be a valid JSON Schema (draft 2020-12) of an object."""
    from jsonschema import Draft202012Validator, SchemaError

    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise Invalid(
            f"config.schema is not a valid JSON Schema: {exc.message} (at {_path(exc.path) or 'the root'})",
            code="invalid_config_schema",
            details={"field": "config.schema"},
        ) from None
    if schema.get("type", "object") != "object":
        raise Invalid(
            "config.schema must describe an object (type: object).",
            code="invalid_config_schema",
            details={"field": "config.schema.type"},
        )


def validate(schema: dict[str, Any] | None, config: dict[str, Any], where: str = "provider_config") -> None:
    """Invalid (naming the first failing field) unless `config` satisfies `schema`."""
    from jsonschema import Draft202012Validator

    errors = sorted(
        Draft202012Validator(schema or {"type": "object"}).iter_errors(config), key=lambda e: e.path
    )
    if not errors:
        return
    fields = []
    for e in errors:
        path = list(e.path)
        if e.validator == "required" and isinstance(e.instance, dict):  # name the missing property
            missing = [r for r in e.validator_value if r not in e.instance]
            path += missing[:1]
        message = e.message if e.validator not in ("enum", "const") else f"must be one of {e.validator_value}"
        if _is_secret(schema or {}, path):
            message = f"fails the schema's `{e.validator}` rule"  # never echo a secret value back
        fields.append(
            {"field": _path([where, "config", *path]) if path else f"{where}.config", "message": message}
        )
    summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
    raise Invalid(
        f"The config does not match the provider version's schema: {summary}",
        code="invalid_provider_config",
        details={"errors": fields},
        next_action="Fix the fields named above; read the schema from the provider version.",
    )


def _subschema(schema: dict[str, Any], path: list[Any]) -> dict[str, Any] | None:
    node: Any = schema
    for part in path:
        if not isinstance(node, dict):
            return None
        node = node.get("items") if isinstance(part, int) else (node.get("properties") or {}).get(part)
    return node if isinstance(node, dict) else None


def _is_secret(schema: dict[str, Any], path: list[Any]) -> bool:
    node = _subschema(schema, path)
    return bool(node) and bool(
        node.get("x-secret") or node.get("writeOnly") or node.get("format") == "password"
    )


def secret_paths(schema: dict[str, Any] | None, config: Any, prefix: tuple[Any, ...] = ()) -> list[tuple]:
    """Paths of the config values the schema marks secret."""
    out: list[tuple] = []
    if isinstance(config, dict):
        for key, value in config.items():
            path = (*prefix, key)
            if _is_secret(schema or {}, list(path)):
                out.append(path)
            else:
                out.extend(secret_paths(schema, value, path))
    return out


def masked(schema: dict[str, Any] | None, config: dict[str, Any]) -> dict[str, Any]:
    """A copy of `config` with every secret value replaced by MASK (for answers and logs)."""
    copy = json.loads(json.dumps(config))
    for path in secret_paths(schema, config):
        node = copy
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = MASK
    return copy


def parse_transformer(raw: Any) -> dict[str, Any]:
    """The stored transformer (a JSON object, or a string holding one); Invalid names the field."""
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            raise Invalid(
                'config.transformer must be a JSON object like {"env": {"API_KEY": "{{config.api_key}}"}}.',
                code="invalid_transformer",
                details={"field": "config.transformer"},
            ) from None
    if not isinstance(raw, dict) or set(raw) - TRANSFORMER_KEYS:
        raise Invalid(
            f"config.transformer may only hold {sorted(TRANSFORMER_KEYS)}.",
            code="invalid_transformer",
            details={"field": "config.transformer"},
        )
    for name in ("env", "headers"):
        value = raw.get(name, {})
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise Invalid(
                f"config.transformer.{name} must map names to template strings.",
                code="invalid_transformer",
                details={"field": f"config.transformer.{name}"},
            )
    args = raw.get("args", [])
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise Invalid(
            "config.transformer.args must be a list of template strings.",
            code="invalid_transformer",
            details={"field": "config.transformer.args"},
        )
    return raw


def _lookup(config: dict[str, Any], dotted: str) -> str:
    node: Any = config
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return ""
        node = node[part]
    return node if isinstance(node, str) else json.dumps(node)


def render(template: str, config: dict[str, Any]) -> str:
    return PLACEHOLDER.sub(lambda m: _lookup(config, m.group(1)), template)


@dataclass(frozen=True)
class LaunchInputs:
    """What a validated config turns into for one server run."""

    env: dict[str, str] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)


def transform(transformer: dict[str, Any], config: dict[str, Any]) -> LaunchInputs:
    return LaunchInputs(
        env={k: render(v, config) for k, v in transformer.get("env", {}).items()},
        args=[render(a, config) for a in transformer.get("args", [])],
        headers={k: render(v, config) for k, v in transformer.get("headers", {}).items()},
    )
