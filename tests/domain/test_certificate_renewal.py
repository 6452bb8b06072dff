"""When managed certificates renew and when failed attempts are retried."""

from datetime import UTC, datetime, timedelta

from dockyard.domain.certificate_renewal import AUTOMATIC_RETRIES, renewal_due, retry_after

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_a_certificate_renews_inside_the_window_before_it_expires() -> None:
    window = timedelta(days=30)
    assert renewal_due(NOW + timedelta(days=29), NOW, window)
    assert renewal_due(NOW + timedelta(days=30), NOW, window)
    assert renewal_due(NOW - timedelta(days=1), NOW, window)  # expired already: renew at once
    assert not renewal_due(NOW + timedelta(days=31), NOW, window)


def test_retries_back_off_doubling_from_five_minutes_and_stop_after_the_last() -> None:
    delays = [retry_after(n, NOW) for n in range(1, AUTOMATIC_RETRIES + 1)]
    assert [d - NOW for d in delays[:-1] if d] == [timedelta(minutes=m) for m in (5, 10, 20, 40)]
    assert delays[-1] is None  # then a person decides (POST /certificates/{id}/retries)


def test_the_backoff_is_capped_at_six_hours() -> None:
    assert retry_after(20, NOW, limit=100) == NOW + timedelta(hours=6)
