"""What a probe's answer says went wrong, and who should act on it."""

import pytest

from dockyard.domain.access_failures import Answer, classify


def test_an_answer_from_the_expected_deployment_is_no_failure() -> None:
    assert classify(Answer(True, 200, identity="dep_1", expected="dep_1"), proxied=True) is None
    assert (
        classify(Answer(True, 404, identity="dep_1", expected="dep_1"), proxied=True) is None
    )  # the app's 404


@pytest.mark.parametrize(
    ("answer", "proxied", "code", "phase", "owner"),
    [
        (Answer(False), True, "resource_access_edge_unreachable", "edge-connect", "platform"),
        (Answer(False), False, "resource_access_runtime_unreachable", "runtime-connect", "platform"),
        (Answer(False, timed_out=True), True, "resource_access_timeout", "edge-connect", "platform"),
        (
            Answer(True, 404, edge_not_found=True),
            True,
            "resource_access_route_not_found",
            "edge-request-routing",
            "platform",
        ),
        (Answer(True, 502), True, "resource_access_upstream_unavailable", "upstream-connect", "platform"),
        (
            Answer(True, 200, identity="d", expected="d", foreign_edge=True),
            True,
            "resource_access_edge_foreign",
            "edge-connect",
            "platform",
        ),
        (
            Answer(True, 500, identity="d", expected="d"),
            True,
            "resource_access_application_error",
            "application-response",
            "application",
        ),
        (
            Answer(True, 200, identity="dep_old", expected="dep_new"),
            True,
            "resource_access_wrong_deployment",
            "runtime-identity",
            "platform",
        ),
        (
            Answer(True, 200, identity=None, expected="dep_new"),
            False,
            "resource_access_wrong_deployment",
            "runtime-identity",
            "platform",
        ),
    ],
)
def test_each_failure_names_its_phase_and_who_should_act(
    answer: Answer, proxied: bool, code: str, phase: str, owner: str
) -> None:
    failure = classify(answer, proxied)
    assert failure is not None
    assert (failure.code, failure.phase, failure.owner_hint) == (code, phase, owner)
    assert failure.next_action
