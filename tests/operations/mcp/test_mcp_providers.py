"""Custom provider versions, providers, provider configs and provider deployments on both stores.

The version's deploy job (normally run by the worker) is run here in the test's thread against the real
mcp-echo example, so providers exist with discovered tools."""

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from dockyard.hosting.deploy import run_custom_deployment
from dockyard.services import Services
from dockyard.store.mcp_tables import McpProviderConfig

ECHO = Path(__file__).resolve().parents[3] / "examples" / "mcp-echo" / "server.py"
SCHEMA = {
    "type": "object",
    "required": ["api_key"],
    "properties": {"api_key": {"type": "string", "x-secret": True}, "prefix": {"type": "string"}},
}


def ok(resp: Any, status: int = 200) -> Any:
    assert resp.status_code == status, resp.text
    return resp.json()


@pytest.fixture
def provider(api: Any, stack: Any) -> dict[str, Any]:
    """A custom provider whose first version (mcp-echo over stdio, with a config schema) deployed."""
    custom = ok(api.post("/mcp-api/custom-providers", json={"name": "Echo Tools"}), 201)
    version = ok(
        api.post(
            "/mcp-api/custom-provider-versions",
            json={
                "custom_provider_id": custom["id"],
                "from": {"type": "stdio", "command": sys.executable, "args": [str(ECHO)]},
                "config": {"schema": SCHEMA, "transformer": {"env": {"ECHO_PREFIX": "{{config.prefix}}"}}},
            },
        ),
        201,
    )
    assert version["status"] == "queued" and version["deployment"]["status"] == "queued"
    run_custom_deployment(Services.create(stack.settings, stack.db), version["deployment"]["id"])
    done = ok(api.get(f"/mcp-api/custom-provider-versions/{version['id']}"))
    assert done["status"] == "deployment_succeeded", done["deployment"]
    return done


def test_a_deployed_version_becomes_the_providers_current_version(api: Any, provider: dict[str, Any]) -> None:
    assert provider["environments"][0]["name"] == "production"
    assert provider["config"]["schema"] == {"type": "json_schema", "schema": SCHEMA}
    assert provider["stdio_command"]["command"] == sys.executable
    shown = ok(api.get(f"/mcp-api/providers/{provider['provider_id']}"))
    assert shown["current_version"]["id"] == provider["provider_version_id"]
    assert "echo" in {t["name"] for t in shown["current_version"]["tools"]}
    found = ok(api.get("/mcp-api/custom-provider-versions", params={"status": "deployment_succeeded"}))[
        "items"
    ]
    assert [v["id"] for v in found] == [provider["id"]]
    assert ok(api.get("/mcp-api/custom-provider-versions", params={"status": "queued"}))["items"] == []
    by_env = {"custom_provider_environment_id": provider["environments"][0]["id"]}
    assert [v["id"] for v in ok(api.get("/mcp-api/custom-provider-versions", params=by_env))["items"]] == [
        provider["id"]
    ]


def test_a_version_shows_its_actor_deployment_and_environment_as_the_reference_does(
    api: Any, provider: dict[str, Any]
) -> None:
    deployment = provider["deployment"]
    creator = deployment["creator_actor"]
    assert creator["object"] == "organization.actor" and creator["type"] in ("member", "system")
    assert creator["image_url"] is None and creator["teams"] == []
    # the version's actor is the preview of the same actor who created it
    actor = provider["actor"]
    assert actor["object"] == "custom_provider.actor#preview"
    assert (actor["id"], actor["name"], actor["type"]) == (creator["id"], creator["name"], creator["type"])
    assert actor["organization_actor_id"] == creator["id"] and actor["identifier"] == (
        creator["id"] or "dockyard"
    )
    assert deployment["actor"] == actor and actor["created_at"] is None
    assert (
        deployment["custom_provider_id"] == provider["custom_provider_id"] == deployment["custom_server_id"]
    )
    assert deployment["custom_provider_version_id"] == provider["id"]
    assert deployment["commit"] == {"object": "custom_provider.deployment.commit", "type": "create_version"}
    assert deployment["immutable_bucket"] is None and deployment["scm_push"] is None
    env = provider["environments"][0]
    assert env["environment"]["id"] == env["id"] and env["environment"]["name"] == "production"
    assert env["environment"]["current_custom_provider_version_id"] == provider["id"]
    assert env["instance_id"] is None


def test_container_and_remote_versions_show_their_source_under_the_references_names(
    api: Any, stack: Any
) -> None:
    custom = ok(api.post("/mcp-api/custom-providers", json={"name": "Sources"}), 201)

    def create(source: dict[str, Any]) -> dict[str, Any]:
        body = {"custom_provider_id": custom["id"], "from": source}
        return ok(api.post("/mcp-api/custom-provider-versions", json=body), 201)

    image = create({"type": "container_image", "image_ref": "ghcr.io/acme/tools:v2"})["container_image"]
    assert image == {
        "container_registry": "ghcr.io",
        "container_image": "ghcr.io/acme/tools",
        "container_image_tag": "v2",
        "username": None,
    }
    remote = create({"type": "remote_mcp_server", "url": "https://mcp.example.com/mcp", "transport": "sse"})
    assert remote["remote_mcp_server"] == {
        "url": "https://mcp.example.com/mcp",
        "transport": "sse",
        "has_headers": False,
    }
    assert remote["container_image"] is None
    # the reference's example transport (grpc) is not one Dockyard speaks: refused naming what it can do
    body = {
        "custom_provider_id": custom["id"],
        "from": {"type": "remote_mcp_server", "url": "https://mcp.example.com", "transport": "grpc"},
    }
    refused = api.post("/mcp-api/custom-provider-versions", json=body)
    assert refused.status_code == 422, refused.text
    assert "streamable_http" in refused.text and "sse" in refused.text and "transport" in refused.text


def test_config_failing_the_schema_is_refused_naming_the_field(api: Any, provider: dict[str, Any]) -> None:
    resp = api.post(
        "/mcp-api/provider-deployments",
        json={"provider_id": provider["provider_id"], "provider_config": {"config": {"prefix": 3}}},
    )
    body = resp.json()
    assert resp.status_code == 422 and body["code"] == "invalid_provider_config"
    assert {e["field"] for e in body["details"]["errors"]} == {
        "provider_config.config.api_key",
        "provider_config.config.prefix",
    }
    both = api.post(
        "/mcp-api/provider-deployments",
        json={
            "provider_id": provider["provider_id"],
            "provider_config_id": "pcf_01m84psgz8nf81wt2vasycp55g",
            "provider_config": {"config": {"api_key": "k"}},
        },
    )
    assert both.status_code == 422 and "not both" in both.json()["message"]


def test_provider_deployment_crud_with_sealed_config_and_tool_filters(
    api: Any, stack: Any, provider: dict[str, Any]
) -> None:
    created = ok(
        api.post(
            "/mcp-api/provider-deployments",
            json={
                "name": "Production",
                "description": "for agents",
                "metadata": {"team": "a"},
                "provider_id": provider["provider_id"],
                "tool_filters": {"type": "allow_by_key", "keys": ["echo"]},
                "provider_config": {"config": {"api_key": "very-secret-key", "prefix": "> "}},
            },
        ),
        201,
    )
    assert created["object"] == "provider.deployment" and created["is_default"] is True
    assert created["tool_filter"] == {"type": "allow_by_key", "keys": ["echo"]}
    assert (
        created["locked_version"] is None
        and created["current_version"]["id"] == provider["provider_version_id"]
    )
    config = ok(api.get(f"/mcp-api/provider-configs/{created['default_config']['id']}"))
    assert config["config"] == {"api_key": "********", "prefix": "> "}
    with stack.db.session() as s:
        stored = s.scalars(select(McpProviderConfig)).one()
        assert "very-secret-key" not in json.dumps([stored.sealed, stored.masked])

    pinned = ok(
        api.post(
            "/mcp-api/provider-deployments",
            json={
                "provider_id": provider["provider_id"],
                "locked_provider_version_id": provider["provider_version_id"],
                "provider_config_id": config["id"],
            },
        ),
        201,
    )
    assert pinned["locked_version"]["id"] == provider["provider_version_id"] and pinned["is_default"] is False

    listed = ok(api.get("/mcp-api/provider-deployments", params={"search": "agents"}))
    assert [d["id"] for d in listed["items"]] == [created["id"]]
    by_version = {"provider_version_id": provider["provider_version_id"], "limit": 10}
    assert len(ok(api.get("/mcp-api/provider-deployments", params=by_version))["items"]) == 2

    bad = api.patch(
        f"/mcp-api/provider-deployments/{created['id']}",
        json={"tool_filters": {"type": "allow_by_regex", "patterns": ["("]}},
    )
    assert bad.status_code == 422 and bad.json()["details"]["field"] == "tool_filters.patterns.0"
    updated = ok(
        api.patch(
            f"/mcp-api/provider-deployments/{created['id']}",
            json={"name": "Prod", "tool_filters": {"type": "deny_by_key", "keys": ["crash"]}},
        )
    )
    assert updated["name"] == "Prod" and updated["description"] == "for agents"
    assert updated["tool_filter"] == {"type": "deny_by_key", "keys": ["crash"]}

    session = ok(api.post("/mcp-api/sessions", json={"provider_deployment_ids": [created["id"]]}), 201)
    assert session["client_secret"]["secret"].startswith("dys_")
    assert ok(api.get(f"/mcp-api/sessions/{session['id']}"))["client_secret"]["secret"] is None
    refused = api.request("DELETE", f"/mcp-api/provider-deployments/{created['id']}")
    assert refused.status_code == 409 and refused.json()["code"] == "provider_deployment_in_use"
    assert session["id"] in refused.json()["details"]["session_ids"]
    forced = ok(api.request("DELETE", f"/mcp-api/provider-deployments/{created['id']}", json={"force": True}))
    # the deleted object itself, as show answered it (the reference's shape)
    assert forced["object"] == "provider.deployment" and forced["id"] == created["id"]
    assert forced["name"] == "Prod" and forced["status"] == "active"
    assert forced["tool_filter"] == {"type": "deny_by_key", "keys": ["crash"]}
    assert forced["provider_id"] == provider["provider_id"]
    assert api.get(f"/mcp-api/provider-deployments/{created['id']}").status_code == 404
    ok(api.request("DELETE", f"/mcp-api/provider-deployments/{pinned['id']}"))  # no session uses it


def test_a_session_over_several_deployments_namespaces_them(api: Any, provider: dict[str, Any]) -> None:
    ids = [
        ok(
            api.post(
                "/mcp-api/provider-deployments",
                json={
                    "provider_id": provider["provider_id"],
                    "provider_config": {"config": {"api_key": "k"}},
                },
            ),
            201,
        )["id"]
        for _ in range(2)
    ]
    session = ok(api.post("/mcp-api/sessions", json={"provider_deployment_ids": ids}), 201)
    assert sorted(s["namespace"] for s in session["server_sessions"]) == ["echo_tools", "echo_tools_2"]
    assert session["connection_urls"]["sse"] == session["connection_url"] + "/sse"


def test_a_key_rotation_reseals_provider_configs_and_they_still_open(
    api: Any, stack: Any, provider: dict[str, Any]
) -> None:
    created = ok(
        api.post(
            "/mcp-api/provider-deployments",
            json={
                "provider_id": provider["provider_id"],
                "provider_config": {"config": {"api_key": "rotate-me-key", "prefix": "> "}},
            },
        ),
        201,
    )
    with stack.db.session() as s:
        before = s.scalars(select(McpProviderConfig)).one().sealed
    rotated = ok(api.post("/api/secrets/rotate-key", json={}))
    assert rotated["reencryptedCount"] >= 1
    with stack.db.session() as s:
        after = s.scalars(select(McpProviderConfig)).one().sealed
    assert after != before and rotated["keyId"] in after and "rotate-me-key" not in after
    reused = api.post(
        "/mcp-api/provider-deployments",
        json={"provider_id": provider["provider_id"], "provider_config_id": created["default_config"]["id"]},
    )
    assert reused.status_code == 201, reused.text  # the config opened (and validated) with the new key


def test_versions_are_filtered_by_a_created_at_range_in_bracket_form(
    api: Any, provider: dict[str, Any]
) -> None:
    def listed(**params: str) -> list[str]:
        return [v["id"] for v in ok(api.get("/mcp-api/custom-provider-versions", params=params))["items"]]

    assert provider["id"] in listed(**{"created_at[gte]": "2020-01-01T00:00:00Z"})
    assert provider["id"] in listed(**{"created_at[lt]": "2999-01-01T00:00:00+02:00"})
    assert listed(**{"created_at[gt]": "2999-01-01T00:00:00Z"}) == []
    assert listed(**{"updated_at[lte]": "2020-01-01"}) == []
    bad = api.get("/mcp-api/custom-provider-versions", params={"created_at[gte]": "last tuesday"})
    assert bad.status_code == 422 and "created_at[gte]" in bad.text and "ISO 8601" in bad.text


def test_a_range_in_plain_form_filters_as_the_bracket_form_does(api: Any, provider: dict[str, Any]) -> None:
    def listed(**params: str) -> list[str]:
        return [v["id"] for v in ok(api.get("/mcp-api/custom-provider-versions", params=params))["items"]]

    assert provider["id"] in listed(
        created_at='{"gte": "2020-01-01T00:00:00Z", "lt": "2999-01-01T00:00:00Z"}'
    )
    assert listed(created_at='{"gt": "2999-01-01T00:00:00Z"}') == []
    assert listed(updated_at='{"lte": "2020-01-01"}') == []
    both = api.get(
        "/mcp-api/custom-provider-versions",
        params={"created_at": '{"gte": "2020-01-01T00:00:00Z"}', "created_at[gte]": "2021-01-01T00:00:00Z"},
    )
    assert both.status_code == 422 and "differ" in both.text
    assert api.get("/mcp-api/custom-provider-versions", params={"created_at": "{not json"}).status_code == 422


def test_the_published_enums_hold_the_references_values(api: Any) -> None:
    schemas = ok(api.get("/mcp-api/openapi.json"))["components"]["schemas"]
    assert schemas["ServerPreview"]["properties"]["type"]["enum"] == ["public", "custom"]
    remote = schemas["RemoteServerOut"]["properties"]["transport"]["enum"]
    assert remote == ["streamable_http", "sse"]  # grpc is refused at input (see above)
    assert "allow_by_regex" in schemas["ToolFilterOut"]["properties"]["type"]["enum"]
