"""The judgement of a route: the first thing in a request's way is the one reported, with what to do."""

from dataclasses import replace

import pytest

from dockyard.domain.route_intent import DOMAIN_SOURCE, GENERATED_SOURCE, RouteFacts, judge

SERVING = RouteFacts(
    source=DOMAIN_SOURCE,
    host="shop.example.com",
    domain_verified=True,
    tls_wanted=True,
    certificate_ready=True,
    edge_kind="nginx",
    edge_status="ready",
    route_applied=True,
    deployed=True,
    running=True,
)


def test_a_route_with_nothing_in_its_way_serves() -> None:
    verdict = judge(SERVING)
    assert verdict.ready and verdict.recommended_action == "none" and verdict.phase == "ready"
    assert (verdict.proxy_intent, verdict.proxy_applied) == ("required", "applied")
    assert (verdict.domain_verification, verdict.tls) == ("verified", "ready")


@pytest.mark.parametrize(
    ("change", "reason", "action"),
    [
        ({"domain_verified": False, "route_applied": False}, "domain_not_verified", "verify-domain"),
        ({"edge_kind": "none"}, "proxy_not_configured", "configure-proxy"),
        ({"edge_status": "failed"}, "proxy_failed", "check-proxy"),
        ({"deployed": False, "running": False}, "runtime_not_deployed", "deploy"),
        ({"route_applied": False}, "route_not_applied", "redeploy"),
        ({"running": False}, "runtime_not_ready", "check-health"),
    ],
)
def test_the_first_thing_in_the_way_is_reported_with_what_to_do(
    change: dict, reason: str, action: str
) -> None:
    verdict = judge(replace(SERVING, **change))
    assert (verdict.blocking_reason, verdict.recommended_action) == (reason, action)
    assert not verdict.ready and verdict.message


def test_an_unverified_domain_outranks_everything_behind_it() -> None:
    verdict = judge(replace(SERVING, domain_verified=False, edge_kind="none", deployed=False, running=False))
    assert verdict.blocking_reason == "domain_not_verified" and verdict.domain_verification == "pending"


def test_a_direct_port_needs_no_proxy_and_no_certificate() -> None:
    direct = RouteFacts(GENERATED_SOURCE, None, None, False, False, "none", None, True, True, True)
    verdict = judge(direct)
    assert verdict.ready and (verdict.proxy_intent, verdict.proxy_applied) == (
        "not-required",
        "not-configured",
    )
    assert (verdict.domain_verification, verdict.tls) == ("not-applicable", "not-applicable")


def test_a_certificate_still_to_come_is_advice_not_a_block() -> None:
    verdict = judge(replace(SERVING, certificate_ready=False))
    assert verdict.ready and verdict.tls == "pending"
    assert (verdict.recommended_action, verdict.phase) == ("check-certificate", "tls")
    assert "https is not served" in verdict.message
