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
from dockyard.probes.public_access import ask_runner
from dockyard.runtimes import ports
from dockyard.runtimes.protocol import DEPLOYMENT_HEADER

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
    url = f"{http.scheme}://127.0.0.1:{http.port or port}{http.path}"  # the instance; never `http.host`
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


def failure(verdict: Verdict, policy: HealthCheck, resource_id: str, port_hint: str) -> tuple[str, str]:
    """A failed verification's message and next action."""
    message = f"the candidate failed verification: {verdict.reason}"
    return message, next_action(verdict, policy, resource_id, port_hint)


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


@dataclass(frozen=True)
class LivePort:
    """The front port after a switch, and what proves an answer there is this deployment's."""

    port: int
    deployment_id: str
    probe_token: str | None  # None: a runner started by an earlier Dockyard (no probe; health only)


def confirm_switch(
    policy: HealthCheck, live: LivePort | None, clock: Callable[[], float] = time.monotonic
) -> str | None:
    """After a switch: the live port must answer the health check as the candidate did, and its
    runner's probe must say it routes to this deployment — an answer from another process holding
    the port (a second data dir's app, a leftover) proves nothing. Returns what went wrong, or None.
    A health check on a port of its own cannot go through the live port: only the probe is asked."""
    if live is None:
        return None
    http = policy.http
    checked = policy.enabled and policy.type != "none" and http is not None and not http.port
    base = f"http://127.0.0.1:{live.port}"
    end = clock() + CONFIRM_S
    with httpx.Client(timeout=policy.timeout_seconds, verify=False) as client:
        if checked:
            assert http is not None
            problem = _until(end, clock, lambda: _health_through(client, base, http))
            if problem:
                return problem
        if live.probe_token is None:
            return None
        return _until(end, clock, lambda: _probe(live, policy.timeout_seconds))


def _until(
    end: float, clock: Callable[[], float], attempt: Callable[[], tuple[bool, str | None]]
) -> str | None:
    """Repeat `attempt` (→ (definite, problem)) until it has no problem, a definite one, or time is up."""
    while True:
        definite, problem = attempt()
        if problem is None or definite or clock() >= end:
            return problem
        time.sleep(POLL_S)


def _health_through(client: httpx.Client, base: str, http: HttpCheck) -> tuple[bool, str | None]:
    try:
        resp = client.request(http.method, base + http.path)
    except httpx.HTTPError as exc:
        return False, f"{http.method} {http.path} on the live port: {type(exc).__name__}"
    if passes(resp, http):
        return False, None
    return False, f"{http.method} {http.path} answered {resp.status_code} on the live port"


def _probe(live: LivePort, timeout: float) -> tuple[bool, str | None]:
    """The runner recognises its probe only as a connection's first request: a connection of its own
    (not one the health check kept alive, which the runner already forwards to the app)."""
    try:
        resp = ask_runner(live.port, live.probe_token or "", timeout)
    except OSError as exc:
        return False, f"the live port 127.0.0.1:{live.port} did not answer the probe: {type(exc).__name__}"
    served = resp.deployment_id
    if served == live.deployment_id:
        return False, None
    if served:
        return True, f"the live port 127.0.0.1:{live.port} routes to {served}, not {live.deployment_id}"
    holder = ports.holder(live.port) or "another process"
    return True, (
        f"127.0.0.1:{live.port} is answered by {holder}, not by this resource's runner "
        f"(it answered {resp.status} without {DEPLOYMENT_HEADER})"
    )
