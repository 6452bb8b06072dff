"""Default access domain policies over the API: scopes, validation, and renaming generated routes."""

from typing import Any

from api_helpers import error_code
from sqlalchemy import select

from dockyard.domain.ids import new_id
from dockyard.edge.sync import assign_route
from dockyard.store.tables import AccessRoute, Resource, Server


def local_server(api: Any) -> str:
    return next(s["id"] for s in api.get("/api/servers").json()["items"] if s["providerKey"] == "local")


def test_no_policy_is_set_at_first_and_one_can_be_set_per_scope(api: Any) -> None:
    assert api.get("/api/default-access-domain-policies").json()["items"] == []
    shown = api.get("/api/default-access-domain-policies/show").json()
    assert shown["scope"] == {"kind": "system", "serverId": None} and shown["policy"] is None
    system = api.post(
        "/api/default-access-domain-policies",
        json={"mode": "custom-template", "templateRef": "{slug}.apps.example.com"},
    )
    assert system.status_code == 200, system.text
    server = local_server(api)
    targeted = api.post(
        "/api/default-access-domain-policies",
        json={"scope": {"kind": "deployment-target", "serverId": server}, "mode": "disabled"},
    )
    assert targeted.status_code == 200
    again = api.post(
        "/api/default-access-domain-policies", json={"mode": "provider", "providerKey": "localhost"}
    )
    assert again.json()["id"] == system.json()["id"]  # one policy per scope: updated in place
    items = api.get("/api/default-access-domain-policies").json()["items"]
    assert [(i["scope"]["kind"], i["mode"]) for i in items] == [
        ("deployment-target", "disabled"),
        ("system", "provider"),
    ]
    shown = api.get(
        "/api/default-access-domain-policies/show",
        params={"scopeKind": "deployment-target", "serverId": server},
    )
    assert shown.json()["policy"]["mode"] == "disabled"


def test_bad_policies_are_refused_by_field(api: Any) -> None:
    bad = [
        {"mode": "custom-template"},
        {"mode": "custom-template", "templateRef": "apps.example.com"},
        {"mode": "custom-template", "templateRef": "{slug}.Bad Name.com"},
        {"mode": "provider", "templateRef": "{slug}.x.com"},
        {"mode": "sometimes"},
        {"scope": {"kind": "deployment-target"}, "mode": "disabled"},
        {"scope": {"kind": "system", "serverId": new_id("server")}, "mode": "disabled"},
    ]
    for body in bad:
        resp = api.post("/api/default-access-domain-policies", json=body)
        assert resp.status_code == 422 and error_code(resp) == "validation_failed", body
    missing = api.post(
        "/api/default-access-domain-policies",
        json={"scope": {"kind": "deployment-target", "serverId": new_id("server")}, "mode": "disabled"},
    )
    assert missing.status_code == 404
    assert api.get("/api/default-access-domain-policies").json()["items"] == []


def test_a_new_template_renames_the_generated_routes(api: Any, stack: Any, new_resource: str) -> None:
    with stack.db.session() as s:
        server = s.scalar(select(Server).where(Server.is_control_plane.is_(True)))
        resource = s.get(Resource, new_resource)
        assert server and resource
        assert assign_route(s, resource, server, "2026-11-23T00:00:00.000Z").hostname == "web.localhost"
    resp = api.post(
        "/api/default-access-domain-policies",
        json={"mode": "custom-template", "templateRef": "{slug}.apps.test"},
    )
    assert resp.status_code == 200
    with stack.db.session() as s:
        assert list(s.scalars(select(AccessRoute.hostname))) == ["web.apps.test"]
