"""When a managed certificate is renewed and when a failed attempt is retried (pure)."""

from datetime import datetime, timedelta

FIRST_RETRY = timedelta(minutes=5)
LONGEST_RETRY = timedelta(hours=6)
AUTOMATIC_RETRIES = 5  # consecutive failures after which only a person retries (POST …/retries)


def renewal_due(expires_at: datetime, now: datetime, renew_before: timedelta) -> bool:
    return expires_at - now <= renew_before


def retry_after(
    consecutive_failures: int, failed_at: datetime, limit: int = AUTOMATIC_RETRIES
) -> datetime | None:
    """When the scheduler tries again after the n-th failure in a row (5 min, doubling up to 6 h);
    None once the `limit` automatic retries are used up."""
    if consecutive_failures >= limit:
        return None
    delay = min(FIRST_RETRY * 2 ** max(consecutive_failures - 1, 0), LONGEST_RETRY)
    return failed_at + delay
