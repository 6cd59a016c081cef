"""Backoff with Retry-After, status classes, per-integration spacing, and the digest plan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jobs.engines.notify.pacing import (
    MAX_DELAY_S,
    RateLimit,
    backoff_delay,
    classify_status,
    parse_retry_after,
    plan_digest,
)

NOW = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)


def test_backoff_doubles_caps_and_jitters_within_a_quarter() -> None:
    assert [backoff_delay(n) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    assert backoff_delay(40) == MAX_DELAY_S
    assert backoff_delay(3, jitter=0.99) == pytest.approx(8.0 * 1.2475)
    with pytest.raises(ValueError):
        backoff_delay(0)


def test_retry_after_wins_when_longer_and_is_bounded() -> None:
    assert backoff_delay(1, retry_after_s=30) == 30
    assert backoff_delay(5, retry_after_s=1) == 32
    assert backoff_delay(1, retry_after_s=10**6) == 3600


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert parse_retry_after("120", now=NOW) == 120
    assert parse_retry_after("Sat, 05 Dec 2026 06:01:30 GMT", now=NOW) == 90
    assert parse_retry_after("Sat, 05 Dec 2026 05:00:00 GMT", now=NOW) == 0
    assert parse_retry_after("soon", now=NOW) is None and parse_retry_after(None, now=NOW) is None


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (200, "sent"),
        (201, "sent"),
        (204, "sent"),
        (400, "failed"),
        (401, "failed"),
        (404, "failed"),
        (408, "retry"),
        (429, "retry"),
        (500, "retry"),
        (503, "retry"),
    ],
)
def test_status_classes(status: int, verdict: str) -> None:
    assert classify_status(status) == verdict


def test_rate_limit_spaces_messages() -> None:
    slack = RateLimit(1.0)
    assert slack.next_slot(None, NOW) == NOW
    assert slack.next_slot(NOW, NOW + timedelta(milliseconds=300)) == NOW + timedelta(seconds=1)
    assert slack.next_slot(NOW, NOW + timedelta(seconds=5)) == NOW + timedelta(seconds=5)
    with pytest.raises(ValueError):
        RateLimit(-1)


def test_digest_folds_new_ones_over_the_threshold_only_for_chat_receivers() -> None:
    due = [(i, "new") for i in range(200)] + [(500, "update"), (501, "test")]
    plan = plan_digest(due, integration_kind="slack", threshold=10)
    assert plan.singles == (500, 501) and len(plan.digest) == 200
    assert plan_digest(due[:10], integration_kind="slack", threshold=10).digest == ()
    assert plan_digest(due, integration_kind="jira", threshold=10).digest == ()
    assert plan_digest(due, integration_kind="syslog", threshold=10).digest == ()
