"""HTTP routes generated from the operation catalog: one route per operation, nothing by hand.

Path placeholders come from the operation's path; the input model's other fields are the query
string for GET and the JSON body otherwise. The whole input is validated once more as the handler's
model so every door (HTTP, CLI, MCP) sees the same rules.
"""

import hashlib
import inspect
import json
import re
from collections.abc import Iterator
from pathlib import Path as PathLib
from typing import Annotated, Any, get_args

from fastapi import APIRouter, Body, Path, Query, Request, Response, Security
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPBearer
from pydantic import BaseModel, BeforeValidator, create_model
from pydantic.fields import FieldInfo
from starlette.convertors import StringConvertor, register_url_convertor

from dockyard.domain.errors import Invalid
from dockyard.domain.model import CamelModel, SnakeModel
from dockyard.interfaces.http.error_models import ApiError, McpApiError
from dockyard.interfaces.http.intake import guarded_route, principal_of
from dockyard.operations.catalog import Family, Operation, Permission
from dockyard.operations.common import IdKind
from dockyard.operations.context import Context
from dockyard.services import Services

bearer = HTTPBearer(auto_error=False, description="Admin token: <data-dir>/admin.token")
ERROR_STATUSES = [
    (400, "Malformed request (the body is not JSON)"),
    (401, "Missing or invalid token"),
    (403, "Not allowed"),
    (404, "Not found"),
    (409, "Conflicts with the current state"),
    (422, "Invalid input"),
    (500, "Failure inside Dockyard (logged)"),
]
BODY_STATUSES = [(413, "Body larger than the server reads (DOCKYARD_MAX_BODY_BYTES)")]


EXAMPLES_FILE = PathLib(__file__).with_name("request_examples.json")
EXAMPLES: dict[str, Any] = json.loads(EXAMPLES_FILE.read_text())

SUCCESS = {
    204: "Done; no body",
    200: "The answer",
    201: "Created; the body names what was made",
    202: "Accepted: the work runs in the background; the body says how to follow it",
}


def documented_responses(op: Operation) -> dict[int | str, dict[str, Any]]:
    """The success status with its description (FastAPI adds the output model's schema), and every
    failure status the operation can answer, each with its family's error envelope."""
    model = McpApiError if op.family is Family.MCP_API else ApiError
    statuses = ERROR_STATUSES + (BODY_STATUSES if op.method != "GET" else [])
    documented: dict[int | str, dict[str, Any]] = {op.status_code: {"description": SUCCESS[op.status_code]}}
    return documented | {code: {"description": text, "model": model} for code, text in statuses}


class JsonBody(JSONResponse):
    """The handler's output, already serialised by its model (a JSONResponse, so the OpenAPI
    carries the output model's schema for the success status)."""

    def render(self, content: Any) -> bytes:
        return content.encode() if isinstance(content, str) else bytes(content)


STREAM_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Server-sent events, one JSON object per `data:` line",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}


# A read whose `?follow=true` answers with its live twin's stream: both bodies are documented.
FOLLOW_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The answer; with follow=true, server-sent events, one JSON object per `data:` line",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}


def follow_of(op: Operation, by_key: dict[str, Operation]) -> Operation | None:
    """The stream `?follow=true` switches `op` to: its follow_with, when its input has `follow`."""
    return by_key.get(op.follow_with or "") if "follow" in op.input.model_fields else None


def _query_flag(value: Any) -> Any:
    """In a query string a flag is `true` or `false`; any other text stays a string, which a flag
    (StrictBool) refuses: `?dryRun=yes` is a 422, never read as true."""
    return {"true": True, "false": False}.get(value, value) if isinstance(value, str) else value


def is_flag(annotation: Any) -> bool:
    return annotation is bool or any(is_flag(arg) for arg in get_args(annotation))


def _submodel(op: Operation, suffix: str, fields: dict[str, Any]) -> type[BaseModel]:
    family_base: type[BaseModel] = CamelModel if op.family is Family.API else SnakeModel
    # Built now, as FastAPI reads it at once (a deferred one warns of its alias on every route); rules
    # across fields, stated in the input model's schema, stay in the published one.
    config = {**family_base.model_config, "defer_build": False}
    if extra := op.input.model_config.get("json_schema_extra"):
        config["json_schema_extra"] = extra
    base = type(family_base.__name__, (family_base,), {"model_config": config})

    def wire_type(field: FieldInfo) -> Any:
        if suffix == "Query" and is_flag(field.annotation):
            return Annotated[field.annotation, BeforeValidator(_query_flag)]
        return field.annotation

    return create_model(  # type: ignore[call-overload,no-any-return]
        op.input.__name__ + suffix, __base__=base, **{n: (wire_type(f), f) for n, f in fields.items()}
    )


def body_model(op: Operation) -> type[BaseModel] | None:
    """The model of the operation's JSON body (None: it takes none)."""
    _, rest = op.field_split()
    return _submodel(op, "Body", rest) if rest and op.method != "GET" and not op.stream else None


def _example(op: Operation) -> dict[str, Any]:
    """The operation's request example (the reference's, fitted to its schema), as OpenAPI extra."""
    example = EXAMPLES.get(op.key)
    return {} if example is None else {"requestBody": {"content": {"application/json": {"example": example}}}}


def _path_type(name: str, field: FieldInfo) -> Any:
    """A path placeholder typed as its input field (an id's pattern reaches the OpenAPI)."""
    return Annotated[(field.annotation, *field.metadata, Path(alias=field.alias or name))]


def sse(items: Iterator[BaseModel]) -> Iterator[str]:
    for item in items:
        yield f"data: {item.model_dump_json()}\n\n"


def _endpoint(op: Operation, services: Services, follow_op: Operation | None = None) -> Any:
    """The route's function; `follow_op` is the stream `?follow=true` switches to (op.follow_with,
    when the op's input has a `follow` flag)."""
    path_fields, rest = op.field_split()
    params = [inspect.Parameter("_request", inspect.Parameter.KEYWORD_ONLY, annotation=Request)]
    params += [
        inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, annotation=_path_type(n, f))
        for n, f in path_fields.items()
    ]
    if rest and op.method == "GET":
        params.append(
            inspect.Parameter(
                "_query",
                inspect.Parameter.KEYWORD_ONLY,
                annotation=Annotated[_submodel(op, "Query", rest), Query()],
            )
        )
    elif rest:
        # Rules across fields (json_schema_extra, e.g. "one of these lists") may need what no body has.
        required = any(f.is_required() for f in rest.values()) or "json_schema_extra" in op.input.model_config
        params.append(
            inspect.Parameter(
                "_body",
                inspect.Parameter.KEYWORD_ONLY,
                annotation=Annotated[_submodel(op, "Body", rest), Body()],
                default=inspect.Parameter.empty if required else None,
            )
        )

    def endpoint(**kwargs: Any) -> Response:
        raw: dict[str, Any] = {(path_fields[n].alias or n): kwargs[n] for n in path_fields}
        for key in ("_query", "_body"):
            if kwargs.get(key) is not None:
                raw.update(kwargs[key].model_dump(by_alias=True, exclude_unset=True, round_trip=True))
        # `?follow=true` on a read that has a live twin answers as that twin: the stream.
        answering = follow_op if follow_op is not None and raw.get("follow") is True else op
        with services.db.session() as session:
            ctx = Context(session=session, settings=services.settings, services=services)
            ctx.principal = principal_of(kwargs["_request"])
            refuse_nul(raw)
            result = answering.handler(ctx, answering.input.model_validate(raw))
        for hook in ctx.after_commit:
            hook()
        if answering.stream:
            return StreamingResponse(
                sse(result),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        if op.status_code == 204:
            return Response(status_code=204)
        return JsonBody(result.model_dump_json(), status_code=op.status_code)

    endpoint.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    endpoint.__name__ = op.key.replace(".", "_").replace("-", "_")
    return endpoint


def refuse_nul(value: Any, where: str = "") -> None:
    """NUL cannot be stored as text (PostgreSQL refuses it) and is never meaningful in input."""
    if isinstance(value, str) and "\x00" in value:
        raise Invalid(
            f"{where or 'the request'} contains a NUL character (\\u0000).",
            code="validation_failed",
            details={"errors": [{"field": where or "body", "message": "NUL characters are not allowed"}]},
            next_action="Remove the NUL character and send the request again.",
        )
    if isinstance(value, dict):
        for key, item in value.items():
            refuse_nul(key, where)
            refuse_nul(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            refuse_nul(item, f"{where}.{i}" if where else str(i))


class _SegmentConvertor(StringConvertor):
    """One path segment that is none of the given literals."""

    def __init__(self, literals: frozenset[str]) -> None:
        words = "|".join(re.escape(w) for w in sorted(literals))
        self.regex = f"(?!(?:{words})(?:/|$))[^/]+" if literals else "[^/]+"


def _segments(path: str) -> list[str | None]:
    """A path's segments; None where a placeholder stands."""
    return [None if part.startswith("{") else part for part in path.strip("/").split("/")]


def _compatible(a: str | None, b: str | None) -> bool:
    return a is None or b is None or a == b


def sibling_literals(path: str, paths: list[str]) -> dict[int, frozenset[str]]:
    """For each placeholder of `path` (by segment index), the literal segments other routes have
    there after a compatible beginning: `/projects/{projectId}` gets {"count"} from `/projects/count`."""
    mine = _segments(path)
    found: dict[int, set[str]] = {i: set() for i, part in enumerate(mine) if part is None}
    for other in paths:
        theirs = _segments(other)
        for i in found:
            word = theirs[i] if i < len(theirs) else None
            if word is not None and all(_compatible(a, b) for a, b in zip(mine[:i], theirs[:i], strict=True)):
                found[i].add(word)
    return {i: frozenset(words) for i, words in found.items()}


def route_path(op: Operation, paths: list[str]) -> str:
    """The operation's path, each id placeholder refusing only the literal segments sibling routes
    have in its place: `/projects/count` never reaches `{projectId}` (its other methods answer 405),
    while any other text does, so a malformed id is a 422 naming the kind expected, not a 404. Other
    placeholders (a variable's key) take any segment."""
    path_fields, _ = op.field_split()
    ids = {f.alias or n for n, f in path_fields.items() if any(isinstance(m, IdKind) for m in f.metadata)}
    parts = op.path.strip("/").split("/")
    for i, words in sibling_literals(op.path, paths).items():
        if parts[i][1:-1] in ids:
            name = "seg_" + hashlib.sha1("|".join(sorted(words)).encode()).hexdigest()[:12]
            register_url_convertor(name, _SegmentConvertor(words))
            parts[i] = f"{{{parts[i][1:-1]}:{name}}}"
    return "/" + "/".join(parts)


def build_router(
    operations: list[Operation], services: Services, family: Family = Family.API, documented: bool = False
) -> APIRouter:
    """The routes of one URL family (its operations only, under its prefix). `documented`: with the
    output and error models of every status, as the OpenAPI document needs them; the serving routes
    go without, as the endpoints serialise their answers themselves (FastAPI would otherwise keep a
    validator per model per route: ~4 MB resident no request uses)."""
    operations = [op for op in operations if op.family is family]
    router = APIRouter(
        prefix=family.prefix, route_class=guarded_route(services.db, {op.key: op for op in operations})
    )
    # Literal segments before placeholders: /projects/count must not be read as /projects/{projectId}.
    paths = [op.path for op in operations]
    by_key = {op.key: op for op in operations}
    for op in sorted(operations, key=lambda o: (o.path.count("{"), o.path)):
        router.add_api_route(
            route_path(op, paths),
            _endpoint(op, services, follow := follow_of(op, by_key)),
            methods=[op.method],
            response_model=None if op.stream or op.status_code == 204 or not documented else op.output,
            response_class=StreamingResponse if op.stream else JsonBody,
            status_code=op.status_code,
            operation_id=op.key,
            summary=op.summary,
            tags=[op.group],
            responses={
                **documented_responses(op),
                **(STREAM_RESPONSE if op.stream else FOLLOW_RESPONSE if follow else {}),
            }
            if documented
            else None,
            openapi_extra=_example(op) or None,
            # The caller is checked by the route class; this documents the scheme in OpenAPI.
            dependencies=[] if op.permission is Permission.PUBLIC else [Security(bearer)],
        )
    return router
