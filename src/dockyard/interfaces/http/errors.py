"""Every failure leaves as one envelope per URL family: {"error": {code, message, details, nextAction}}
under /api, {ok: false, status, code, message, hint?} under /mcp-api."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException
from starlette.routing import Match

from dockyard.domain.errors import DockyardError, malformed_id
from dockyard.interfaces.http.error_models import error_body
from dockyard.interfaces.http.intake import BodyTooLarge
from dockyard.operations.catalog import Family

log = logging.getLogger("dockyard.http")

_HTTP_CODES = {404: "route_not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}


def envelope(
    status: int,
    code: str,
    message: str,
    details: dict | None = None,
    next_action: str | None = None,
    request: Request | None = None,
) -> JSONResponse:
    mcp = request is not None and _family(request) is Family.MCP_API
    model = error_body(mcp, status, code, message, details, next_action)
    body = model.model_dump(mode="json", exclude_none=mcp)
    return JSONResponse(body, status_code=status)


def _family(request: Request) -> Family:
    """/mcp-api, and the MCP gateway under /mcp, answer in the MCP hosting envelope."""
    path = request.url.path
    mcp = any(path == p or path.startswith(p + "/") for p in (Family.MCP_API.prefix, "/mcp"))
    return Family.MCP_API if mcp else Family.API


def body_too_large(request: Request, limit: int) -> JSONResponse:
    key = "max_bytes" if _family(request) is Family.MCP_API else "maxBytes"
    return envelope(
        413,
        "body_too_large",
        f"The request body is larger than {limit} bytes, the most this server reads.",
        {key: limit},
        "Send a smaller body; the server's operator can raise DOCKYARD_MAX_BODY_BYTES.",
        request,
    )


def error_response(request: Request, exc: DockyardError) -> JSONResponse:
    return envelope(exc.status, exc.code, exc.message, exc.details, exc.next_action, request)


def describe_validation(errors: list[Any], whole: str = "body") -> list[dict[str, str]]:
    """Field errors without the offending input echoed back (it may be a secret); a rule across
    fields names `whole` (the body, or the query string of a GET)."""
    out = []
    for e in errors:
        loc = [str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path")] or [whole]
        out.append({"field": ".".join(loc), "message": e.get("msg", "invalid"), "type": e.get("type", "")})
    return out


def validation_response(errors: list[Any], request: Request | None = None) -> JSONResponse:
    if any(
        e.get("type") == "json_invalid" and tuple(e.get("loc") or ("body",))[:1] == ("body",) for e in errors
    ):
        return envelope(
            400,
            "malformed_json",
            "The request body is not valid JSON.",
            next_action="Send a JSON object with Content-Type: application/json.",
            request=request,
        )
    whole = "query" if request is not None and request.method == "GET" else "body"
    fields = describe_validation(errors, whole)
    summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
    return envelope(
        422,
        "validation_failed",
        f"The request is not valid: {summary}",
        {"errors": fields},
        "Fix the fields listed in details.errors and send the request again.",
        request,
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(DockyardError)
    async def _dockyard(request: Request, exc: DockyardError) -> JSONResponse:
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _request_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        # The caller was checked before the input was read (intake.guarded_route): 401/403 come first.
        errors = list(exc.errors())
        path_id = next(
            (e for e in errors if e.get("loc", ())[:1] == ("path",) and e["type"] == "id_kind"), None
        )
        if path_id:  # 422 is for bodies and queries; a path that names no such entity is a 404
            return error_response(request, malformed_id(path_id["ctx"]["kind"], str(path_id["input"])))
        return validation_response(errors, request)

    @app.exception_handler(ValidationError)
    async def _validation(request: Request, exc: ValidationError) -> JSONResponse:
        return validation_response(exc.errors(include_input=False), request)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        log.info("integrity conflict: %s", exc.orig)
        return envelope(
            409,
            "conflict",
            "The change conflicts with existing data (a name or id is taken).",
            next_action="Read the current state and retry with other values.",
            request=request,
        )

    def allowed_methods(request: Request) -> str:
        """The methods some route answers on this path, asked of the router itself (Starlette names
        only the first partly matching route's; a placeholder may also match a literal segment)."""

        def answers(method: str) -> bool:
            scope = {**request.scope, "method": method}
            return any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes)

        return ", ".join(m for m in ("DELETE", "GET", "PATCH", "POST", "PUT") if answers(m))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        if isinstance(exc, BodyTooLarge):
            return body_too_large(request, exc.limit)
        if exc.status_code == 400 and "parsing the body" in str(exc.detail):  # e.g. not UTF-8
            return validation_response([{"type": "json_invalid"}], request)
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        response = envelope(
            exc.status_code,
            code,
            str(exc.detail),
            next_action=f"See {_family(request).prefix}/docs for the operations and their paths.",
            request=request,
        )
        if exc.status_code == 405:
            response.headers["Allow"] = allowed_methods(request)
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return envelope(
            500,
            "internal_error",
            "Something went wrong inside Dockyard; it was logged.",
            next_action="Retry; if it persists, report it with the server log.",
            request=request,
        )
