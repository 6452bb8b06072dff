"""The FastAPI application: routes from the catalog, one error envelope per family, OpenAPI per family
(/api/openapi.json, /mcp-api/openapi.json), and the MCP gateway mounted at /mcp (loaded on first use)."""

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.requests import Request
from starlette.responses import JSONResponse

from dockyard import __version__
from dockyard.config import Settings
from dockyard.interfaces.http import errors
from dockyard.interfaces.http.gateway_mount import LazyGateway
from dockyard.interfaces.http.intake import BodyLimit
from dockyard.interfaces.http.routes import build_router
from dockyard.operations.catalog import Family, Operation, catalog
from dockyard.services import Services
from dockyard.store.db import Database

# Said once for every text field: the server refuses NUL anywhere in input (PostgreSQL cannot store it).
NO_NUL = " Text never contains NUL (U+0000): a request with one is refused with 422."
DESCRIPTIONS = {
    Family.API: "Self-hosted deployment platform. Every operation here is also a CLI command." + NO_NUL,
    Family.MCP_API: "MCP hosting: custom servers and providers, deployments, sessions, server runs." + NO_NUL,
}


def _objects(node: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in a document, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


def _closed_maps(doc: dict[str, Any]) -> None:
    """Pydantic checks a map's keys against their pattern but its schema (patternProperties alone)
    admits any other key too: say that other keys are refused."""
    for node in _objects(doc):
        if "patternProperties" in node:
            node.setdefault("additionalProperties", False)


def _refs(node: Any) -> Iterator[str]:
    return (o["$ref"].rsplit("/", 1)[1] for o in _objects(node) if isinstance(o.get("$ref"), str))


def _used_schemas(doc: dict[str, Any]) -> dict[str, Any]:
    """The component schemas the document's paths reach (directly or through other schemas): the
    other family's models stay out."""
    schemas = doc.get("components", {}).get("schemas", {})
    used: set[str] = set()
    todo = list(_refs(doc["paths"]))
    while todo:
        name = todo.pop()
        if name not in used:
            used.add(name)
            todo.extend(_refs(schemas.get(name, {})))
    return {name: schema for name, schema in schemas.items() if name in used}


def _json_parameters(doc: dict[str, Any]) -> None:
    """A query parameter that holds JSON text (pydantic's Json[...]) is published as OpenAPI says such
    a parameter is: `content: application/json` with the object's schema, so a client (or a fuzzer)
    sends a serialised object, not any string."""
    for item in doc["paths"].values():
        for operation in item.values():
            for param in operation.get("parameters", []):
                branches = param.get("schema", {}).get("anyOf", [param.get("schema", {})])
                inner = next((b for b in branches if b.get("contentMediaType") == "application/json"), None)
                if inner is not None:
                    del param["schema"]
                    param["content"] = {"application/json": {"schema": inner.get("contentSchema", {})}}


def _openapi(operations: list[Operation], services: Services, family: Family) -> dict[str, Any]:
    doc = get_openapi(
        title="Dockyard" if family is Family.API else "Dockyard MCP hosting",
        version=__version__,
        description=DESCRIPTIONS[family],
        routes=build_router(operations, services, family, documented=True).routes,
    )
    doc["paths"] = {p: item for p, item in doc["paths"].items() if p.startswith(family.prefix + "/")}
    _json_parameters(doc)
    doc["components"]["schemas"] = _used_schemas(doc)
    _closed_maps(doc)
    return doc


def build_app(settings: Settings, db: Database, services: Services | None = None) -> FastAPI:
    """The API. With `services` given, its worker starts and stops with the app (see `lifespan`)."""
    services = services or Services.create(settings, db)
    gateway = LazyGateway(services)
    app = FastAPI(
        title="Dockyard",
        version=__version__,
        description=DESCRIPTIONS[Family.API],
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=gateway.lifespan,
    )
    operations = catalog()
    errors.install(app)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    for family in Family:
        app.include_router(build_router(operations, services, family))
    schemas: dict[Family, dict[str, Any]] = {}

    def openapi(family: Family = Family.API) -> dict[str, Any]:
        if family not in schemas:
            schemas[family] = _openapi(operations, services, family)
        return schemas[family]

    app.openapi = openapi  # type: ignore[method-assign]

    async def mcp_api_openapi(_: Request) -> JSONResponse:
        return JSONResponse(openapi(Family.MCP_API))

    app.add_route("/mcp-api/openapi.json", mcp_api_openapi, include_in_schema=False)
    app.mount("/mcp", gateway)
    return app
