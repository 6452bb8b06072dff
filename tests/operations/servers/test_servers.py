from typing import Any

import pytest
from api_helpers import created, error_code

SERVER_FIELDS = {
    "id",
    "name",
    "host",
    "port",
    "providerKey",
    "targetKind",
    "lifecycleStatus",
    "deactivatedAt",
    "deactivationReason",
    "edgeProxy",
    "credential",
    "createdAt",
}


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKYARD_PROBE_ALLOW", "127.0.0.0/8,::1/128")


def local_server(api: Any) -> dict:
    return next(s for s in api.get("/api/servers").json()["items"] if s["name"] == "local")


def test_local_server_is_registered_on_first_start(api: Any) -> None:
    local = local_server(api)
    assert set(local) == SERVER_FIELDS
    assert local["providerKey"] == "local" and local["lifecycleStatus"] == "active"
    assert local["edgeProxy"]["kind"] == "none"
    assert api.get("/api/servers/count").json() == {"count": 1}


def test_show_has_rollups_unless_excluded(api: Any) -> None:
    sid = local_server(api)["id"]
    shown = api.get(f"/api/servers/{sid}").json()
    assert shown["schemaVersion"] == "servers.show/v1" and shown["server"]["id"] == sid
    assert set(shown["rollups"]) == {"resources", "deployments", "domains"}
    assert shown["rollups"]["deployments"]["total"] == 0
    assert api.get(f"/api/servers/{sid}", params={"includeRollups": "false"}).json()["rollups"] is None


def test_register_rename_and_name_conflicts(api: Any) -> None:
    sid = created(
        api.post("/api/servers", json={"name": "edge-1", "host": "127.0.0.2", "providerKey": "hetzner"})
    )
    shown = api.get(f"/api/servers/{sid}").json()["server"]
    assert (shown["host"], shown["port"], shown["providerKey"]) == ("127.0.0.2", 22, "hetzner")
    taken = api.post("/api/servers", json={"name": "local", "host": "127.0.0.3"})
    assert taken.status_code == 409 and error_code(taken) == "server_name_conflict"
    assert api.post(f"/api/servers/{sid}/rename", json={"name": "edge-a"}).status_code == 200
    assert api.get(f"/api/servers/{sid}").json()["server"]["name"] == "edge-a"


@pytest.mark.parametrize("host", ["", "has space", "-leading.dash", "a" * 300, "exa_mple.com"])
def test_bad_hosts_are_refused(api: Any, host: str) -> None:
    refused = api.post("/api/servers", json={"name": "x", "host": host})
    assert refused.status_code == 422
    assert api.get("/api/servers/count").json() == {"count": 1}


def test_delete_needs_deactivation_and_confirmation(api: Any) -> None:
    sid = created(api.post("/api/servers", json={"name": "old", "host": "127.0.0.4"}))
    check = api.get(f"/api/servers/{sid}/delete-check").json()
    assert check["eligible"] is False and [b["kind"] for b in check["blockers"]] == ["active-server"]
    blocked = api.request("DELETE", f"/api/servers/{sid}", json={"confirmation": {"serverId": sid}})
    assert blocked.status_code == 409 and error_code(blocked) == "delete_blocked"
    api.post(f"/api/servers/{sid}/deactivate", json={"reason": "retired"})
    shown = api.get(f"/api/servers/{sid}").json()["server"]
    assert shown["lifecycleStatus"] == "inactive" and shown["deactivationReason"] == "retired"
    assert api.get(f"/api/servers/{sid}/delete-check").json()["eligible"] is True
    wrong = api.request("DELETE", f"/api/servers/{sid}", json={"confirmation": {"serverId": "tgt_other"}})
    assert wrong.status_code == 409 and error_code(wrong) == "confirmation_mismatch"
    assert (
        api.request("DELETE", f"/api/servers/{sid}", json={"confirmation": {"serverId": sid}}).status_code
        == 200
    )
    assert api.get(f"/api/servers/{sid}").status_code == 404


def test_control_plane_server_cannot_be_deleted(api: Any) -> None:
    sid = local_server(api)["id"]
    api.post(f"/api/servers/{sid}/deactivate", json={})
    check = api.get(f"/api/servers/{sid}/delete-check").json()
    assert [b["kind"] for b in check["blockers"]] == ["control-plane-server"]


def test_local_connectivity_is_healthy(api: Any) -> None:
    report = api.post(f"/api/servers/{local_server(api)['id']}/connectivity-tests").json()
    assert report["status"] == "healthy"  # as root with nftables: stable ports by kernel redirect
    assert [c["name"] for c in report["checks"]] == ["local-host", "disk-space", "stable-port"]


def test_unreachable_server_reports_the_failing_check(api: Any) -> None:
    sid = created(api.post("/api/servers", json={"name": "down", "host": "127.0.0.1", "port": 1}))
    report = api.post(f"/api/servers/{sid}/connectivity-tests").json()
    assert report["status"] == "unreachable" and report["serverId"] == sid
    assert report["checks"][-1]["status"] == "failed"


def test_draft_connectivity_respects_the_egress_allowlist(api: Any) -> None:
    report = api.post("/api/servers/connectivity-tests", json={"server": {"host": "192.0.2.10"}}).json()
    assert report["status"] == "unreachable" and report["serverId"] is None
    assert report["checks"] == [
        {
            "name": "egress-policy",
            "status": "failed",
            "durationMs": 0,
            "metadata": {},
            "message": (
                "Outbound connections to 192.0.2.10 (port 22) are refused: it is outside "
                "DOCKYARD_PROBE_ALLOW (127.0.0.0/8, ::1/128). If this destination is meant to be "
                "reached, add it to DOCKYARD_PROBE_ALLOW (e.g. 192.0.2.10/32)."
            ),
        }
    ]


def test_connectivity_tests_never_reach_the_control_planes_own_api(api: Any) -> None:
    """Loopback is allowed here, but 127.0.0.1:8420 (the default public URL) is the API itself."""
    body = {"server": {"host": "127.0.0.1", "port": 8420}}
    report = api.post("/api/servers/connectivity-tests", json=body).json()
    assert [(c["name"], c["status"]) for c in report["checks"]] == [("egress-policy", "failed")]
    assert "control plane's own API" in report["checks"][0]["message"]


def test_without_an_allow_list_loopback_and_link_local_are_refused(
    api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DOCKYARD_PROBE_ALLOW")
    for host in ("127.0.0.1", "169.254.169.254", "fd00:ec2::254"):
        report = api.post("/api/servers/connectivity-tests", json={"server": {"host": host}}).json()
        assert [(c["name"], c["status"]) for c in report["checks"]] == [("egress-policy", "failed")], host
        assert (
            host in report["checks"][0]["message"]
            and "DOCKYARD_EGRESS_ALLOW" in report["checks"][0]["message"]
        )
