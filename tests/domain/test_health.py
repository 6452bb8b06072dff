"""A resource's health from what the monitor saw: crash loops show as degraded."""

from dockyard.domain.health import Observed, judge


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
