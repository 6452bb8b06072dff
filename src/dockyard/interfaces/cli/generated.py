"""CLI commands generated from the catalog (through its cached manifest, see manifest.py):
`dockyard <group> <name> [IDS] [--options]`. The command sends the request and prints the answer.
"""

import inspect
import json
import re
import sys
from pathlib import Path
from typing import Any

import typer

from dockyard.interfaces.cli import client, manifest, render

ID_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,80}")
TYPES: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool, "json": str}
ALIASES = {"operator-work": "work"}  # a short name for a group, next to its own


def _read(option: dict[str, Any], path: str) -> str:
    try:
        return sys.stdin.read() if path == "-" else Path(path).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise typer.BadParameter(f"--{option['flag']}: cannot read {path!r}: {reason}") from None


def _parse(option: dict[str, Any], value: Any) -> Any:
    if option.get("file"):
        return _read(option, value)
    if option["kind"] == "json" and isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            example = '\'["a"]\' or \'{"k": "v"}\''
            raise typer.BadParameter(f"--{option['flag']} expects JSON, e.g. {example}") from None
    return value


def _fill(path: str, cmd: dict[str, Any], kwargs: dict[str, Any]) -> str:
    for a in cmd["arguments"]:
        path = path.replace("{" + a["alias"] + "}", kwargs[a["param"]])
    return path


def _param(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)


def _command(cmd: dict[str, Any], by_key: dict[str, dict[str, Any]]) -> Any:
    params = [
        _param(a["param"], str, typer.Argument(..., metavar=a["alias"].upper(), show_default=False))
        for a in cmd["arguments"]
    ]
    for o in cmd["options"]:
        kind = TYPES[o["kind"]]
        names = [f"--{o['flag']}/--no-{o['flag']}"] if kind is bool else [f"--{o['flag']}"]  # a true default
        default = typer.Option(... if o["required"] else None, *names, help=o["help"], show_default=False)
        params.append(_param(o["param"], kind if o["required"] else kind | None, default))
    if cmd["followWith"]:
        params.append(_param("follow", bool, typer.Option(False, "--follow", "-f", help="Keep following.")))
    params.append(_param("as_json", bool, typer.Option(False, "--json", help="Print the raw JSON answer.")))

    def command(**kwargs: Any) -> None:
        for a in cmd["arguments"]:
            value = kwargs[a["param"]]
            if not ID_SHAPE.fullmatch(value) or (a.get("pattern") and not re.fullmatch(a["pattern"], value)):
                like = f"a {a['kind']} id like {a['prefix']}_…" if a.get("kind") else "an id"
                render.fail(
                    "validation_failed",
                    f"{a['alias']} must be {like} (letters, digits, _ and -), got {value[:60]!r}.",
                    f"Copy the id from `dockyard {' '.join(cmd['cliPath'][:-1])} list`.",
                )
                raise typer.Exit(1)
        payload: dict[str, Any] = {}
        for o in cmd["options"]:
            if kwargs.get(o["param"]) is not None:
                target = payload
                for key in o["wire"][:-1]:
                    target = target.setdefault(key, {})
                target[o["wire"][-1]] = _parse(o, kwargs[o["param"]])
        query, body = (
            (payload, None) if cmd["method"] == "GET" else (None, payload if cmd["hasBody"] else None)
        )
        try:
            if cmd["stream"] or kwargs.get("follow"):
                target = by_key[cmd["followWith"]] if kwargs.get("follow") else cmd
                path = _fill(target["path"], cmd, kwargs)
                for item in client.stream(
                    target["method"], path, params=query, body=body, prefix=target["prefix"]
                ):
                    render.envelope(item, kwargs["as_json"])
                return
            data = client.request(
                cmd["method"], _fill(cmd["path"], cmd, kwargs), params=query, body=body, prefix=cmd["prefix"]
            )
        except client.ApiError as exc:
            render.fail(exc.code, exc.message, exc.next_action)
            raise typer.Exit(2 if exc.status == 0 else 1) from None
        render.show(data, kwargs["as_json"])

    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__doc__ = cmd["summary"]
    return command


def add_catalog_commands(app: typer.Typer) -> None:
    """One command per operation at its CLI path (`projects create`, `mcp servers create`)."""
    groups: dict[tuple[str, ...], typer.Typer] = {(): app}
    commands = manifest.load()
    by_key = {c["key"]: c for c in commands}
    for cmd in commands:
        *path, name = cmd["cliPath"]
        for depth in range(1, len(path) + 1):
            here = tuple(path[:depth])
            if here not in groups:
                label = " ".join(here).capitalize().replace("Mcp", "MCP")
                groups[here] = typer.Typer(help=f"{label} operations.", no_args_is_help=True)
                groups[here[:-1]].add_typer(groups[here], name=here[-1])
                if len(here) == 1 and here[0] in ALIASES:
                    app.add_typer(groups[here], name=ALIASES[here[0]], help=f"= {here[0]}")
        groups[tuple(path)].command(name, help=cmd["summary"])(_command(cmd, by_key))
