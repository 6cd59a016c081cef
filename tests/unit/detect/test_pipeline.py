"""A synthetic sensor through every detector, window by window, with its state carried along."""

from __future__ import annotations

import itertools
from collections import Counter

from jobs.engines.detect.incidents import group_incidents
from jobs.engines.detect.pipeline import DetectionState, detect_window
from jobs.engines.detect.ranking import rank_incidents
from jobs.engines.detect.records import Finding

from .builders import DAY, HOUR, SENSOR, START, Flow, by_hour, detection, periodic
from .test_campaigns import internet_scan, ssh_guesses

HOST, C2 = "10.0.0.7", "185.220.101.4"


def run(flows: list[Flow]) -> tuple[list[Finding], DetectionState]:
    state, found = DetectionState(), []
    for end, window in by_hour(detection(flows)):
        findings, state = detect_window(state, window, window_end=end)
        found += findings
    return found, state


def day_of_noise(day: int) -> list[Flow]:
    shift = day * DAY
    scans = [Flow(f.at + shift + h * HOUR, f.src, f.dst, f.port, bytes=0, duration=None, answered=False)
             for h in range(0, 24, 3) for f in internet_scan(40)]
    guesses = [f for h in range(0, 24, 6) for f in ssh_guesses(f"170.64.{h}.9", SENSOR, 15, first=shift + h * HOUR)]
    return scans + guesses


def test_a_day_of_internet_noise_a_beacon_and_a_break_in_rank_as_an_analyst_needs() -> None:
    beacon = periodic(HOST, C2, period=300, jitter=60, hours=20, first=2 * HOUR, orig_bytes=120)
    break_in = [*ssh_guesses("45.9.20.7", SENSOR, 30, first=15 * HOUR), Flow(16 * HOUR, "45.9.20.7", SENSOR, 22,
                                                                              bytes=900_000, duration=3 * HOUR)]
    found, _ = run(day_of_noise(0) + beacon + break_in)
    ranked = rank_incidents(group_incidents(found))
    kinds = [(r.incident.kind, r.incident.direction, r.incident.severity) for r in ranked]
    assert kinds[0] == ("intrusion", "inbound", "critical")
    assert kinds[1][0] == "beacon" and kinds[1][2] in ("medium", "high")
    assert Counter(k[2] for k in kinds)["critical"] == 1
    assert set(kinds[2:]) == {("scan", "inbound", "low"), ("brute_force", "inbound", "low")}
    assert len(ranked) == 4


def test_nothing_critical_without_a_break_in_and_the_beacon_is_a_habit_after_the_learning_day() -> None:
    beacon = periodic(HOST, C2, period=300, jitter=60, hours=44, first=2 * HOUR, orig_bytes=120)
    found, state = run(day_of_noise(0) + day_of_noise(1) + beacon)
    assert all(f.severity != "critical" for f in found)
    beacons = [f for f in found if f.kind == "beacon"]
    assert max(f.risk for f in beacons if f.last_ts < START + DAY) >= 40
    assert all(f.severity == "low" for f in beacons if f.last_ts > START + DAY + HOUR)
    [incident] = [i for i in group_incidents(found) if i.kind == "beacon"]
    assert incident.severity in ("medium", "high")  # its peak stays: the analyst still sees it
    assert state.habits and state.auth_history is not None
    assert state.auth_history["ts"].min() >= START + DAY - HOUR
    assert state.observed_from is not None and state.observed_from < START + HOUR


def test_an_empty_window_changes_nothing() -> None:
    _, state = run(periodic(HOST, C2, period=300, jitter=60, hours=3))
    empty = detection([]).clear()
    again, same = detect_window(state, empty, window_end=START + 5 * HOUR)
    assert again == [] and same is state


def test_a_continuing_beacon_is_reported_again_only_when_riskier_or_every_quarter_day() -> None:
    beacon = periodic(HOST, C2, period=300, jitter=60, hours=20, orig_bytes=120)
    found, state = run(beacon)
    reports = [f for f in found if f.kind == "beacon"]
    windows_qualified = 20 - 1  # it qualifies from its second hour on
    assert 2 <= len(reports) <= 1 + windows_qualified // 6 + 3  # new, a few rises, refreshes: not one a window
    assert len(reports) < windows_qualified
    # a report is due when riskier, or a quarter day after the last (window ends; connections end a bit before)
    assert all(later.risk > earlier.risk or later.last_ts - earlier.last_ts > 5 * HOUR
               for earlier, later in itertools.pairwise(reports))
    assert state.reported
