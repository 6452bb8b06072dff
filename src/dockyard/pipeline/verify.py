"""Verify: the candidate must pass the resource's health policy before it receives traffic."""

import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from dockyard.domain.profiles import HealthCheck, HttpCheck

POLL_S = 0.05
FAST_POLL_S = 0.01  # the first second: a refused loopback connect costs ~0.1 ms, the switch waits less
FAST_FOR_S = 1.0


@dataclass(frozen=True)
class Verdict:
    healthy: bool
    reason: str
    attempts: int


def passes(resp: httpx.Response, http: HttpCheck) -> bool:
    return resp.status_code == http.expected_status_code and (
        not http.expected_response_text or http.expected_response_text in resp.text
    )


def deadline_s(policy: HealthCheck) -> float:
    return policy.start_period_seconds + policy.retries * policy.interval_seconds


def verify(
    policy: HealthCheck,
    port: int,
    candidate_alive: Callable[[], bool],
    clock: Callable[[], float] = time.monotonic,
) -> Verdict:
    """Poll until the check passes, the candidate dies, or the policy's patience runs out.

    Polling is fast (every 10 ms for a second, then 50 ms) so a healthy app is switched to as soon as
    it answers; the policy's start period, interval and retries set how long an unhealthy one is given.
    """
    if not policy.enabled or policy.type == "none" or policy.http is None:
        return Verdict(candidate_alive(), "health checks disabled; the process is running", 0)
    http = policy.http
    url = f"{http.scheme}://127.0.0.1:{http.port or port}{http.path}"  # the instance; never `http.host`
    started = clock()
    end = started + deadline_s(policy)
    attempts, last = 0, "no answer yet"
    with httpx.Client(timeout=policy.timeout_seconds, verify=False) as client:
        while True:
            if not candidate_alive():
                return Verdict(False, f"the process exited before answering ({last})", attempts)
            attempts += 1
            try:
                resp = client.request(http.method, url)
                if passes(resp, http):
                    return Verdict(True, f"{http.method} {http.path} answered {resp.status_code}", attempts)
                last = (
                    f"{http.method} {http.path} answered {resp.status_code}, "
                    f"expected {http.expected_status_code}"
                )
            except httpx.HTTPError as exc:
                last = f"{http.method} {http.path}: {type(exc).__name__}"
            if clock() >= end:
                return Verdict(False, f"not healthy after {deadline_s(policy):.0f}s: {last}", attempts)
            time.sleep(FAST_POLL_S if clock() - started < FAST_FOR_S else POLL_S)


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
