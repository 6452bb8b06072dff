"""CLI commands generated from the operation catalog: `dockyard <group> <name> [IDS] [--options]`.

Path placeholders become arguments; scalar fields become options; a nested model's fields are
flattened into options of their own (`--internal-port` for networkProfile.internalPort); lists and
maps take JSON. The command sends the request to the control plane and prints the answer.
"""

import inspect
import json
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import typer
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from dockyard.interfaces.cli import client, render
from dockyard.operations.catalog import Operation, catalog

SCALARS = (str, int, float, bool)


def _unwrap(annotation: Any) -> Any:
    """`X | None` → X; Annotated[...] → its type."""
    if get_origin(annotation) is Annotated:
        return _unwrap(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return _unwrap(args[0]) if len(args) == 1 else str
    return annotation


def _cli_type(annotation: Any) -> tuple[type, str]:
    """The Python type Typer parses, and a help suffix (choices, or that JSON is expected)."""
    t = _unwrap(annotation)
    if get_origin(t) is Literal:
        return str, "one of: " + ", ".join(map(str, get_args(t)))
    if t in SCALARS:
        return t, ""
    return str, "JSON"


def _is_model(annotation: Any) -> bool:
    t = _unwrap(annotation)
    return inspect.isclass(t) and issubclass(t, BaseModel)


class _Option:
    """One CLI option and where its value goes in the request (a path of wire names)."""

    def __init__(self, param: str, flag: str, wire_path: tuple[str, ...], field: FieldInfo, required: bool):
        self.param, self.flag, self.wire_path = param, flag, wire_path
        self.kind, extra = _cli_type(field.annotation)
        self.help = " ".join(x for x in [field.description or "", extra] if x)
        self.required = required


def _options(fields: dict[str, FieldInfo]) -> list[_Option]:
    options: list[_Option] = []
    top_flags = {name.replace("_", "-") for name in fields}
    for name, field in fields.items():
        wire = field.alias or name
        if _is_model(field.annotation):
            for sub, subfield in _unwrap(field.annotation).model_fields.items():
                flag = sub.replace("_", "-")
                if flag in top_flags:
                    flag = f"{name}-{sub}".replace("_", "-")
                options.append(
                    _Option(f"{name}__{sub}", flag, (wire, subfield.alias or sub), subfield, False)
                )
        else:
            options.append(_Option(name, name.replace("_", "-"), (wire,), field, field.is_required()))
    return options


def _parse(option: _Option, value: Any) -> Any:
    if option.help.endswith("JSON") and isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            example = '\'["a"]\' or \'{"k": "v"}\''
            raise typer.BadParameter(f"--{option.flag} expects JSON, e.g. {example}") from None
    return value


def _command(op: Operation, follow_ops: dict[str, Operation]) -> Any:
    path_fields, rest = op.field_split()
    options = _options(rest)
    params = [
        inspect.Parameter(
            n,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=str,
            default=typer.Argument(..., metavar=(f.alias or n).upper(), show_default=False),
        )
        for n, f in path_fields.items()
    ]
    for o in options:
        default = typer.Option(... if o.required else None, f"--{o.flag}", help=o.help, show_default=False)
        params.append(
            inspect.Parameter(
                o.param,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=o.kind if o.required else o.kind | None,
                default=default,
            )
        )
    if op.follow_with:
        params.append(
            inspect.Parameter(
                "follow",
                inspect.Parameter.KEYWORD_ONLY,
                annotation=bool,
                default=typer.Option(False, "--follow", "-f", help="Keep following."),
            )
        )
    params.append(
        inspect.Parameter(
            "as_json",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=bool,
            default=typer.Option(False, "--json", help="Print the raw JSON answer."),
        )
    )

    def command(**kwargs: Any) -> None:
        path = op.path
        for name, field in path_fields.items():
            path = path.replace("{" + (field.alias or name) + "}", kwargs[name])
        payload: dict[str, Any] = {}
        for o in options:
            if kwargs.get(o.param) is not None:
                target = payload
                for key in o.wire_path[:-1]:
                    target = target.setdefault(key, {})
                target[o.wire_path[-1]] = _parse(o, kwargs[o.param])
        query, body = (payload, None) if op.method == "GET" else (None, payload if rest else None)
        try:
            if op.stream or kwargs.get("follow"):
                target = follow_ops[op.follow_with] if kwargs.get("follow") and op.follow_with else op
                for item in client.stream(target.method, path, params=query, body=body):
                    render.envelope(item, kwargs["as_json"])
                return
            data = client.request(op.method, path, params=query, body=body)
        except client.ApiError as exc:
            render.fail(exc.code, exc.message, exc.next_action)
            raise typer.Exit(2 if exc.status == 0 else 1) from None
        render.show(data, kwargs["as_json"])

    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__doc__ = op.summary
    return command


def add_catalog_commands(app: typer.Typer) -> None:
    groups: dict[str, typer.Typer] = {}
    operations = catalog()
    by_key = {op.key: op for op in operations}
    for op in operations:
        if op.group not in groups:
            groups[op.group] = typer.Typer(help=f"{op.group.capitalize()} operations.", no_args_is_help=True)
            app.add_typer(groups[op.group], name=op.group)
        groups[op.group].command(op.name, help=op.summary)(_command(op, by_key))
