"""`resources.proxy-configuration`: which routes each routeScope shows, where and when each was applied
(appliedRouteContext), and how the edge serves them (diagnostics.tlsRoutes).

The store is written directly (a deployment that succeeded yesterday, an edge reported ready): what
is tested is how the operation reads what the pipeline and the edge sync record, not those."""

from typing import Any

import pytest
from api_helpers import error_code

from certs import self_signed
from dockyard.domain.ids import new_id
from dockyard.store.tables import AccessRoute, Deployment, Server

SWITCHED = "2026-01-01T00:00:30.000Z"  # when the generated route was made, by the deployment's switch
FINISHED = "2026-01-01T00:01:00.000Z"
EDGE_APPLIED = "2026-01-02T00:00:00.000Z"
DESTINATION = "dst_00000000000000000000000001"


def deployed(stack: Any, ids: dict[str, str], hostname: str = "web.localhost") -> dict[str, str]:
    """A succeeded deployment of the resource, routed at `hostname` behind a ready nginx edge:
    {deploymentId, routeId}."""
    deployment, route = new_id("deployment"), new_id("access_route")
    with stack.db.session() as s:
        s.add(
            Deployment(
                id=deployment,
                project_id=ids["projectId"],
                environment_id=ids["environmentId"],
                resource_id=ids["resourceId"],
                server_id=ids["serverId"],
                destination_id=DESTINATION,
                status="succeeded",
                trigger_kind="manual",
                runtime_state={"routedUrl": f"http://{hostname}:8080/", "proxyKind": "nginx"},
                created_at="2026-01-01T00:00:00.000Z",
                finished_at=FINISHED,
            )
        )
        s.add(
            AccessRoute(
                id=route,
                resource_id=ids["resourceId"],
                server_id=ids["serverId"],
                hostname=hostname,
                path_prefix="/",
                source="generated-default",
                created_at=SWITCHED,
            )
        )
        server = s.get(Server, ids["serverId"])
        assert server is not None
        server.edge_proxy = {
            "kind": "nginx",
            "status": "ready",
            "httpPort": 8080,
            "httpsPort": 8443,
            "lastSucceededAt": EDGE_APPLIED,
        }
    return {"deploymentId": deployment, "routeId": route}


def proxy(api: Any, resource: str, **params: Any) -> dict[str, Any]:
    resp = api.get(f"/api/resources/{resource}/proxy-configuration", params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()  # type: ignore[no-any-return]


def route_of(answer: dict[str, Any], hostname: str) -> dict[str, Any]:
    return next(r for r in answer["routes"] if r["hostname"] == hostname)


def bound_route_created_at(stack: Any, hostname: str) -> str:
    with stack.db.session() as s:
        route = s.query(AccessRoute).filter_by(hostname=hostname).one()
        return route.created_at


def test_latest_without_diagnostics_by_default(
    api: Any, stack: Any, verified_binding: dict[str, str]
) -> None:
    deployed(stack, verified_binding)
    answer = proxy(api, verified_binding["resourceId"])
    assert answer["routeScope"] == "latest" and answer["diagnostics"] is None
    assert proxy(api, verified_binding["resourceId"], includeDiagnostics="true")["diagnostics"] is not None


def test_a_generated_route_says_which_deployment_applied_it_and_when(
    api: Any, stack: Any, verified_binding: dict[str, str]
) -> None:
    made = deployed(stack, verified_binding)
    answer = proxy(api, verified_binding["resourceId"], includeDiagnostics="true")
    assert answer["status"] == "applied" and answer["deploymentId"] == made["deploymentId"]
    assert answer["lastAppliedDeploymentId"] == made["deploymentId"] and answer["stale"] is False
    route = route_of(answer, "web.localhost")
    context = route["appliedRouteContext"]
    assert context == {
        "schemaVersion": "applied-route-context/v1",
        "resourceId": verified_binding["resourceId"],
        "deploymentId": made["deploymentId"],
        "domainBindingId": None,
        "serverId": verified_binding["serverId"],
        "destinationId": DESTINATION,
        "routeId": made["routeId"],
        "diagnosticId": context["diagnosticId"],
        "routeSource": "generated-default",
        "hostname": "web.localhost",
        "pathPrefix": "/",
        "proxyKind": "nginx",
        "providerKey": "nginx",
        "appliedAt": FINISHED,
        "observedAt": EDGE_APPLIED,
    }
    assert context["diagnosticId"].startswith("rdiag_")
    again = proxy(api, verified_binding["resourceId"])
    assert route_of(again, "web.localhost")["appliedRouteContext"]["diagnosticId"] == context["diagnosticId"]
    assert answer["diagnostics"]["appliedRouteContexts"] == [
        r["appliedRouteContext"] for r in answer["routes"]
    ]
    assert answer["diagnostics"]["routeCount"] == 2 and answer["diagnostics"]["providerKey"] == "nginx"


def test_a_bound_route_names_its_domain_binding_and_is_applied_when_it_was_routed(
    api: Any, stack: Any, verified_binding: dict[str, str]
) -> None:
    made = deployed(stack, verified_binding)
    routed_at = bound_route_created_at(stack, "shop.example.com")  # after the deployment finished
    route = route_of(proxy(api, verified_binding["resourceId"]), "shop.example.com")
    assert route["source"] == "domain-binding" and route["url"] == "http://shop.example.com:8080/"
    context = route["appliedRouteContext"]
    assert context["routeSource"] == "domain-binding"
    assert context["domainBindingId"] == verified_binding["id"]
    assert context["deploymentId"] == made["deploymentId"] and context["routeId"] is not None
    assert context["appliedAt"] == routed_at > FINISHED


def test_a_deployment_snapshot_shows_the_routes_it_was_applied_with(
    api: Any, stack: Any, verified_binding: dict[str, str]
) -> None:
    made = deployed(stack, verified_binding)
    resource = verified_binding["resourceId"]
    snapshot = proxy(api, resource, routeScope="deployment-snapshot", deploymentId=made["deploymentId"])
    # the domain was routed after that deployment finished: not part of its snapshot
    assert [r["hostname"] for r in snapshot["routes"]] == ["web.localhost"]
    assert snapshot["routeScope"] == "deployment-snapshot" and snapshot["status"] == "applied"
    assert snapshot["routes"][0]["appliedRouteContext"]["appliedAt"] == FINISHED
    assert snapshot["stale"] is True  # the edge serves one more route for the resource now
    latest = proxy(api, resource, routeScope="latest")
    assert [r["hostname"] for r in latest["routes"]] == ["shop.example.com", "web.localhost"]


def test_planned_shows_the_generated_route_a_resource_would_get(
    api: Any, stack: Any, verified_binding: dict[str, str]
) -> None:
    resource = verified_binding["resourceId"]
    with stack.db.session() as s:  # an edge, but the resource was never deployed
        server = s.get(Server, verified_binding["serverId"])
        assert server is not None
        server.edge_proxy = {"kind": "nginx", "status": "ready", "httpPort": 8080}
    planned = proxy(api, resource, routeScope="planned")
    assert planned["status"] == "planned" and planned["deploymentId"] is None
    hostnames = [r["hostname"] for r in planned["routes"]]
    assert hostnames == ["shop.example.com", "web.localhost"]
    generated = next(r for r in planned["routes"] if r["source"] == "generated-default")
    assert generated["appliedRouteContext"]["routeId"] is None  # not made until the first deployment
    assert generated["appliedRouteContext"]["appliedAt"] is None
    assert planned["stale"] is True
    latest = proxy(api, resource)
    assert latest["routes"] == [] and latest["status"] == "not-configured"


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"routeScope": "deployment-snapshot"}, 422, "deployment_id_required"),
        (
            {"routeScope": "deployment-snapshot", "deploymentId": "dep_00000000000000000000000000"},
            404,
            "deployment_not_found",
        ),
        ({"routeScope": "latest", "deploymentId": "dep_00000000000000000000000000"}, 422, None),
        ({"routeScope": "effective"}, 422, None),
    ],
)
def test_a_snapshot_needs_a_deployment_of_the_resource(
    api: Any, new_resource: str, params: dict[str, str], status: int, code: str | None
) -> None:
    resp = api.get(f"/api/resources/{new_resource}/proxy-configuration", params=params)
    assert resp.status_code == status, resp.text
    if code is not None:
        assert error_code(resp) == code
        assert resp.json()["error"]["nextAction"]


def test_a_domain_with_an_imported_certificate_is_served_over_https(
    api: Any, stack: Any, verified_binding: dict[str, str]
) -> None:
    pem = self_signed("shop.example.com")
    body = {"domainBindingId": verified_binding["id"], "certificateChain": pem.chain, "privateKey": pem.key}
    imported = api.post("/api/certificates/import", json=body)
    assert imported.status_code == 201, imported.text
    deployed(stack, verified_binding)
    answer = proxy(api, verified_binding["resourceId"], includeDiagnostics="true")
    route = route_of(answer, "shop.example.com")
    assert (route["scheme"], route["tlsMode"], route["url"]) == (
        "https",
        "auto",
        "https://shop.example.com:8443/",
    )
    tls = {t["hostname"]: t for t in answer["diagnostics"]["tlsRoutes"]}
    assert tls["shop.example.com"]["scheme"] == "https"
    assert tls["shop.example.com"]["certificateSource"] == "imported"
    assert tls["shop.example.com"]["appaloftCertificateManaged"] is False
    assert tls["shop.example.com"]["details"]["certificateId"] == imported.json()["certificateId"]
    assert (tls["web.localhost"]["scheme"], tls["web.localhost"]["certificateSource"]) == ("http", "none")
    assert tls["web.localhost"]["tlsMode"] == "disabled"
