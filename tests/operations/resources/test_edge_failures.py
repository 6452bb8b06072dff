"""The edge's own answers for an app that did not answer, kept as evidence under the request id the
answer carried — against a real nginx edge in front of a real deployment."""

from pathlib import Path
from typing import Any

from live_edge import serve_behind_edge

from dockyard.edge.failure_log import REQUEST_ID_HEADER
from dockyard.services import Services
from dockyard.work.monitor import Monitor


def target(api: Any, project: str, environment: str, resource: str) -> dict[str, str]:
    server = next(s["id"] for s in api.get("/api/servers").json()["items"] if s["providerKey"] == "local")
    return {"projectId": project, "environmentId": environment, "resourceId": resource, "serverId": server}


def test_the_request_id_an_edge_failure_page_shows_looks_up_its_evidence(
    api: Any, svc: Services, new_project: str, new_environment: str, new_resource: str, tmp_path: Path
) -> None:
    ids = target(api, new_project, new_environment, new_resource)
    edge = serve_behind_edge(api, svc, tmp_path / "site", ids, "the shop")
    host = api.get(f"/api/resources/{new_resource}/health").json()["publicAccess"]["routeIntentStatus"]
    host = host["intent"]["host"]
    assert edge.get(host).text == "the shop"
    assert api.post(f"/api/resources/{new_resource}/runtime/stop", json={}).status_code == 200

    down = edge.get(host, "/cart?token=never-kept")
    request_id = down.headers[REQUEST_ID_HEADER]
    assert down.status_code == 502 and request_id in down.text and "not answering" in down.text
    found = api.get(f"/api/resource-access-failures/{request_id}").json()
    assert found["status"] == "found", found
    evidence = found["evidence"]
    assert evidence["code"] == "resource_access_upstream_unavailable" and evidence["httpStatus"] == 502
    assert evidence["affected"] == {
        "url": f"http://{host}/cart",
        "hostname": host,
        "path": "/cart",
        "method": "GET",
    }
    route = evidence["route"]
    assert route["resourceId"] == new_resource and route["providerKey"] == "nginx"
    assert route["upstreamAddress"].startswith("127.0.0.1:") and route["routeSource"] == "generated-default"
    assert "never-kept" not in str(found)  # the query string is not evidence: it may hold a secret

    # the monitor keeps the next one without a lookup, and the resource's health shows it
    again = edge.get(host).headers[REQUEST_ID_HEADER]
    Monitor(svc).tick()
    latest = api.get(f"/api/resources/{new_resource}/health").json()["publicAccess"]["latestAccessFailure"]
    assert latest["requestId"] == again


def test_a_request_id_no_edge_gave_is_not_found_with_the_way_to_get_one(api: Any) -> None:
    missing = api.get("/api/resource-access-failures/req_" + "0" * 32).json()
    assert missing["status"] == "not-found" and missing["evidence"] is None
    assert "health" in missing["nextAction"]
