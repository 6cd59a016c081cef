"""The digest schedule: which period is due when, in UTC, never one that ended before the schedule was set."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from jobs.engines.report.schedule import DigestSchedule, due_period

THU = datetime(2026, 12, 3, tzinfo=UTC)  # a Thursday


def test_daily_is_yesterday_from_the_hour_on() -> None:
    daily = DigestSchedule("daily", 8)
    due = due_period(daily, THU.replace(hour=8, minute=1))
    assert due is not None and due.key == "daily:2026-12-02"
    assert (due.start, due.end) == (datetime(2026, 12, 2, tzinfo=UTC), THU)
    before = due_period(daily, THU.replace(hour=7, minute=59))
    assert before is not None and before.key == "daily:2026-12-01"  # still the day before's (sent already)


def test_weekly_is_the_iso_week_before_from_monday_at_the_hour() -> None:
    weekly = DigestSchedule("weekly", 6)
    due = due_period(weekly, THU)
    assert due is not None and due.key == "weekly:2026-W48"
    assert (due.start, due.end) == (datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC))
    monday_early = due_period(weekly, datetime(2026, 12, 7, 5, tzinfo=UTC))
    assert monday_early is not None and monday_early.key == "weekly:2026-W48"
    monday_late = due_period(weekly, datetime(2026, 12, 7, 6, tzinfo=UTC))
    assert monday_late is not None and monday_late.key == "weekly:2026-W49"


def test_off_and_periods_before_the_setting_are_not_due() -> None:
    assert due_period(DigestSchedule(), THU) is None
    fresh = DigestSchedule("daily", 8, since=THU.replace(hour=7))
    assert due_period(fresh, THU.replace(hour=7, minute=30)) is None  # 2026-12-01 ended before it was set
    assert due_period(fresh, THU.replace(hour=9)) is not None


def test_settings_round_trip_and_bad_values() -> None:
    schedule = DigestSchedule("weekly", 23, since=THU)
    assert DigestSchedule.from_setting(schedule.to_setting()) == schedule
    assert DigestSchedule.from_setting({"mode": "hourly"}) == DigestSchedule()
    assert DigestSchedule.from_setting(None) == DigestSchedule()
    with pytest.raises(ValueError, match="0–23"):
        DigestSchedule("daily", 24)
