"""The ACME adapter against Pebble, a real ACME server run locally (tests/acme_ca.py): HTTP-01
answers handed to `publish` are fetched by the CA; failures come back as stable codes."""

import stat
import threading
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from acme_ca import AcmeCA, free_port, pebble, pebble_missing
from dockyard.certificates.acme_authority import AcmeAuthority
from dockyard.certificates.authority import IssuanceFailed


class ChallengeServer:
    """Answers /.well-known/acme-challenge/<token> with what was published, like the edge does."""

    def __init__(self, port: int) -> None:
        self.answers: dict[str, str] = {}
        self.published: list[dict[str, str]] = []
        answers = self.answers

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                token = self.path.rsplit("/", 1)[-1]
                body = answers.get(token, "").encode()
                self.send_response(200 if body else 404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def publish(self, answers: Mapping[str, str]) -> None:
        self.published.append(dict(answers))
        self.answers.clear()
        self.answers.update(answers)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def ca_and_server() -> Iterator[tuple[AcmeCA, ChallengeServer]]:
    if pebble_missing():
        pytest.skip(f"{pebble_missing()} (as root: make system-deps)")
    port = free_port()
    server = ChallengeServer(port)
    with pebble(port) as ca:
        yield ca, server
    server.close()


def authority(ca: AcmeCA, state: Path) -> AcmeAuthority:
    return AcmeAuthority(ca.directory_url, state, "ops@example.com", ca.ca_bundle)


def test_a_certificate_is_issued_for_the_domain_through_http01(
    ca_and_server: tuple[AcmeCA, ChallengeServer], tmp_path: Path
) -> None:
    ca, server = ca_and_server
    issued = authority(ca, tmp_path).issue("shop.example.test", server.publish)
    leaf, *rest = x509.load_pem_x509_certificates(issued.chain_pem.encode())
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["shop.example.test"]
    assert rest, "the chain carries the intermediate"
    assert "PRIVATE KEY" in issued.key_pem
    assert len(server.published) == 2 and server.published[-1] == {}  # answered, then taken out
    assert all("." in answer for answer in server.published[0].values())
    key_file = next(tmp_path.glob("accounts/*/key.pem"))
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_the_account_is_registered_once_and_reused(
    ca_and_server: tuple[AcmeCA, ChallengeServer], tmp_path: Path
) -> None:
    ca, server = ca_and_server
    authority(ca, tmp_path).issue("one.example.test", server.publish)
    account = next(tmp_path.glob("accounts/*/account.json")).read_text()
    authority(ca, tmp_path).issue("two.example.test", server.publish)
    assert next(tmp_path.glob("accounts/*/account.json")).read_text() == account


def test_revoking_tells_the_ca_and_a_second_revoke_is_harmless(
    ca_and_server: tuple[AcmeCA, ChallengeServer], tmp_path: Path
) -> None:
    ca, server = ca_and_server
    acme = authority(ca, tmp_path)
    issued = acme.issue("revoked.example.test", server.publish)
    assert ca.status_of(issued.chain_pem) == "Valid"
    acme.revoke(issued.chain_pem)
    assert ca.status_of(issued.chain_pem) == "Revoked"
    acme.revoke(issued.chain_pem)  # the CA answers "already revoked": no error
    assert ca.status_of(issued.chain_pem) == "Revoked"


def test_a_domain_the_ca_cannot_reach_fails_in_the_challenge_phase(
    ca_and_server: tuple[AcmeCA, ChallengeServer], tmp_path: Path
) -> None:
    ca, server = ca_and_server
    ca.servfail("unreachable.example.test")
    try:
        with pytest.raises(IssuanceFailed) as failed:
            authority(ca, tmp_path).issue("unreachable.example.test", server.publish)
    finally:
        ca.servfail("unreachable.example.test", failing=False)
    assert (failed.value.code, failed.value.phase, failed.value.retriable) == (
        "acme_challenge_failed",
        "challenge",
        True,
    )
    assert "unreachable.example.test" in failed.value.message
    assert server.published[-1] == {}  # the answers are withdrawn even when it fails


def test_a_directory_that_does_not_answer_is_a_retriable_failure(tmp_path: Path) -> None:
    dead = f"https://127.0.0.1:{free_port()}/dir"
    with pytest.raises(IssuanceFailed) as failed:
        AcmeAuthority(dead, tmp_path).issue("shop.example.test", lambda _answers: None)
    assert (failed.value.code, failed.value.phase, failed.value.retriable) == (
        "acme_directory_unreachable",
        "account",
        True,
    )
    assert dead in failed.value.message
