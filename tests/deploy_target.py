"""A fresh project, production environment and resource on the `local` server, through the API."""

from typing import Any


def made(api: Any, path: str, body: dict[str, Any]) -> str:
    """POST `body` to `path`; the id of what it created (a 201)."""
    resp = api.post(path, json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def new_target(api: Any, project_name: str, resource_name: str = "Web") -> dict[str, str]:
    """{projectId, environmentId, resourceId, serverId}: what a deployment of the resource names."""
    server = next(s["id"] for s in api.get("/api/servers").json()["items"] if s["providerKey"] == "local")
    project = made(api, "/api/projects", {"name": project_name})
    env = made(api, "/api/environments", {"projectId": project, "name": "production", "kind": "production"})
    resource = made(
        api, "/api/resources", {"projectId": project, "environmentId": env, "name": resource_name}
    )
    return {"projectId": project, "environmentId": env, "resourceId": resource, "serverId": server}


def with_source(api: Any, target: dict[str, str], folder: Any) -> dict[str, str]:
    """Point the target's resource at a local folder; the target again."""
    source = {"source": {"kind": "local-folder", "locator": str(folder)}}
    resp = api.post(f"/api/resources/{target['resourceId']}/source", json=source)
    assert resp.status_code == 200, resp.text
    return target
