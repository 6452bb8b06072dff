"""Moments as stored: ISO 8601 UTC with milliseconds, whatever offset a caller wrote them in."""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from dockyard.operations.context import iso


def test_a_moment_is_stored_in_utc_with_milliseconds() -> None:
    when = datetime(2026, 1, 31, 13, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1)))
    assert iso(when) == "2026-01-31T12:00:00.123Z"


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("0001-01-01T00:00:00+01:00", "0001-01-01T00:00:00.000Z"),
        ("9999-12-31T23:59:59-01:00", "9999-12-31T23:59:59.999Z"),
    ],
)
def test_a_moment_past_what_utc_can_hold_is_its_first_or_last_moment(written: str, stored: str) -> None:
    assert iso(datetime.fromisoformat(written)) == stored
    assert datetime.fromisoformat(stored.replace("Z", "+00:00")).tzinfo == UTC


@pytest.mark.parametrize(
    "path", ["/api/deployments/prune", "/api/deployments/logs/prune", "/api/operator-work/prune"]
)
def test_a_prune_before_the_first_moment_answers_instead_of_failing(api: Any, path: str) -> None:
    resp = api.post(path, json={"before": "0001-01-01T00:00:00+01:00"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["before"] == "0001-01-01T00:00:00.000Z" and resp.json()["dryRun"] is True
