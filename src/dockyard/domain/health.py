"""A resource's health from what was observed, pure: the runner's view of the live instance (state,
restarts, uptime) and the result of its health check; and verification's decisions about a
candidate (what a check demands, when the candidate is up, when its failure is definite).

A crash loop backs off in the runner (0.1 s doubling to 5 s); here it shows as `degraded` while the
instance is down between restarts or has crashed within the last RECENT_CRASH_S seconds.
"""

from dataclasses import dataclass

from dockyard.domain.profiles import HealthCheck, HttpCheck

RECENT_CRASH_S = 60.0


@dataclass(frozen=True)
class Observed:
    deployed: bool  # a successful deployment exists
    reachable: bool  # the runner answered (or its saved state was read)
    state: str | None  # starting | running | crashed | stopped, of the active instance
    restarts: int
    uptime_s: float | None
    check: str  # passed | failed | skipped


@dataclass(frozen=True)
class Verdict:
    overall: str  # healthy | degraded | unhealthy | stopped | not-deployed | unknown
    lifecycle: str  # not-deployed | starting | running | restarting | stopped | unknown
    runtime_health: str  # healthy | unhealthy | unknown | not-checked
    reason_code: str | None


def judge(o: Observed) -> Verdict:
    if not o.deployed or (o.reachable and o.state is None):
        return Verdict("not-deployed", "not-deployed", "unknown", "runtime-not-deployed")
    if not o.reachable:
        return Verdict("unknown", "unknown", "unknown", "runtime-unreachable")
    if o.state == "stopped":
        return Verdict("stopped", "stopped", "unknown", "runtime-stopped")
    if o.state == "crashed":
        return Verdict("degraded", "restarting", "unhealthy", "crash-loop")
    if o.state == "starting":
        return Verdict("degraded", "starting", "unknown", "runtime-starting")
    recently_crashed = o.restarts > 0 and (o.uptime_s is None or o.uptime_s < RECENT_CRASH_S)
    if o.check == "failed":
        return Verdict("unhealthy", "running", "unhealthy", "health-check-failed")
    if recently_crashed:
        return Verdict(
            "degraded", "running", "healthy" if o.check == "passed" else "not-checked", "recent-crash"
        )
    return Verdict("healthy", "running", "healthy" if o.check == "passed" else "not-checked", None)


# --- verification of a candidate ------------------------------------------------------------------

DEFAULT_PATH = "/"
CONFIGURED_STATUS = 200  # what a configured path answers unless the policy says otherwise
NOT_READY = 503  # Service Unavailable: "not yet", the one answer that says the app is still starting
SETTLE_ANSWERS = 3
SETTLE_S = 1.0


def expected_status(http: HttpCheck) -> int | None:
    """The status the check demands; None: any status below 500, i.e. the app answers HTTP at all.

    With no path configured the check asks `/`, which many healthy apps answer with a 404 (Django with
    DEBUG=False, APIs) or a 401/302; a configured path is the app's promise to answer 200 there."""
    if http.expected_status_code is not None:
        return http.expected_status_code
    return None if http.path == DEFAULT_PATH else CONFIGURED_STATUS


def expectation(http: HttpCheck) -> str:
    want = expected_status(http)
    demanded = f"expected {want}" if want is not None else "any status below 500 counts"
    return demanded + (f" with {http.expected_response_text!r}" if http.expected_response_text else "")


def answer_passes(http: HttpCheck, status: int, body: str) -> bool:
    want = expected_status(http)
    fits = status < 500 if want is None else status == want
    return fits and (not http.expected_response_text or http.expected_response_text in body)


def patience_s(policy: HealthCheck) -> float:
    """How long a candidate that does not answer (or only says 503) is given."""
    return policy.start_period_seconds + policy.retries * policy.interval_seconds


@dataclass(frozen=True)
class Answer:
    status: int
    passed: bool


@dataclass(frozen=True)
class NoAnswer:
    error: str  # ConnectError, ReadTimeout… : the app does not listen (yet) or did not answer in time


class Exited:
    pass


EXITED = Exited()


@dataclass(frozen=True)
class Decision:
    healthy: bool
    kind: str  # answered | exited | wrong-answer | no-answer
    reason: str


class Verification:
    """The decision over a candidate's checks so far, fed one observation at a time (with its time).

    - An answer that passes: healthy.
    - The process exiting: failed at once.
    - No answer (connection refused, timeout): the app is starting; it is given the policy's
      patience (start period + retries x interval, 50 s by default).
    - A wrong answer (a 5xx; on a configured path another status than expected; missing text) is
      definite once it persists: SETTLE_ANSWERS consecutive wrong answers spanning SETTLE_S seconds.
      Not the first one: an app may answer a request or two while it finishes starting (a lazy
      database connection, workers still loading), and polling is fast (10 ms) at first, so a count
      alone would decide within 20 ms. A second of the same wrong answer is a decision the app made.
      An answer that passes or a connection error in between starts the count again. Two kinds of
      wrong answers wait for the patience instead: 503, the status that says "not ready yet", and
      any wrong answer within the policy's start period (the user said the app needs that long).
    """

    def __init__(self, policy: HealthCheck, started: float) -> None:
        assert policy.http is not None
        self.http, self.started = policy.http, started
        self.patience = patience_s(policy)
        self.deadline = started + self.patience
        self.grace_until = started + policy.start_period_seconds
        self.attempts = 0
        self.wrong_since: float | None = None
        self.wrong_count = 0
        self.last = "no answer yet"
        self.answered = False  # anything at all came back: the app listens where it is checked

    def observe(self, at: float, seen: Answer | NoAnswer | Exited) -> Decision | None:
        what = f"{self.http.method} {self.http.path}"
        if isinstance(seen, Exited):
            return Decision(False, "exited", f"the process exited before answering ({self.last})")
        self.attempts += 1
        if isinstance(seen, Answer) and seen.passed:
            counts = "" if expected_status(self.http) else f" ({expectation(self.http)})"
            return Decision(True, "answered", f"{what} answered {seen.status}{counts}")
        if isinstance(seen, NoAnswer):
            self.last, self.wrong_since, self.wrong_count = f"{what}: {seen.error}", None, 0
        else:
            self.answered = True
            self.last = f"{what} answered {seen.status} ({expectation(self.http)})"
            if seen.status == NOT_READY or at < self.grace_until:
                self.wrong_since, self.wrong_count = None, 0
            else:
                self.wrong_since = at if self.wrong_since is None else self.wrong_since
                self.wrong_count += 1
                held = at - self.wrong_since
                if self.wrong_count >= SETTLE_ANSWERS and held >= SETTLE_S:
                    reason = f"{self.last}, {self.wrong_count} times in {held:.1f}s"
                    return Decision(False, "wrong-answer", reason)
        if at >= self.deadline:
            kind = "wrong-answer" if self.answered else "no-answer"
            return Decision(False, kind, f"not healthy after {self.patience:.0f}s: {self.last}")
        return None
