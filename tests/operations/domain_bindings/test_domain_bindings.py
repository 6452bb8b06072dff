"""Domain bindings over the API, with public DNS replaced by a fake behind the resolver interface."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_helpers import created, error_code
from live_edge import serve_behind_edge
from sqlalchemy import select

from dockyard.domain import dns
from dockyard.edge.sync import assign_route
from dockyard.services import Services
from dockyard.store.tables import AccessRoute, Resource, Server

BINDING_KEYS = {
    "id",
    "projectId",
    "environmentId",
    "resourceId",
    "serverId",
    "destinationId",
    "domainName",
    "pathPrefix",
    "proxyKind",
    "tlsMode",
    "redirectTo",
    "redirectStatus",
    "certificatePolicy",
    "status",
    "dnsObservation",
    "verificationAttemptCount",
    "createdAt",
}


class FakeDns:
    """Public DNS as a table: name -> targets (A/AAAA/CNAME); unknown names do not resolve."""

    def __init__(self) -> None:
        self.records: dict[str, list[str]] = {}
        self.asked: list[str] = []

    def resolve(self, name: str) -> list[str]:
        self.asked.append(name)
        return list(self.records.get(name, []))


@pytest.fixture
def fake_dns() -> Iterator[FakeDns]:
    with dns.use_resolver(FakeDns()) as fake:
        yield fake  # type: ignore[misc]


def local_server(api: Any) -> str:
    return next(s["id"] for s in api.get("/api/servers").json()["items"] if s["providerKey"] == "local")


@pytest.fixture
def ids(api: Any, new_project: str, new_environment: str, new_resource: str) -> dict[str, str]:
    return {
        "projectId": new_project,
        "environmentId": new_environment,
        "resourceId": new_resource,
        "serverId": local_server(api),
    }


def second_resource(api: Any, project: str, environment: str) -> str:
    body = {"projectId": project, "environmentId": environment, "name": "Api"}
    return created(api.post("/api/resources", json=body))


def bind(api: Any, ids: dict[str, str], domain: str, **extra: Any) -> Any:
    return api.post("/api/domain-bindings", json={**ids, "domainName": domain, **extra})


def binding(api: Any, binding_id: str) -> dict[str, Any]:
    resp = api.get(f"/api/domain-bindings/{binding_id}")
    assert resp.status_code == 200, resp.text
    return resp.json()


def confirm(api: Any, binding_id: str, **body: Any) -> dict[str, Any]:
    resp = api.post(f"/api/domain-bindings/{binding_id}/ownership-confirmations", json=body)
    assert resp.status_code == 200, resp.text
    assert resp.json()["id"] == binding_id and resp.json()["verificationAttemptId"].startswith("dva_")
    return resp.json()


def routes(stack: Any) -> dict[str, str]:
    with stack.db.session() as s:
        return {r.hostname: r.source for r in s.scalars(select(AccessRoute))}


def test_a_new_binding_waits_for_verification_and_is_listed(api: Any, ids: dict[str, str]) -> None:
    binding_id = created(bind(api, ids, "www.example.com"))
    assert binding_id.startswith("dbn_")
    page = api.get("/api/domain-bindings", params={"resourceId": ids["resourceId"]}).json()
    assert set(page) == {"items", "nextCursor"} and [b["id"] for b in page["items"]] == [binding_id]
    item = page["items"][0]
    assert set(item) >= BINDING_KEYS
    assert item["status"] == "pending-verification"
    assert (item["pathPrefix"], item["tlsMode"], item["certificatePolicy"], item["redirectStatus"]) == (
        "/",
        "auto",
        "auto",
        301,
    )
    assert item["dnsObservation"]["status"] == "pending"
    assert item["dnsObservation"]["expectedTargets"] == ["127.0.0.1"]
    assert item["verificationAttemptCount"] == 0
    shown = binding(api, binding_id)
    assert set(shown) == {
        "binding",
        "routeReadiness",
        "generatedAccessFallback",
        "proxyReadiness",
        "certificates",
        "deleteSafety",
    }
    assert (shown["proxyReadiness"], shown["certificates"]) == ("not-configured", [])  # no edge, no TLS yet
    assert shown["generatedAccessFallback"] is None  # nothing deployed yet
    assert (shown["deleteSafety"]["safeToDelete"], shown["deleteSafety"]["warnings"]) == (True, [])
    assert shown["routeReadiness"]["status"] == "not-ready"
    assert shown["routeReadiness"]["routeBehavior"] == "serve"
    selected = shown["routeReadiness"]["selectedRoute"]  # the first thing in a request's way, and what to do
    assert (selected["schemaVersion"], selected["source"]) == (
        "route-intent-status/v1",
        "durable-domain-binding",
    )
    assert (selected["blockingReason"], selected["recommendedAction"]) == (
        "domain_not_verified",
        "verify-domain",
    )
    assert selected["domainVerification"] == "pending" and selected["intent"]["host"] == "www.example.com"
    assert selected["copySafeSummary"]["status"] == "blocked" and selected["context"]["deploymentId"] is None
    assert shown["routeReadiness"]["contextRoutes"] == []  # nothing deployed: no generated route yet
    other = api.get("/api/domain-bindings", params={"projectId": ids["projectId"], "limit": 1}).json()
    assert len(other["items"]) == 1
    assert api.get("/api/domain-bindings", params={"environmentId": "env_" + "0" * 26}).json()["items"] == []


def test_matching_dns_verifies_and_routes_the_domain(
    api: Any, stack: Any, ids: dict[str, str], fake_dns: FakeDns
) -> None:
    binding_id = created(bind(api, ids, "www.example.com"))
    fake_dns.records["www.example.com"] = ["127.0.0.1"]
    confirm(api, binding_id)
    shown = binding(api, binding_id)
    b = shown["binding"]
    assert b["status"] == "verified" and b["verificationAttemptCount"] == 1
    assert b["dnsObservation"]["status"] == "matched"
    assert b["dnsObservation"]["observedTargets"] == ["127.0.0.1"] and b["dnsObservation"]["checkedAt"]
    assert shown["routeReadiness"]["routeApplied"] is True
    assert routes(stack)["www.example.com"] == "domain-binding"
    selected = shown["routeReadiness"]["selectedRoute"]
    assert (
        selected["domainVerification"] == "verified" and selected["blockingReason"] != "domain_not_verified"
    )
    again = api.post(f"/api/domain-bindings/{binding_id}/route", json={})
    assert again.status_code == 200 and again.json() == {"id": binding_id}


def test_wrong_or_missing_dns_keeps_the_binding_pending_until_a_retry_matches(
    api: Any, stack: Any, ids: dict[str, str], fake_dns: FakeDns
) -> None:
    binding_id = created(bind(api, ids, "shop.example.org"))
    confirm(api, binding_id)
    b = binding(api, binding_id)["binding"]
    assert (b["status"], b["dnsObservation"]["status"]) == ("pending-verification", "unresolved")
    assert "does not resolve" in b["dnsObservation"]["message"]

    fake_dns.records["shop.example.org"] = ["203.0.113.7", "127.0.0.1"]
    confirm(api, binding_id, method="dns")
    b = binding(api, binding_id)["binding"]
    assert (b["status"], b["dnsObservation"]["status"]) == ("pending-verification", "mismatched")
    assert "203.0.113.7" in b["dnsObservation"]["message"]
    assert b["verificationAttemptCount"] == 2
    assert "shop.example.org" not in routes(stack)
    refused = api.post(f"/api/domain-bindings/{binding_id}/route", json={})
    assert refused.status_code == 409 and error_code(refused) == "domain_not_verified"

    fake_dns.records["shop.example.org"] = ["127.0.0.1"]
    retry = api.post(f"/api/domain-bindings/{binding_id}/verification-retries", json={})
    assert retry.status_code == 200, retry.text
    b = binding(api, binding_id)["binding"]
    assert (b["status"], b["verificationAttemptCount"]) == ("verified", 3)
    assert routes(stack)["shop.example.org"] == "domain-binding"


def test_localhost_names_match_loopback_and_manual_confirmation_skips_dns(
    api: Any, ids: dict[str, str], fake_dns: FakeDns
) -> None:
    local = created(bind(api, ids, "shop.localhost"))
    fake_dns.records["shop.localhost"] = ["127.0.0.1", "::1"]
    confirm(api, local)
    assert binding(api, local)["binding"]["status"] == "verified"

    manual = created(bind(api, ids, "intranet.example.net"))
    confirm(api, manual, method="manual")
    b = binding(api, manual)["binding"]
    assert b["status"] == "verified" and b["dnsObservation"]["status"] == "pending"
    assert "intranet.example.net" not in fake_dns.asked


def test_invalid_hostnames_are_refused_naming_the_field(api: Any, ids: dict[str, str]) -> None:
    for bad in ("WWW.Example.com", "nodot", "-bad.example.com", "a..b.com", "sp ace.example.com", "x" * 300):
        resp = bind(api, ids, bad)
        assert resp.status_code == 422 and error_code(resp) == "validation_failed", bad
        assert [e["field"] for e in resp.json()["error"]["details"]["errors"]] == ["domainName"], bad
    bad_path = bind(api, ids, "ok.example.com", pathPrefix="app")
    assert bad_path.status_code == 422
    assert api.get("/api/domain-bindings").json()["items"] == []


@pytest.mark.parametrize("prefix", ["/a;b", "/a{b}", "/a'b", "/a\\b"])
def test_a_path_prefix_the_edge_cannot_render_is_refused_at_the_door(
    api: Any, ids: dict[str, str], prefix: str
) -> None:
    """Accepted before, it was refused only when the edge config was rendered, and then no app got a route."""
    resp = bind(api, ids, "ok.example.com", pathPrefix=prefix)
    assert resp.status_code == 422 and error_code(resp) == "validation_failed", resp.text
    assert [e["field"] for e in resp.json()["error"]["details"]["errors"]] == ["pathPrefix"]
    assert api.get("/api/domain-bindings").json()["items"] == []


def test_a_domain_is_bound_once_across_resources(
    api: Any, ids: dict[str, str], new_project: str, new_environment: str
) -> None:
    created(bind(api, ids, "www.example.com"))
    other = second_resource(api, new_project, new_environment)
    taken = bind(api, {**ids, "resourceId": other}, "www.example.com")
    assert taken.status_code == 409 and error_code(taken) == "domain_already_bound"
    assert taken.json()["error"]["details"]["resourceId"] == ids["resourceId"]
    twice = bind(api, ids, "www.example.com")
    assert twice.status_code == 409 and error_code(twice) == "domain_already_bound"


def test_a_generated_hostname_cannot_be_bound(api: Any, stack: Any, ids: dict[str, str]) -> None:
    with stack.db.session() as s:
        server = s.get(Server, ids["serverId"])
        resource = s.get(Resource, ids["resourceId"])
        assert server and resource
        generated = assign_route(s, resource, server, "2026-11-23T00:00:00.000Z")
        assert generated is not None
        hostname = generated.hostname
    resp = bind(api, ids, hostname)
    assert resp.status_code == 409 and error_code(resp) == "domain_is_generated_route"


def test_ids_that_do_not_belong_together_are_refused(api: Any, ids: dict[str, str], new_project: str) -> None:
    staging = created(
        api.post("/api/environments", json={"projectId": new_project, "name": "staging", "kind": "staging"})
    )
    resp = bind(api, {**ids, "environmentId": staging}, "www.example.com")
    assert resp.status_code == 422 and error_code(resp) == "resource_context_mismatch"
    other_project = created(api.post("/api/projects", json={"name": "blog"}))
    resp = bind(api, {**ids, "projectId": other_project}, "www.example.com")
    assert resp.status_code == 422 and error_code(resp) == "resource_context_mismatch"
    wrong_kind = bind(api, {**ids, "resourceId": ids["projectId"]}, "www.example.com")
    assert wrong_kind.status_code == 422


def test_redirects_go_only_to_a_verified_domain_of_the_same_resource(
    api: Any,
    svc: Services,
    ids: dict[str, str],
    new_project: str,
    new_environment: str,
    fake_dns: FakeDns,
    tmp_path: Path,
) -> None:
    apex = created(bind(api, ids, "example.com"))
    unverified = bind(api, ids, "www.example.com", redirectTo="example.com")
    assert unverified.status_code == 422 and error_code(unverified) == "redirect_target_invalid"
    assert unverified.json()["error"]["details"]["field"] == "redirectTo"
    unknown = bind(api, ids, "www.example.com", redirectTo="nowhere.example.com")
    assert unknown.status_code == 422 and error_code(unknown) == "redirect_target_invalid"
    fake_dns.records["example.com"] = ["127.0.0.1"]
    confirm(api, apex)

    other = second_resource(api, new_project, new_environment)
    foreign = bind(api, {**ids, "resourceId": other}, "api.example.com", redirectTo="example.com")
    assert foreign.status_code == 422 and error_code(foreign) == "redirect_target_invalid"

    www = created(bind(api, ids, "www.example.com", redirectTo="example.com"))
    fake_dns.records["www.example.com"] = ["127.0.0.1"]
    confirm(api, www)
    readiness = binding(api, www)["routeReadiness"]
    assert (readiness["routeBehavior"], readiness["redirectTo"], readiness["redirectStatus"]) == (
        "redirect",
        "example.com",
        301,
    )
    edge = serve_behind_edge(api, svc, tmp_path / "site", ids, "the shop")  # the edge serves both now
    redirected = edge.get("www.example.com", "/cart?item=1")
    assert redirected.status_code == 301
    assert redirected.headers["location"] == "http://example.com/cart?item=1"
    assert edge.get("example.com").text == "the shop"
    served = binding(api, apex)["routeReadiness"]  # the edge serves it, the app runs: nothing in the way
    selected = served["selectedRoute"]
    assert (selected["blockingReason"], selected["tls"]) == (
        None,
        "pending",
    )  # http serves, no certificate yet
    assert selected["recommendedAction"] == "check-certificate"
    assert selected["proxy"] == {"intent": "required", "applied": "applied", "providerKey": "nginx"}
    assert selected["intent"]["routeBehavior"] == "serve" and selected["context"]["deploymentId"]
    context = {r["intent"]["host"]: r for r in served["contextRoutes"]}
    assert context["www.example.com"]["intent"]["routeBehavior"] == "redirect"
    assert context["www.example.com"]["intent"]["redirectTo"] == "example.com"
    assert any(r["source"] == "generated-default-access" for r in served["contextRoutes"])

    check = api.get(f"/api/domain-bindings/{apex}/delete-check").json()
    assert check["safeToDelete"] is False
    assert check["blockers"] == [
        {
            "kind": "redirect-sources",
            "severity": "blocking",
            "message": "1 other binding(s) redirect to example.com; delete or re-point them.",
            "relatedEntityType": "domain-binding",
            "relatedEntityId": apex,
            "count": 1,
        }
    ]
    confirmation = {"confirmation": {"domainBindingId": apex}}
    blocked = api.request("DELETE", f"/api/domain-bindings/{apex}", json=confirmation)
    assert blocked.status_code == 409 and error_code(blocked) == "delete_blocked"


def test_deleting_a_binding_needs_confirmation_and_keeps_the_generated_route(
    api: Any, stack: Any, ids: dict[str, str], fake_dns: FakeDns
) -> None:
    with stack.db.session() as s:
        server, resource = s.get(Server, ids["serverId"]), s.get(Resource, ids["resourceId"])
        assert server and resource
        generated = assign_route(s, resource, server, "2026-11-23T00:00:00.000Z")
        assert generated is not None
        generated_host = generated.hostname
    binding_id = created(bind(api, ids, "www.example.com"))
    fake_dns.records["www.example.com"] = ["127.0.0.1"]
    confirm(api, binding_id)
    assert routes(stack) == {generated_host: "generated-default", "www.example.com": "domain-binding"}

    check = api.get(f"/api/domain-bindings/{binding_id}/delete-check").json()
    assert binding(api, binding_id)["deleteSafety"] == check
    assert check == {
        "domainBindingId": binding_id,
        "safeToDelete": True,
        "blockers": [],
        "warnings": check["warnings"],
        "preservesGeneratedAccess": True,
        "preservesDeploymentSnapshots": True,
        "preservesServerAppliedRouteAudit": True,
    }
    assert [(w["kind"], w["severity"], w["relatedEntityType"], w["count"]) for w in check["warnings"]] == [
        ("edge-route", "warning", "edge-route", 1)
    ]
    assert check["warnings"][0]["message"] == (
        "The edge stops serving www.example.com; the generated hostname keeps working."
    )

    url = f"/api/domain-bindings/{binding_id}"
    wrong = api.request("DELETE", url, json={"confirmation": {"domainBindingId": "dbn_other"}})
    assert wrong.status_code == 422 and error_code(wrong) == "confirmation_mismatch"
    assert wrong.json()["error"]["details"]["field"] == "confirmation.domainBindingId"
    missing = api.request("DELETE", url, json={})
    assert missing.status_code == 422

    done = api.request("DELETE", url, json={"confirmation": {"domainBindingId": binding_id}})
    assert done.status_code == 200 and done.json() == {"id": binding_id}
    assert routes(stack) == {generated_host: "generated-default"}
    gone = api.get(url)
    assert gone.status_code == 404 and error_code(gone) == "domain_binding_not_found"
    rebound = created(bind(api, ids, "www.example.com"))
    assert rebound != binding_id
