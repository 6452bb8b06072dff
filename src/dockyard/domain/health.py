"""A resource's health from what was observed, pure: the runner's view of the live instance (state,
restarts, uptime) and the result of its health check.

A crash loop backs off in the runner (0.1 s doubling to 5 s); here it shows as `degraded` while the
instance is down between restarts or has crashed within the last RECENT_CRASH_S seconds.
"""

from dataclasses import dataclass

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
