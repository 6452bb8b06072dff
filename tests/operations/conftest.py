"""Factories for operation tests: a project, an environment in it, a resource in that; the services
(runtime) that run deployments in-process, their apps stopped afterwards."""

from collections.abc import Iterator
from typing import Any

import pytest
from api_helpers import created

from dockyard.edge.sync import make
from dockyard.services import Services


@pytest.fixture
def new_project(api: Any) -> str:
    return created(api.post("/api/projects", json={"name": "shop"}))


@pytest.fixture
def new_environment(api: Any, new_project: str) -> str:
    return created(
        api.post(
            "/api/environments", json={"projectId": new_project, "name": "production", "kind": "production"}
        )
    )


@pytest.fixture
def new_resource(api: Any, new_project: str, new_environment: str) -> str:
    return created(
        api.post(
            "/api/resources", json={"projectId": new_project, "environmentId": new_environment, "name": "Web"}
        )
    )


@pytest.fixture
def svc(stack: Any) -> Iterator[Services]:
    services = Services.create(stack.settings, stack.db)
    yield services
    services.runtime.shutdown_all()
    edge = make(stack.settings.data_dir, {"kind": "nginx"})
    if edge is not None:
        edge.stop()  # the nginx a test started (live_edge.py); nothing when none runs
