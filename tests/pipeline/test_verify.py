"""Verification against a real HTTP server on loopback."""

import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dockyard.domain.profiles import HealthCheck, HttpCheck
from dockyard.pipeline.verify import LivePort, confirm_switch, verify

ANSWERS = {"/broken": 500, "/missing": 404, "/": 200}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        code = ANSWERS.get(self.path, 404)
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


def policy(path: str = "/", retries: int = 1, text: str | None = None, interval: int = 1) -> HealthCheck:
    return HealthCheck(
        interval_seconds=interval, retries=retries, http=HttpCheck(path=path, expected_response_text=text)
    )


@pytest.fixture
def django_like() -> Iterator[int]:
    """An app that is up but has no page at `/` (Django with DEBUG=False, most APIs): 404 there."""
    answers = {"/": 404, "/healthz": 200}

    class NoIndex(Handler):
        def do_GET(self) -> None:
            self.send_response(answers.get(self.path, 404))
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), NoIndex)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def test_healthy_app_passes_at_once(port: int) -> None:
    verdict = verify(policy(), port, lambda: True)
    assert verdict.healthy and verdict.attempts == 1 and "answered 200" in verdict.reason


def test_a_500_fails_with_the_status_in_the_reason(port: int) -> None:
    verdict = verify(policy("/broken"), port, lambda: True)
    assert not verdict.healthy
    assert "answered 500 (expected 200)" in verdict.reason


def test_with_no_health_path_an_app_answering_404_on_the_root_is_up(django_like: int) -> None:
    verdict = verify(HealthCheck(), django_like, lambda: True)
    assert verdict.healthy, verdict.reason
    assert "answered 404" in verdict.reason


def test_a_configured_path_must_answer_200(django_like: int) -> None:
    assert verify(policy("/healthz"), django_like, lambda: True).healthy
    assert not verify(policy("/nothing-here"), django_like, lambda: True).healthy


@pytest.mark.parametrize("path", ["/missing", "/broken"])
def test_a_wrong_answer_fails_at_once_not_after_the_whole_patience(port: int, path: str) -> None:
    """A configured path answering 404, or a 500: the verdict comes from the answers, not the clock
    (the policy would wait 60 s for an app that does not answer)."""
    verdict = verify(policy(path, retries=6, interval=10), port, lambda: True)
    assert not verdict.healthy and verdict.kind == "wrong-answer"
    assert "not healthy after" not in verdict.reason, verdict.reason
    assert "times in" in verdict.reason


def test_a_500_on_the_root_fails_the_default_check_at_once() -> None:
    class Broken(Handler):
        def do_GET(self) -> None:
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Broken)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        verdict = verify(HealthCheck(), server.server_address[1], lambda: True)
    finally:
        server.shutdown()
    assert not verdict.healthy and verdict.kind == "wrong-answer"
    assert "GET / answered 500" in verdict.reason and "not healthy after" not in verdict.reason


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


def test_the_switch_check_fails_when_another_process_answers_on_the_front_port(port: int) -> None:
    """`port` is a plain HTTP server (another data dir's app, say) that answers 200 to everything:
    it passes the health check, but it is not this resource's runner routing to this deployment."""
    problem = confirm_switch(policy(), LivePort(port, "dep_1", "a-token"))
    assert problem is not None
    assert f"127.0.0.1:{port} is answered by pid {os.getpid()}" in problem
    assert "not by this resource's runner" in problem


def test_the_switch_check_fails_when_nothing_answers_on_the_front_port() -> None:
    from dockyard.runtimes.host_process import free_port

    problem = confirm_switch(HealthCheck(enabled=False), LivePort(free_port(), "dep_1", "a-token"))
    assert problem is not None and "did not answer the probe" in problem, "proved even without a check"


def test_a_runner_from_an_earlier_dockyard_without_a_probe_is_checked_by_health_alone(port: int) -> None:
    """Runners outlive `dockyard serve`, so after an upgrade the first switch may meet an old one."""
    assert confirm_switch(policy(), LivePort(port, "dep_1", None)) is None
    assert confirm_switch(policy("/broken"), LivePort(port, "dep_1", None)) is not None
