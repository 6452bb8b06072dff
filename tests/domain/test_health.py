"""A resource's health from what the monitor saw (crash loops show as degraded), and verification's
decisions: when a candidate is up, and when its failure is definite (pure, times given)."""

from dockyard.domain.health import (
    EXITED,
    Answer,
    NoAnswer,
    Observed,
    Verification,
    answer_passes,
    expected_status,
    judge,
)
from dockyard.domain.profiles import HealthCheck, HttpCheck


def seen(
    state: str | None = "running",
    restarts: int = 0,
    uptime: float | None = 300,
    check: str = "passed",
    deployed: bool = True,
    reachable: bool = True,
) -> Observed:
    return Observed(deployed, reachable, state, restarts, uptime, check)


def test_a_running_instance_that_answers_is_healthy() -> None:
    assert judge(seen()).overall == "healthy"
    assert judge(seen(check="skipped")).runtime_health == "not-checked"


def test_a_crash_loop_is_degraded_while_it_backs_off_and_just_after() -> None:
    looping = judge(seen(state="crashed", restarts=4))
    assert (looping.overall, looping.lifecycle, looping.reason_code) == (
        "degraded",
        "restarting",
        "crash-loop",
    )
    assert judge(seen(restarts=2, uptime=3)).overall == "degraded"
    assert judge(seen(restarts=2, uptime=3600)).overall == "healthy"  # stable again


def test_a_failing_check_is_unhealthy_and_a_stopped_app_is_stopped() -> None:
    assert judge(seen(check="failed")).overall == "unhealthy"
    assert judge(seen(state="stopped")).overall == "stopped"


def test_nothing_deployed_or_a_runner_that_does_not_answer() -> None:
    assert judge(seen(deployed=False)).overall == "not-deployed"
    assert judge(seen(reachable=False)).overall == "unknown"


def check(path: str = "/", status: int | None = None, text: str | None = None) -> HttpCheck:
    return HttpCheck(path=path, expected_status_code=status, expected_response_text=text)


def test_with_no_path_configured_any_answer_below_500_means_up() -> None:
    default = HttpCheck()
    assert expected_status(default) is None
    for status in (200, 301, 401, 404):  # Django with DEBUG=False answers 404 on /, APIs 401
        assert answer_passes(default, status, "")
    assert not answer_passes(default, 500, "") and not answer_passes(default, 503, "")


def test_a_configured_path_must_answer_its_expected_status() -> None:
    assert expected_status(check("/healthz")) == 200
    assert answer_passes(check("/healthz"), 200, "") and not answer_passes(check("/healthz"), 404, "")
    assert not answer_passes(check("/healthz"), 204, "")
    assert answer_passes(check("/healthz", 204), 204, "")
    assert not answer_passes(check("/", 200), 404, ""), "an expected status on / is demanded too"
    assert answer_passes(check(text="ok"), 404, "all ok") and not answer_passes(check(text="ok"), 200, "no")


def run(policy: HealthCheck, seen: list[tuple[float, object]]) -> tuple[float, str, str] | None:
    """Feed observations at given times; (time, outcome, kind) of the first decision, or None."""
    verification = Verification(policy, 0.0)
    for at, outcome in seen:
        decision = verification.observe(at, outcome)  # type: ignore[arg-type]
        if decision is not None:
            return at, "healthy" if decision.healthy else "failed", decision.kind
    return None


STRICT = HealthCheck(http=check("/healthz"))  # 10 retries x 5 s: 50 s of patience for no answer


def test_connection_refused_while_starting_is_not_definite() -> None:
    refused = [(t / 10, NoAnswer("ConnectError")) for t in range(100)]
    assert run(STRICT, refused) is None
    assert run(STRICT, [*refused, (10.0, Answer(200, passed=True))]) == (10.0, "healthy", "answered")
    assert run(STRICT, [(50.0, NoAnswer("ConnectError"))]) == (50.0, "failed", "no-answer")


def test_a_wrong_answer_that_persists_fails_at_once_not_after_the_timeout() -> None:
    wrong = [(0.1 * i, Answer(404, passed=False)) for i in range(30)]
    decided = run(STRICT, wrong)
    assert decided is not None and decided[1:] == ("failed", "wrong-answer")
    assert decided[0] < 1.5  # about one second after the first wrong answer, not 50 s


def test_a_single_wrong_answer_or_one_that_goes_away_is_not_definite() -> None:
    assert run(STRICT, [(0.0, Answer(500, passed=False)), (0.01, Answer(500, passed=False))]) is None
    flapping = [(0.0, Answer(500, passed=False)), (0.5, NoAnswer("ConnectError"))]
    flapping += [(0.9, Answer(500, passed=False)), (1.2, Answer(500, passed=False))]
    assert run(STRICT, flapping) is None, "a connection error in between starts the count again"
    recovered = run(STRICT, [(0.0, Answer(500, passed=False)), (0.5, Answer(200, passed=True))])
    assert recovered == (0.5, "healthy", "answered")


def test_503_says_not_ready_yet_and_waits_for_the_policy() -> None:
    starting = [(0.1 * i, Answer(503, passed=False)) for i in range(400)]
    assert run(STRICT, starting) is None
    assert run(STRICT, [*starting, (50.0, Answer(503, passed=False))]) == (50.0, "failed", "wrong-answer")


def test_the_start_period_gives_the_app_time_before_wrong_answers_count() -> None:
    patient = HealthCheck(start_period_seconds=20, http=check("/healthz"))
    early = [(0.1 * i, Answer(500, passed=False)) for i in range(190)]
    assert run(patient, early) is None
    late = [(20.0 + 0.1 * i, Answer(500, passed=False)) for i in range(30)]
    decided = run(patient, [*early, *late])
    assert decided is not None and decided[1:] == ("failed", "wrong-answer") and decided[0] >= 21.0


def test_the_process_exiting_fails_at_once() -> None:
    assert run(STRICT, [(0.0, NoAnswer("ConnectError")), (0.2, EXITED)]) == (0.2, "failed", "exited")


def test_the_reasons_say_what_was_expected() -> None:
    v = Verification(STRICT, 0.0)
    for i in range(3):
        decision = v.observe(0.5 * i, Answer(404, passed=False))
    assert decision is not None
    assert decision.reason == "GET /healthz answered 404 (expected 200), 3 times in 1.0s"
    lenient = Verification(HealthCheck(), 0.0).observe(0.0, Answer(404, passed=True))
    assert lenient is not None and "answered 404" in lenient.reason and "below 500" in lenient.reason
