"""Beacon habits: the learning day, a day of activity, and a vendor moving within its /24."""

from __future__ import annotations

from jobs.engines.detect.beacon_findings import beacon_finding
from jobs.engines.detect.beacons import Beacon
from jobs.engines.detect.habits import habit_key, is_habit, remember_habits

from .builders import DAY, HOUR, START


def beacon(dst: str = "91.228.167.171", *, first: float = START, port: int = 8883, direction: str = "outbound",
           src: str = "147.32.81.167") -> Beacon:
    return Beacon(src=src, dst=dst, dst_port=port, protocol="tcp", direction=direction,  # type: ignore[arg-type]
                  connections=247, beats=247, first_ts=first, last_ts=first + 20 * HOUR, period_s=302.0, jitter=0.0,
                  ts_score=1.0, size_score=1.0, histogram=0.9, duration=1.0, score=0.97, hours_seen=20,
                  hours_total=24, size_mode=31, size_mode_share=0.96, answered_share=1.0)


def test_a_vendor_moving_within_its_slash_24_keeps_the_habit_but_not_to_another_port() -> None:
    assert habit_key(beacon()) == habit_key(beacon("91.228.167.5"))
    assert habit_key(beacon()) != habit_key(beacon("91.228.166.5"))
    assert habit_key(beacon()) != habit_key(beacon(port=443))
    inbound = beacon("147.32.81.167", src="73.54.23.243", direction="inbound")
    assert habit_key(inbound) == "147.32.81.167|73.54.23.0/24|8883/tcp"


def test_what_was_active_during_the_learning_day_is_a_habit_once_the_day_is_over() -> None:
    seen = beacon(first=START + 4 * HOUR)
    habits = remember_habits({}, [seen])
    learning_end = START + DAY
    assert not is_habit(seen, habits, now=START + 20 * HOUR, learning_end=learning_end)
    assert is_habit(seen, habits, now=START + DAY + HOUR, learning_end=learning_end)
    moved = beacon("91.228.167.9", first=START + DAY + 2 * HOUR)  # the same habit at a new address
    assert is_habit(moved, habits, now=START + DAY + 3 * HOUR, learning_end=learning_end)


def test_a_new_beacon_after_learning_stays_news_for_a_day() -> None:
    new = beacon("203.0.113.50", first=START + 3 * DAY)
    habits = remember_habits({}, [new])
    assert not is_habit(new, habits, now=START + 3 * DAY + 20 * HOUR, learning_end=START + DAY)
    assert is_habit(new, habits, now=START + 4 * DAY + HOUR, learning_end=START + DAY)


def test_a_habit_finding_is_low_and_says_so() -> None:
    fresh, known = beacon_finding(beacon()), beacon_finding(beacon(), habitual=True)
    assert fresh.severity in ("medium", "high") and known.severity == "low"
    assert "a known habit" in known.explanation and "a known habit" not in fresh.explanation
