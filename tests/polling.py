"""Waiting for something a test caused, with a deadline instead of a sleep."""

import time
from collections.abc import Callable
from typing import Any

import httpx

DEADLINE_S = 30.0


def poll(check: Callable[[], Any], what: str, deadline: float = DEADLINE_S) -> Any:
    """Call `check` until it returns something truthy and return that; a connection or HTTP error
    (the thing is not up yet) counts as not yet. Fails with `what` after `deadline` seconds."""
    end = time.monotonic() + deadline
    last: Any = None
    while time.monotonic() < end:
        try:
            last = check()
        except (httpx.HTTPError, OSError) as exc:  # docker-py's errors are OSErrors too
            last = exc
        else:
            if last:
                return last
        time.sleep(0.02)
    raise AssertionError(f"timed out after {deadline:.0f}s waiting for {what} (last: {last!r})")
