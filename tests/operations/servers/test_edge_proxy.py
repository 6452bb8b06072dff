"""Edge proxy configuration over the API (the proxies themselves are tested in tests/edge)."""

from typing import Any

from api_helpers import created, error_code


def local_server(api: Any) -> str:
    return next(s["id"] for s in api.get("/api/servers").json()["items"] if s["providerKey"] == "local")


def test_configuring_the_edge_records_kind_ports_and_pending_status(api: Any) -> None:
    server = local_server(api)
    resp = api.post(
        f"/api/servers/{server}/edge-proxy/configuration", json={"proxyKind": "nginx", "httpPort": 18080}
    )
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"id": server, "edgeProxy": {"kind": "nginx", "status": "pending"}}
    edge = api.get(f"/api/servers/{server}").json()["server"]["edgeProxy"]
    assert (edge["kind"], edge["status"], edge["httpPort"], edge["httpsPort"]) == (
        "nginx",
        "pending",
        18080,
        443,
    )


def test_bad_edge_settings_are_refused(api: Any) -> None:
    server = local_server(api)
    for body in (
        {"proxyKind": "traefik"},
        {"proxyKind": "nginx", "httpPort": 0},
        {"proxyKind": "nginx", "httpPort": 70000},
    ):
        resp = api.post(f"/api/servers/{server}/edge-proxy/configuration", json=body)
        assert resp.status_code == 422, body
    same = api.post(
        f"/api/servers/{server}/edge-proxy/configuration",
        json={"proxyKind": "caddy", "httpPort": 9000, "httpsPort": 9000},
    )
    assert same.status_code == 409 and error_code(same) == "edge_ports_conflict"


def test_bootstrap_needs_a_configured_edge_on_the_local_server(api: Any) -> None:
    server = local_server(api)
    resp = api.post(f"/api/servers/{server}/edge-proxy/bootstrap", json={})
    assert resp.status_code == 409 and error_code(resp) == "edge_not_configured"
    assert "configure-edge-proxy" in resp.json()["error"]["nextAction"]
    remote = created(api.post("/api/servers", json={"name": "far", "host": "10.0.0.9"}))
    api.post(f"/api/servers/{remote}/edge-proxy/configuration", json={"proxyKind": "nginx"})
    resp = api.post(f"/api/servers/{remote}/edge-proxy/bootstrap", json={})
    assert resp.status_code == 409 and error_code(resp) == "edge_remote_unsupported"
