"""The FastAPI application: routes from the catalog, one error envelope, OpenAPI under /api."""

from fastapi import FastAPI

from dockyard import __version__
from dockyard.config import Settings
from dockyard.interfaces.http import errors
from dockyard.interfaces.http.routes import build_router
from dockyard.operations.catalog import catalog
from dockyard.services import Services
from dockyard.store.db import Database


def build_app(settings: Settings, db: Database, services: Services | None = None) -> FastAPI:
    """The API. With `services` given, its worker starts and stops with the app (see `lifespan`)."""
    services = services or Services.create(settings, db)
    app = FastAPI(
        title="Dockyard",
        version=__version__,
        description="Self-hosted deployment platform. Every operation here is also a CLI command.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    operations = catalog()
    errors.install(app, db, {op.key: op for op in operations})
    app.include_router(build_router(operations, services))
    return app
