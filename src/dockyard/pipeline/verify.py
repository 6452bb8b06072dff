"""Verify: the candidate must pass the resource's health policy before it receives traffic.

The decisions (what a check demands, when a failure is definite) are domain/health.py's; here is
the polling: real requests on a clock, as fast as is cheap."""

import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from dockyard.domain.health import (
    DEFAULT_PATH,
    EXITED,
    Answer,
    Exited,
    NoAnswer,
    Verification,
    answer_passes,
    expected_status,
    patience_s,
)
from dockyard.domain.profiles import HealthCheck, HttpCheck

POLL_S = 0.05
FAST_POLL_S = 0.01  # the first second: a refused loopback connect costs ~0.1 ms, the switch waits less
FAST_FOR_S = 1.0


@dataclass(frozen=True)
class Verdict:
    healthy: bool
    reason: str
    attempts: int
    kind: str = "answered"  # answered | exited | wrong-answer | no-answer | not-checked


def passes(resp: httpx.Response, http: HttpCheck) -> bool:
    return answer_passes(http, resp.status_code, resp.text)


def deadline_s(policy: HealthCheck) -> float:
    return patience_s(policy)


def verify(
    policy: HealthCheck,
    port: int,
    candidate_alive: Callable[[], bool],
    clock: Callable[[], float] = time.monotonic,
) -> Verdict:
    """Poll until the check passes, fails definitely, the candidate dies, or the policy's patience
    for an app that does not answer runs out.

    Polling is fast (every 10 ms for a second, then 50 ms) so a healthy app is switched to as soon as
    it answers, and an app answering wrong is told so within about a second (domain/health.py).
    """
    if not policy.enabled or policy.type == "none" or policy.http is None:
        alive = candidate_alive()
        return Verdict(alive, "health checks disabled; the process is running", 0, "not-checked")
    http = policy.http
    url = f"{http.scheme}://{http.host}:{http.port or port}{http.path}"
    started = clock()
    verification = Verification(policy, started)
    with httpx.Client(timeout=policy.timeout_seconds, verify=False) as client:
        while True:
            seen: Answer | NoAnswer | Exited
            if not candidate_alive():
                seen = EXITED
            else:
                try:
                    resp = client.request(http.method, url)
                    seen = Answer(resp.status_code, passes(resp, http))
                except httpx.HTTPError as exc:
                    seen = NoAnswer(type(exc).__name__)
            decision = verification.observe(clock(), seen)
            if decision is not None:
                return Verdict(decision.healthy, decision.reason, verification.attempts, decision.kind)
            time.sleep(FAST_POLL_S if clock() - started < FAST_FOR_S else POLL_S)


SAMPLE_PATH = "/healthz"


def next_action(verdict: Verdict, policy: HealthCheck, resource_id: str, port_hint: str) -> str:
    """What to do about a failed verification, by how it failed; a wrong answer names both places
    a check is set: `health:` in dockyard.yml and `dockyard resources configure-health`."""
    if verdict.kind == "no-answer":
        return port_hint
    if verdict.kind != "wrong-answer" or policy.http is None:
        return "Read the app's output above: it stopped before it answered its health check."
    http = policy.http
    configure = f"dockyard resources configure-health {resource_id} --http"
    if http.path == DEFAULT_PATH and expected_status(http) is None:
        return (
            "Read the app's output above. If / is not where the app answers, check a path that does: "
            f'`health: {SAMPLE_PATH}` in dockyard.yml, or {configure} \'{{"path": "{SAMPLE_PATH}"}}\'.'
        )
    return (
        f"Read the app's output above, and make {http.path} answer {expected_status(http) or 'below 500'}"
        f" — or change the check: `health: /path` in dockyard.yml, or {configure} "
        f'\'{{"path": "{http.path}", "expectedStatusCode": 200}}\' (add --start-period-seconds N '
        "if the app needs longer to start)."
    )


CONFIRM_S = 2.0


def confirm_switch(
    policy: HealthCheck, front_port: int | None, clock: Callable[[], float] = time.monotonic
) -> str | None:
    """After a switch: the live port must answer the health check as the candidate did. Returns what
    went wrong, or None. A check on a port of its own cannot go through the live port: not checked."""
    http = policy.http
    if not policy.enabled or policy.type == "none" or http is None or http.port or front_port is None:
        return None
    url = f"{http.scheme}://127.0.0.1:{front_port}{http.path}"
    end, last = clock() + CONFIRM_S, "no answer"
    with httpx.Client(timeout=policy.timeout_seconds, verify=False) as client:
        while True:
            try:
                resp = client.request(http.method, url)
                if passes(resp, http):
                    return None
                last = f"{http.method} {http.path} answered {resp.status_code} on the live port"
            except httpx.HTTPError as exc:
                last = f"{http.method} {http.path} on the live port: {type(exc).__name__}"
            if clock() >= end:
                return last
            time.sleep(POLL_S)
