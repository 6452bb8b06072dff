"""The CLI's view of the catalog: commands, arguments and options as plain JSON.

Building it imports every operation and its models (slow: the server side, SQLAlchemy…), so it is
cached per installed version of the package and rebuilt whenever a source file changes. A CLI call
then starts with only Typer, Rich and httpx loaded.
"""

import hashlib
import inspect
import json
import os
import types
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import dockyard
from dockyard.field_hints import CLI_FILE

SCALARS = {str: "str", int: "int", float: "float", bool: "bool"}
PACKAGE = Path(dockyard.__file__).parent


def _unwrap(annotation: Any) -> Any:
    """`X | None` → X; Annotated[...] → its type."""
    if get_origin(annotation) is Annotated:
        return _unwrap(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _unwrap(args[0])
        models = [a for a in map(_unwrap, args) if inspect.isclass(a) and hasattr(a, "model_fields")]
        return dict if models else str  # a union of models is sent as JSON
    return annotation


def _kind(annotation: Any) -> tuple[str, str]:
    """The type Typer parses ("str", "int", "float", "bool", or "json"), and a help suffix."""
    t = _unwrap(annotation)
    if get_origin(t) is Literal:
        return "str", "one of: " + ", ".join(map(str, get_args(t)))
    if t in SCALARS:
        return SCALARS[t], ""
    from pydantic import AwareDatetime  # building the manifest loads pydantic anyway

    if t in (datetime, AwareDatetime):
        return "str", "ISO-8601 time, e.g. 2026-01-31T12:00:00Z"
    return "json", "JSON"


def _option(param: str, flag: str, wire: list[str], field: Any, required: bool) -> dict[str, Any]:
    kind, extra = _kind(field.annotation)
    # Long or secret text (a PEM key) is read from a file: on the command line it would show in `ps`.
    from_file = isinstance(field.json_schema_extra, dict) and bool(field.json_schema_extra.get(CLI_FILE))
    if from_file:
        flag, extra = f"{flag}-file", "Path of a file to read it from (- for standard input)."
    return {
        "param": param,
        "flag": flag,
        "wire": wire,
        "kind": kind,
        "required": required,
        "file": from_file,
        "help": " ".join(x for x in [field.description or "", extra] if x),
    }


def _options(fields: dict[str, Any]) -> list[dict[str, Any]]:
    """Scalar fields become options; a nested model's fields are flattened into options of their own."""
    from pydantic import BaseModel

    options = []
    top_flags = {name.replace("_", "-") for name in fields}
    for name, field in fields.items():
        wire = field.alias or name
        model = _unwrap(field.annotation)
        if inspect.isclass(model) and issubclass(model, BaseModel):
            for sub, subfield in model.model_fields.items():
                flag = sub.replace("_", "-")
                flag = f"{name}-{sub}".replace("_", "-") if flag in top_flags else flag
                options.append(
                    _option(f"{name}__{sub}", flag, [wire, subfield.alias or sub], subfield, False)
                )
        else:
            flag = name.rstrip("_").replace("_", "-")  # `from_` (a keyword in Python) is --from
            options.append(_option(name, flag, [wire], field, field.is_required()))
    return options


def own_options(op: Any, rest: dict[str, Any]) -> dict[str, Any]:
    """The fields that become options: `follow` on a read with a live twin is the CLI's own
    --follow (it calls the twin), not an option of its own."""
    return {n: f for n, f in rest.items() if not (op.follow_with and n == "follow")}


def build() -> list[dict[str, Any]]:
    from dockyard.operations.catalog import catalog

    commands = []
    for op in catalog():
        path_fields, rest = op.field_split()
        commands.append(
            {
                "key": op.key,
                "group": op.group,
                "name": op.name,
                "cliPath": list(op.cli_path),
                "prefix": op.family.prefix,
                "method": op.method,
                "path": op.path,
                "summary": op.summary,
                "stream": op.stream,
                "followWith": op.follow_with,
                "hasBody": bool(rest),
                "arguments": [_argument(n, f) for n, f in path_fields.items()],
                "options": _options(own_options(op, rest)),
            }
        )
    return commands


def _fingerprint() -> str:
    h = hashlib.sha256(dockyard.__version__.encode())
    for root, dirs, files in os.walk(PACKAGE):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(f for f in files if f.endswith(".py")):
            st = os.stat(os.path.join(root, name))
            h.update(f"{root}/{name}:{st.st_mtime_ns}:{st.st_size}".encode())
    return h.hexdigest()[:16]


def cache_path() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "dockyard" / f"cli-manifest-{_fingerprint()}.json"


def load() -> list[dict[str, Any]]:
    path = cache_path()
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        pass
    commands = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(commands))
        tmp.replace(path)
    except OSError:
        pass  # a read-only home still gets a working (slower) CLI
    return commands


def _argument(name: str, field: Any) -> dict[str, Any]:
    """An id argument carries its kind, so the CLI refuses `prj_bad` itself, saying what an id
    of that kind looks like (the server has no route for a path segment that is not an id)."""
    from dockyard.domain.ids import PREFIXES, id_pattern
    from dockyard.operations.common import IdKind

    kind = next((m.kind for m in field.metadata if isinstance(m, IdKind)), None)
    out: dict[str, Any] = {"param": name, "alias": field.alias or name}
    if kind:
        out.update(kind=kind, prefix=PREFIXES[kind], pattern=id_pattern(kind))
    return out
