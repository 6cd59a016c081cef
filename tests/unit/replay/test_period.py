"""The replay period from the form or the URL, and back into the URL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jobs.engines.replay.period import BadPeriod, Period, choose_period, frame_from, parse_moment, share_query

NEWEST = datetime(2026, 11, 30, 18, tzinfo=UTC)


def test_defaults_are_the_seven_days_up_to_the_newest_window() -> None:
    assert choose_period("", "", NEWEST) == Period(NEWEST - timedelta(days=7), NEWEST)
    assert choose_period("2026-11-29 06:00", "", NEWEST).start == datetime(2026, 11, 29, 6, tzinfo=UTC)
    # a shorter history starts at its oldest window; a typed start is kept
    oldest = NEWEST - timedelta(hours=8)
    assert choose_period("", "", NEWEST, oldest) == Period(oldest, NEWEST)
    assert choose_period("2026-11-29 06:00", "", NEWEST, oldest).start == datetime(2026, 11, 29, 6, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end", "why"),
    [
        ("2026-11-30T10:00", "2026-11-30T09:00", "before To"),
        ("2026-09-01", "2026-11-30", "at most 31 days"),
        ("yesterday", "", "is not a date"),
    ],
)
def test_bad_periods_say_why(start: str, end: str, why: str) -> None:
    with pytest.raises(BadPeriod, match=why):
        choose_period(start, end, NEWEST)


def test_moments_read_in_three_spellings_as_utc() -> None:
    expected = datetime(2026, 11, 30, 14, tzinfo=UTC)
    assert parse_moment("2026-11-30T14:00", "From") == parse_moment("2026-11-30 14:00:00Z", "From") == expected
    assert parse_moment("2026-11-30", "To") == expected.replace(hour=0)


def test_the_frame_from_the_url_stays_inside_the_period() -> None:
    assert frame_from("5", 10) == 5
    assert frame_from("50", 10) == 10
    assert frame_from("0", 10) == 1
    assert frame_from("x", 10, default=10) == 10
    assert frame_from("3", 0) == 0


def test_share_query_round_trips() -> None:
    period = Period(datetime(2026, 11, 23, 18, tzinfo=UTC), NEWEST)
    query = share_query(period, 3, "hubble")
    assert query == "?from=2026-11-23T18%3A00&to=2026-11-30T18%3A00&frame=3&source=hubble"
    assert "source" not in share_query(period, 3, "")
    assert choose_period("2026-11-23T18:00", "2026-11-30T18:00", NEWEST) == period
