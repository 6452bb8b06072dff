"""Imported certificates over the API: checked, kept as files (key 0600, never in the store or an
answer), served by the edge for verified bindings, replaced and deleted."""

import stat
from pathlib import Path
from typing import Any

import pytest
from api_helpers import created, error_code
from live_edge import serve_behind_edge

from certs import Pem, self_signed
from dockyard.services import Services
from edge_client import https_get
from polling import poll

CERTIFICATE_KEYS = {
    "id",
    "domainBindingId",
    "domainName",
    "status",
    "source",
    "providerKey",
    "challengeType",
    "issuedAt",
    "expiresAt",
    "fingerprint",
    "notBefore",
    "issuer",
    "keyAlgorithm",
    "subjectAlternativeNames",
    "latestAttempt",
    "attempts",
    "createdAt",
}


@pytest.fixture
def binding(verified_binding: dict[str, str]) -> dict[str, str]:
    return verified_binding


def import_cert(api: Any, binding_id: str, pem: Pem) -> Any:
    body = {"domainBindingId": binding_id, "certificateChain": pem.chain, "privateKey": pem.key}
    return api.post("/api/certificates/import", json=body)


def key_body(pem: Pem) -> str:
    """The base64 body of the key, without PEM armour: what must never leak."""
    return "".join(line for line in pem.key.splitlines() if not line.startswith("-----"))


def cert_dir(stack: Any, certificate_id: str) -> Path:
    return Path(stack.settings.data_dir) / "certificates" / certificate_id


def test_an_imported_certificate_is_active_with_safe_metadata_and_its_key_in_a_0600_file(
    api: Any, stack: Any, svc: Services, binding: dict[str, str], backend: str, tmp_path: Path
) -> None:
    edge = serve_behind_edge(api, svc, tmp_path / "site", binding, "shop")
    assert edge.get("shop.example.com").text == "shop" and edge.certificate("shop.example.com") is None
    pem = self_signed("shop.example.com", "www.shop.example.com", kind="rsa")
    resp = import_cert(api, binding["id"], pem)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert set(body) == {"certificateId", "attemptId"}
    cert_id, attempt_id = body["certificateId"], body["attemptId"]
    assert cert_id.startswith("crt_") and attempt_id.startswith("cra_")

    shown = api.get(f"/api/certificates/{cert_id}")
    assert shown.status_code == 200
    cert = shown.json()
    assert set(cert) == CERTIFICATE_KEYS
    assert (cert["status"], cert["source"], cert["providerKey"], cert["challengeType"]) == (
        "active",
        "imported",
        None,
        None,
    )
    assert cert["domainName"] == "shop.example.com" and cert["domainBindingId"] == binding["id"]
    assert cert["subjectAlternativeNames"] == ["shop.example.com", "www.shop.example.com"]
    assert cert["keyAlgorithm"] == "RSA-2048" and cert["issuer"] == "CN=shop.example.com"
    assert len(cert["fingerprint"].split(":")) == 32
    assert cert["notBefore"] < cert["issuedAt"] < cert["expiresAt"]
    latest = cert["latestAttempt"]
    assert (latest["id"], latest["status"], latest["reason"]) == (attempt_id, "succeeded", "import")
    assert latest["expiresAt"] == cert["expiresAt"] and [a["id"] for a in cert["attempts"]] == [attempt_id]
    listed = api.get("/api/certificates", params={"domainBindingId": binding["id"]}).json()
    assert set(listed) == {"items", "nextCursor"} and [c["id"] for c in listed["items"]] == [cert_id]
    detail = api.get(f"/api/domain-bindings/{binding['id']}")
    assert detail.json()["certificates"] == [cert]  # the binding's detail shows it, attempts and all
    assert detail.json()["proxyReadiness"] == "ready"  # the edge serving it
    fallback = detail.json()["generatedAccessFallback"]  # the address that serves whatever the domain does
    assert fallback["proxyKind"] == "nginx" and fallback["deploymentStatus"] == "succeeded"
    assert fallback["hostname"] != "shop.example.com" and fallback["url"].startswith("http://")

    folder = cert_dir(stack, cert_id)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "privkey.pem").stat().st_mode) == 0o600
    assert stat.S_IMODE((folder / "fullchain.pem").stat().st_mode) == 0o644
    assert (folder / "fullchain.pem").read_text() == pem.chain
    secret = key_body(pem)
    assert secret[:64] in (folder / "privkey.pem").read_text().replace("\n", "")
    for text in (resp.text, shown.text, api.get("/api/certificates").text, detail.text):
        assert secret[:40] not in text and "PRIVATE KEY" not in text
    if backend == "sqlite":
        db = (Path(stack.settings.data_dir) / "dockyard.db").read_bytes()
        assert secret[:40].encode() not in db and b"PRIVATE KEY" not in db

    # the edge serves the domain over TLS with exactly this certificate, and no other name with it
    poll(
        lambda: edge.certificate("shop.example.com") == cert["fingerprint"],
        "the edge to serve the certificate",
    )
    assert https_get(edge.https_port, "shop.example.com", pem.chain) == (200, "shop")
    assert edge.certificate("other.example.com") is None


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda: Pem("not a certificate", self_signed("shop.example.com").key), "certificate_invalid_pem"),
        (
            lambda: Pem(
                self_signed("shop.example.com").chain,
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            ),
            "private_key_invalid",
        ),
        (lambda: self_signed("shop.example.com", other_key=True), "certificate_key_mismatch"),
        (lambda: self_signed("other.example.com", "*.example.org"), "certificate_domain_mismatch"),
        (lambda: self_signed("*.shop.example.com"), "certificate_domain_mismatch"),
        (lambda: self_signed("shop.example.com", days=(-30, -1)), "certificate_expired"),
        (lambda: self_signed("shop.example.com", days=(1, 30)), "certificate_not_yet_valid"),
    ],
)
def test_bad_imports_are_refused_with_a_stable_code_and_never_echo_the_key(
    api: Any, stack: Any, binding: dict[str, str], make: Any, code: str
) -> None:
    pem = make()
    resp = import_cert(api, binding["id"], pem)
    assert resp.status_code == 422 and error_code(resp) == code, resp.text
    error = resp.json()["error"]
    assert error["message"] and error["nextAction"]
    assert key_body(pem)[:40] not in resp.text and "PRIVATE KEY" not in resp.text
    assert api.get("/api/certificates").json()["items"] == []
    assert not list((Path(stack.settings.data_dir) / "certificates").glob("*"))


def test_a_wildcard_covers_one_label_and_a_missing_field_echoes_nothing(
    api: Any, binding: dict[str, str]
) -> None:
    pem = self_signed("*.example.com", kind="ec")
    assert import_cert(api, binding["id"], pem).status_code == 201
    body = {"domainBindingId": binding["id"], "privateKey": pem.key}
    resp = api.post("/api/certificates/import", json=body)
    assert resp.status_code == 422 and error_code(resp) == "validation_failed"
    assert key_body(pem)[:40] not in resp.text
    unknown = import_cert(api, "dbn_" + "0" * 26, pem)
    assert unknown.status_code == 404 and error_code(unknown) == "domain_binding_not_found"


def test_a_new_import_supersedes_the_active_one_and_delete_removes_files_and_tls(
    api: Any, stack: Any, svc: Services, binding: dict[str, str], tmp_path: Path
) -> None:
    edge = serve_behind_edge(api, svc, tmp_path / "site", binding, "shop")
    first = import_cert(api, binding["id"], self_signed("shop.example.com")).json()["certificateId"]
    second = import_cert(api, binding["id"], self_signed("shop.example.com")).json()["certificateId"]
    assert api.get(f"/api/certificates/{first}").json()["status"] == "superseded"
    shown = api.get(f"/api/certificates/{second}").json()
    assert shown["status"] == "active"
    assert not cert_dir(stack, first).exists() and cert_dir(stack, second).exists()
    poll(lambda: edge.certificate("shop.example.com") == shown["fingerprint"], "the newer certificate served")

    wrong = api.request(
        "DELETE", f"/api/certificates/{second}", json={"confirmation": {"certificateId": first}}
    )
    assert wrong.status_code == 422 and error_code(wrong) == "confirmation_mismatch"
    resp = api.request(
        "DELETE", f"/api/certificates/{second}", json={"confirmation": {"certificateId": second}}
    )
    assert resp.status_code == 200 and resp.json() == {"certificateId": second}
    assert not cert_dir(stack, second).exists()
    assert api.get(f"/api/certificates/{second}").json()["status"] == "deleted"
    assert [c["id"] for c in api.get("/api/certificates").json()["items"]] == [first]
    again = api.request(
        "DELETE", f"/api/certificates/{second}", json={"confirmation": {"certificateId": second}}
    )
    assert again.status_code == 409 and error_code(again) == "certificate_deleted"
    missing = api.get("/api/certificates/crt_" + "0" * 26)
    assert missing.status_code == 404 and error_code(missing) == "certificate_not_found"
    poll(lambda: edge.certificate("shop.example.com") is None, "TLS for the domain to stop")
    assert edge.get("shop.example.com").text == "shop"  # the domain itself is still served


def test_deleting_the_binding_removes_its_certificates_and_their_files(
    api: Any, stack: Any, binding: dict[str, str]
) -> None:
    cert_id = import_cert(api, binding["id"], self_signed("shop.example.com")).json()["certificateId"]
    warnings = api.get(f"/api/domain-bindings/{binding['id']}/delete-check").json()["warnings"]
    assert {"kind": "active-certificate", "relatedEntityId": cert_id}.items() <= warnings[-1].items()
    confirmation = {"confirmation": {"domainBindingId": binding["id"]}}
    assert (
        api.request("DELETE", f"/api/domain-bindings/{binding['id']}", json=confirmation).status_code == 200
    )
    assert api.get(f"/api/certificates/{cert_id}").status_code == 404
    assert not cert_dir(stack, cert_id).exists()


def issue(api: Any, binding_id: str) -> Any:
    return api.post("/api/certificates/issue-or-renew", json={"domainBindingId": binding_id})


def with_edge(api: Any, server_id: str) -> None:
    body = {"proxyKind": "nginx", "httpPort": 18080, "httpsPort": 18443}
    resp = api.post(f"/api/servers/{server_id}/edge-proxy/configuration", json=body)
    assert resp.status_code == 200, resp.text


def test_issuing_needs_a_verified_binding_and_an_edge_proxy(
    api: Any, binding: dict[str, str], new_project: str, new_environment: str, new_resource: str
) -> None:
    no_edge = issue(api, binding["id"])
    assert no_edge.status_code == 409 and error_code(no_edge) == "edge_proxy_required"
    assert "configure-edge-proxy" in no_edge.json()["error"]["nextAction"]
    with_edge(api, binding["serverId"])
    body = {
        "projectId": new_project,
        "environmentId": new_environment,
        "resourceId": new_resource,
        "serverId": binding["serverId"],
        "domainName": "unverified.example.com",
    }
    unverified = issue(api, created(api.post("/api/domain-bindings", json=body)))
    assert unverified.status_code == 409 and error_code(unverified) == "domain_not_verified"
    unknown = issue(api, "dbn_" + "0" * 26)
    assert unknown.status_code == 404 and error_code(unknown) == "domain_binding_not_found"
    assert api.get("/api/certificates").json()["items"] == []  # nothing half-made


def test_an_issue_request_is_a_pending_managed_certificate_with_one_attempt_at_a_time(
    api: Any, binding: dict[str, str]
) -> None:
    with_edge(api, binding["serverId"])
    requested = issue(api, binding["id"])
    assert requested.status_code == 202, requested.text
    cert_id, attempt_id = requested.json()["certificateId"], requested.json()["attemptId"]
    shown = api.get(f"/api/certificates/{cert_id}").json()
    assert (shown["status"], shown["source"], shown["challengeType"]) == ("pending", "managed", "http-01")
    assert shown["providerKey"] == "acme" and shown["fingerprint"] is None
    assert shown["latestAttempt"]["id"] == attempt_id
    assert (shown["latestAttempt"]["status"], shown["latestAttempt"]["reason"]) == ("requested", "issue")
    # no worker runs in this stack: the attempt stays requested, and a second request must wait
    again = issue(api, binding["id"])
    assert again.status_code == 409 and error_code(again) == "certificate_attempt_in_progress"
    early = api.post(f"/api/certificates/{cert_id}/retries", json={})
    assert early.status_code == 409 and error_code(early) == "certificate_not_retriable"
    pending = api.post(f"/api/certificates/{cert_id}/revoke", json={})
    assert pending.status_code == 409 and error_code(pending) == "certificate_not_revocable"


def test_revoking_an_imported_certificate_stops_tls_and_cannot_be_retried(
    api: Any, stack: Any, svc: Services, binding: dict[str, str], tmp_path: Path
) -> None:
    edge = serve_behind_edge(api, svc, tmp_path / "site", binding, "shop")
    cert_id = import_cert(api, binding["id"], self_signed("shop.example.com")).json()["certificateId"]
    served = api.get(f"/api/certificates/{cert_id}").json()["fingerprint"]
    poll(lambda: edge.certificate("shop.example.com") == served, "the edge to serve the certificate")
    retry = api.post(f"/api/certificates/{cert_id}/retries", json={})
    assert retry.status_code == 409 and error_code(retry) == "certificate_not_retriable"
    assert "imported" in retry.json()["error"]["message"]
    resp = api.post(f"/api/certificates/{cert_id}/revoke", json={})
    assert resp.status_code == 200 and resp.json() == {"certificateId": cert_id}
    assert api.get(f"/api/certificates/{cert_id}").json()["status"] == "revoked"
    assert not cert_dir(stack, cert_id).exists()
    twice = api.post(f"/api/certificates/{cert_id}/revoke", json={})
    assert twice.status_code == 409 and error_code(twice) == "certificate_not_revocable"
    poll(lambda: edge.certificate("shop.example.com") is None, "TLS for the domain to stop")
