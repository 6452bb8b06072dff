from typing import Any

import pytest
from api_helpers import created, error_code

SUMMARY_FIELDS = {
    "id",
    "projectId",
    "environmentId",
    "destinationId",
    "name",
    "slug",
    "kind",
    "description",
    "createdAt",
    "services",
    "networkProfile",
    "accessProfile",
    "deploymentCount",
    "lastDeploymentId",
    "lastDeploymentStatus",
    "latestRuntimeControl",
    "accessSummary",
}
SHOW_FIELDS = {
    "schemaVersion",
    "resource",
    "source",
    "autoDeployPolicy",
    "runtimeProfile",
    "networkProfile",
    "accessProfile",
    "healthPolicy",
    "storageAttachments",
    "accessSummary",
    "latestDeployment",
    "lifecycle",
    "diagnostics",
    "runtime",
    "generatedAt",
}
ACCESS_SUMMARY_FIELDS = {
    "plannedGeneratedAccessRoute",
    "latestGeneratedAccessRoute",
    "latestDurableDomainRoute",
    "latestServerAppliedDomainRoute",
    "proxyRouteStatus",
    "lastRouteRealizationDeploymentId",
    "latestAccessFailureDiagnostic",
}


def test_list_and_show_carry_the_seed_shapes(api: Any, new_resource: str) -> None:
    item = api.get("/api/resources").json()["items"][0]
    assert set(item) == SUMMARY_FIELDS
    assert set(item["accessSummary"]) == ACCESS_SUMMARY_FIELDS
    assert item["slug"] == "web" and item["services"] == [{"name": "web", "kind": "web"}]
    shown = api.get(f"/api/resources/{new_resource}").json()
    assert set(shown) == SHOW_FIELDS
    assert shown["schemaVersion"] == "resources.show/v1"
    assert shown["lifecycle"] == {"status": "active", "archivedAt": None, "deletedAt": None}
    assert shown["healthPolicy"]["http"]["path"] == "/" and shown["healthPolicy"]["enabled"] is True
    # no auto-deploy and no storage volumes exist in Dockyard yet: said so, not left out
    assert shown["autoDeployPolicy"]["status"] == "disabled" and shown["autoDeployPolicy"]["refs"] == []
    assert shown["autoDeployPolicy"]["triggerKind"] is None and shown["storageAttachments"] == []
    assert item["latestRuntimeControl"] is None


def test_filters_and_counts(api: Any, new_project: str, new_environment: str, new_resource: str) -> None:
    other = created(api.post(f"/api/environments/{new_environment}/clone", json={"targetName": "staging"}))
    created(
        api.post("/api/resources", json={"projectId": new_project, "environmentId": other, "name": "api"})
    )
    assert api.get("/api/resources/count").json() == {"count": 2}
    assert api.get("/api/resources/count", params={"environmentId": new_environment}).json() == {"count": 1}
    names = [r["name"] for r in api.get("/api/resources", params={"projectId": new_project}).json()["items"]]
    assert names == ["api", "Web"]  # newest first


def test_keyset_pages_cover_everything_once(api: Any, new_project: str, new_environment: str) -> None:
    for i in range(7):
        created(
            api.post(
                "/api/resources",
                json={"projectId": new_project, "environmentId": new_environment, "name": f"svc-{i}"},
            )
        )
    seen, cursor = [], None
    while True:
        page = api.get("/api/resources", params={"limit": 3, **({"cursor": cursor} if cursor else {})}).json()
        seen += [r["name"] for r in page["items"]]
        cursor = page["nextCursor"]
        if not cursor:
            break
    assert seen == [f"svc-{i}" for i in reversed(range(7))]


def test_environment_must_belong_to_the_project(api: Any, new_environment: str) -> None:
    other_project = created(api.post("/api/projects", json={"name": "other"}))
    refused = api.post(
        "/api/resources", json={"projectId": other_project, "environmentId": new_environment, "name": "web"}
    )
    assert refused.status_code == 409 and error_code(refused) == "environment_not_in_project"
    assert api.get("/api/resources/count").json() == {"count": 0}


def test_slug_is_unique_per_environment_until_deleted(
    api: Any, new_project: str, new_environment: str, new_resource: str
) -> None:
    body = {"projectId": new_project, "environmentId": new_environment, "name": "web"}
    again = api.post("/api/resources", json=body)
    assert again.status_code == 409 and error_code(again) == "resource_slug_conflict"
    api.request("DELETE", f"/api/resources/{new_resource}", json={"confirmation": {"resourceSlug": "web"}})
    created(api.post("/api/resources", json=body))


def test_profiles_merge_and_persist(api: Any, new_resource: str) -> None:
    base = f"/api/resources/{new_resource}"
    assert (
        api.post(f"{base}/network-profile", json={"networkProfile": {"internalPort": 3000}}).status_code
        == 200
    )
    api.post(f"{base}/network-profile", json={"networkProfile": {"upstreamProtocol": "tcp"}})
    api.post(
        f"{base}/runtime-profile",
        json={"runtimeProfile": {"strategy": "workspace-commands", "startCommand": "npm start"}},
    )
    api.post(f"{base}/runtime-profile", json={"runtimeProfile": {"buildCommand": "npm run build"}})
    api.post(f"{base}/health-policy", json={"healthCheck": {"retries": 3, "http": {"path": "/healthz"}}})
    api.post(f"{base}/access-profile", json={"accessProfile": {"pathPrefix": "/app"}})
    api.post(
        f"{base}/source",
        json={
            "source": {"kind": "local-folder", "locator": "./web", "metadata": {"framework": "express"}},
            "idempotencyKey": "k1",
        },
    )
    shown = api.get(base).json()
    assert (
        shown["networkProfile"]["internalPort"] == 3000
        and shown["networkProfile"]["upstreamProtocol"] == "tcp"
    )
    runtime = shown["runtimeProfile"]
    assert (runtime["strategy"], runtime["startCommand"], runtime["buildCommand"]) == (
        "workspace-commands",
        "npm start",
        "npm run build",
    )
    health = shown["healthPolicy"]
    assert health["retries"] == 3 and health["http"]["path"] == "/healthz"
    assert health["http"]["expectedStatusCode"] is None  # unset: 200 on a configured path (domain/health.py)
    assert shown["accessProfile"]["pathPrefix"] == "/app"
    assert shown["source"]["locator"] == "./web" and shown["source"]["metadata"] == {"framework": "express"}
    api.post(f"{base}/health-policy/reset")
    assert api.get(base).json()["healthPolicy"]["retries"] == 10


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("network-profile", {"networkProfile": {"internalPort": 70000}}),
        ("network-profile", {"networkProfile": {"exposureMode": "everywhere"}}),
        ("health-policy", {"healthCheck": {"http": {"path": "no-slash"}}}),
        ("runtime-profile", {"runtimeProfile": {"strategy": "magic"}}),
        ("source", {"source": {"kind": "local-folder"}}),
        ("access-profile", {"accessProfile": {"pathPrefix": "x", "extra": 1}}),
        ("access-profile", {"accessProfile": {"pathPrefix": "/a;b"}}),  # the edge cannot render it
        ("health-policy", {"healthCheck": {"http": {"host": "169.254.169.254"}}}),  # not the instance
        ("health-policy", {"healthCheck": {"http": {"host": "db.internal"}}}),
    ],
)
def test_bad_profiles_are_refused_and_nothing_changes(
    api: Any, new_resource: str, path: str, body: dict
) -> None:
    before = api.get(f"/api/resources/{new_resource}").json()
    refused = api.post(f"/api/resources/{new_resource}/{path}", json=body)
    assert refused.status_code == 422 and error_code(refused) == "validation_failed"
    after = api.get(f"/api/resources/{new_resource}").json()
    assert {k: v for k, v in after.items() if k != "generatedAt"} == {
        k: v for k, v in before.items() if k != "generatedAt"
    }


def test_a_health_check_host_other_than_the_instance_is_refused_naming_the_field(
    api: Any, new_resource: str
) -> None:
    refused = api.post(
        f"/api/resources/{new_resource}/health-policy", json={"healthCheck": {"http": {"host": "10.0.0.5"}}}
    )
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["error"]["details"]["errors"]] == ["healthCheck.http.host"]
    for host in ("127.0.0.1", "localhost"):
        body = {"healthCheck": {"http": {"host": host}}}
        assert api.post(f"/api/resources/{new_resource}/health-policy", json=body).status_code == 200


def test_locked_environment_refuses_profile_changes(
    api: Any, new_environment: str, new_resource: str
) -> None:
    api.post(f"/api/environments/{new_environment}/lock", json={})
    refused = api.post(
        f"/api/resources/{new_resource}/network-profile", json={"networkProfile": {"internalPort": 1}}
    )
    assert refused.status_code == 409 and error_code(refused) == "environment_locked"
    assert api.get(f"/api/resources/{new_resource}").json()["networkProfile"]["internalPort"] is None


def test_archived_resource_is_readable_but_frozen(api: Any, new_resource: str) -> None:
    api.post(f"/api/resources/{new_resource}/archive", json={})
    shown = api.get(f"/api/resources/{new_resource}").json()
    assert shown["lifecycle"]["status"] == "archived" and shown["lifecycle"]["archivedAt"]
    refused = api.post(f"/api/resources/{new_resource}/runtime-profile", json={"runtimeProfile": {}})
    assert refused.status_code == 409 and error_code(refused) == "resource_archived"


def test_delete_needs_the_slug_and_then_hides_the_resource(api: Any, new_resource: str) -> None:
    wrong = api.request(
        "DELETE", f"/api/resources/{new_resource}", json={"confirmation": {"resourceSlug": "x"}}
    )
    assert wrong.status_code == 409 and error_code(wrong) == "confirmation_mismatch"
    assert api.get(f"/api/resources/{new_resource}").status_code == 200
    ok = api.request(
        "DELETE", f"/api/resources/{new_resource}", json={"confirmation": {"resourceSlug": "web"}}
    )
    assert ok.status_code == 200
    assert api.get(f"/api/resources/{new_resource}").status_code == 404
    assert api.get("/api/resources/count").json() == {"count": 0}


def test_include_flags_and_diagnostics(api: Any, new_resource: str) -> None:
    lean = api.get(f"/api/resources/{new_resource}", params={"includeAccessSummary": "false"}).json()
    assert lean["accessSummary"] is None and lean["diagnostics"] is None
    api.post(
        f"/api/resources/{new_resource}/runtime-profile", json={"runtimeProfile": {"strategy": "dockerfile"}}
    )
    full = api.get(f"/api/resources/{new_resource}", params={"includeProfileDiagnostics": "true"}).json()
    assert {d["code"] for d in full["diagnostics"]} == {"source-missing", "missing-internal-port"}
    assert all(d["suggestedCommand"].startswith("resources.configure-") for d in full["diagnostics"])


def test_project_delete_is_blocked_by_live_resources(api: Any, new_project: str, new_resource: str) -> None:
    api.post(f"/api/projects/{new_project}/archive", json={})
    check = api.get(f"/api/projects/{new_project}/delete-check").json()
    assert check["eligible"] is False and [b["kind"] for b in check["blockers"]] == ["resources"]
    refused = api.request(
        "DELETE", f"/api/projects/{new_project}", json={"confirmation": {"projectId": new_project}}
    )
    assert refused.status_code == 409 and error_code(refused) == "delete_blocked"
    api.request("DELETE", f"/api/resources/{new_resource}", json={"confirmation": {"resourceSlug": "web"}})
    assert api.get(f"/api/projects/{new_project}/delete-check").json()["eligible"] is True
    done = api.request(
        "DELETE", f"/api/projects/{new_project}", json={"confirmation": {"projectId": new_project}}
    )
    assert done.status_code == 200
    assert api.get(f"/api/projects/{new_project}").status_code == 404
    assert api.get("/api/environments/count", params={"projectId": new_project}).json() == {"count": 0}


def test_proxy_configuration_warns_with_objects_without_an_edge(api: Any, new_resource: str) -> None:
    proxy = api.get(f"/api/resources/{new_resource}/proxy-configuration").json()
    assert proxy["warnings"] == [
        {
            "code": "edge-not-configured",
            "message": "The server has no edge proxy; the app answers on its direct port.",
            "details": {},
        }
    ]
