"""Verification against a real HTTP server on loopback."""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dockyard.domain.profiles import HealthCheck, HttpCheck
from dockyard.pipeline.verify import verify


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        code = 500 if self.path == "/broken" else 200
        body = b"all good" if code == 200 else b"boom"
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def policy(path: str = "/", retries: int = 1, text: str | None = None) -> HealthCheck:
    return HealthCheck(
        interval_seconds=1, retries=retries, http=HttpCheck(path=path, expected_response_text=text)
    )


def test_healthy_app_passes_at_once(port: int) -> None:
    verdict = verify(policy(), port, lambda: True)
    assert verdict.healthy and verdict.attempts == 1 and "answered 200" in verdict.reason


def test_a_500_fails_with_the_status_in_the_reason(port: int) -> None:
    verdict = verify(policy("/broken"), port, lambda: True)
    assert not verdict.healthy
    assert "answered 500, expected 200" in verdict.reason


def test_expected_text_must_be_in_the_body(port: int) -> None:
    assert verify(policy(text="good"), port, lambda: True).healthy
    assert not verify(policy(text="missing"), port, lambda: True).healthy


def test_nothing_listening_fails_after_the_policy_patience() -> None:
    from dockyard.runtimes.host_process import free_port

    verdict = verify(policy(), free_port(), lambda: True)
    assert not verdict.healthy and "ConnectError" in verdict.reason and verdict.attempts > 1


def test_a_dead_candidate_fails_fast(port: int) -> None:
    verdict = verify(policy(retries=100), port, lambda: False)
    assert not verdict.healthy and verdict.attempts == 0 and "exited" in verdict.reason


def test_disabled_checks_only_need_a_running_process(port: int) -> None:
    assert verify(HealthCheck(enabled=False), port, lambda: True).healthy


def test_the_check_goes_to_the_instance_whatever_host_a_stored_policy_names(port: int) -> None:
    """The host field once sent checks anywhere (an SSRF oracle); a policy stored then still has it."""
    elsewhere = HealthCheck(interval_seconds=1, retries=1, http=HttpCheck(host="127.0.0.2"))
    assert verify(elsewhere, port, lambda: True).healthy  # the instance listens on 127.0.0.1 only
