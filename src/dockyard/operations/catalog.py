"""The operation catalog: every user-visible operation defined once.

An operation is a key (`projects.create`), an input model, an output model, a handler and the HTTP
method + path it answers on. The HTTP API, the CLI and (later) MCP tools are generated from it, so a
new operation needs no edit anywhere else.
"""

import importlib
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, get_type_hints

from pydantic import BaseModel

from dockyard.domain.model import CamelModel


class Family(StrEnum):
    """A URL family: its prefix, field style, list and error shapes (see DESIGN.md)."""

    API = "api"  # /api: camelCase, {items, nextCursor}, {"error": {...}}
    MCP_API = "mcp-api"  # /mcp-api: snake_case, `object`, {items, pagination}, {ok: false, ...}

    @property
    def prefix(self) -> str:
        return f"/{self.value}"

    @property
    def cli_prefix(self) -> tuple[str, ...]:
        """Where the family's commands live in the CLI: `dockyard projects …`, `dockyard mcp …`."""
        return ("mcp",) if self is Family.MCP_API else ()


class Permission(StrEnum):
    PUBLIC = "public"
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


class NoInput(CamelModel):
    pass


@dataclass(frozen=True)
class Operation:
    key: str
    method: str
    path: str
    summary: str
    input: type[BaseModel]
    output: type[BaseModel]
    handler: Callable[[Any, Any], BaseModel]
    permission: Permission
    status_code: int
    stream: bool = False
    follow_with: str | None = None  # a stream operation the CLI's --follow switches to
    family: Family = Family.API
    cli: tuple[str, ...] = ()  # the CLI command path; default (group, name)

    @property
    def group(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.key.split(".", 1)[1]

    @property
    def cli_path(self) -> tuple[str, ...]:
        return self.cli or (*self.family.cli_prefix, self.group, self.name)

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)

    def field_split(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(path fields, other fields) of the input model, keyed by Python name."""
        path_aliases = set(self.path_params)
        path, rest = {}, {}
        for name, field in self.input.model_fields.items():
            (path if (field.alias or name) in path_aliases else rest)[name] = field
        return path, rest


_CATALOG: dict[str, Operation] = {}


def operation(
    key: str,
    method: str,
    path: str,
    *,
    permission: Permission | None = None,
    status_code: int = 200,
    stream: bool = False,
    follow_with: str | None = None,
    family: Family = Family.API,
    cli: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register `handler(ctx, inp: InputModel) -> OutputModel` as operation `key`.

    A `stream` operation's handler does its checks and writes, then returns an iterator of output
    models; the doors deliver them as they come (server-sent events over HTTP).
    `family` picks the URL family; `cli` ("mcp servers create") overrides the CLI command path.
    """

    def register(handler: Callable[..., Any]) -> Callable[..., Any]:
        hints = get_type_hints(handler)
        output = hints["return"]
        if stream:  # Iterator[Model] -> Model
            output = output.__args__[0]
        if key in _CATALOG:
            raise ValueError(f"operation {key} is defined twice")
        _CATALOG[key] = Operation(
            key=key,
            method=method,
            path=path,
            summary=(handler.__doc__ or key).strip().splitlines()[0],
            input=hints["inp"],
            output=output,
            handler=handler,
            permission=permission or (Permission.READ if method == "GET" else Permission.WRITE),
            status_code=status_code,
            stream=stream,
            follow_with=follow_with,
            family=family,
            cli=tuple(cli.split()) if cli else (),
        )
        return handler

    return register


def catalog() -> list[Operation]:
    """All operations, after importing every module of this package and its domain packages (each
    registers its own)."""
    import dockyard.operations as package

    for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
        importlib.import_module(info.name)
    return sorted(_CATALOG.values(), key=lambda op: op.key)
