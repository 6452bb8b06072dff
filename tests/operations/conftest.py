"""Factories for operation tests: a project, an environment in it, a resource in that."""

from typing import Any

import pytest
from api_helpers import created


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
