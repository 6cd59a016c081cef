"""One window of one sensor through every detector, with the state that carries from window to window.

    findings, state = detect_window(state, frame, window_end=…)

`frame` is the window's detection frame (`frame.prepare`). The state is plain data the caller persists
between windows (frames and dicts, a day of them at most): the beacon history, the authentication attempts
brute force looks back on, the actors recently seen scanning or guessing (never beacons), the beacon habits,
the beacons already reported (one event per beacon and quarter day, not per window), and when the sensor was
first seen (its first day is the learning day of the habits).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl

from jobs.engines.detect.beacon_findings import beacon_finding
from jobs.engines.detect.beacons import BeaconParams, extend_history, score_beacons
from jobs.engines.detect.campaigns import CampaignParams, auth_rows, find_campaigns
from jobs.engines.detect.habits import is_habit, remember_habits
from jobs.engines.detect.intrusions import find_intrusions
from jobs.engines.detect.records import Finding, number


@dataclass(frozen=True, slots=True)
class DetectionParams:
    """Parameters of every detector, and the learning day of a new sensor."""

    campaigns: CampaignParams = field(default_factory=CampaignParams)
    beacons: BeaconParams = field(default_factory=BeaconParams)
    # a sensor's first day shows its habits: the beacons it finds then are known once the day is over
    learning_s: float = 86_400.0
    # a continuing beacon is one open incident, not an event a window: it is reported again when its risk
    # rises, else every quarter day so its incident's last-seen and statistics stay fresh
    beacon_refresh_s: float = 21_600.0


@dataclass(frozen=True, slots=True)
class DetectionState:
    """What one sensor's detection carries from one window to the next."""

    observed_from: float | None = None
    beacon_history: pl.DataFrame | None = None
    auth_history: pl.DataFrame | None = None
    excluded: Mapping[str, float] = field(default_factory=dict)
    habits: Mapping[str, float] = field(default_factory=dict)
    reported: Mapping[str, tuple[float, float]] = field(default_factory=dict)


def detect_window(state: DetectionState, frame: pl.DataFrame, *, window_end: float,
                  params: DetectionParams | None = None) -> tuple[list[Finding], DetectionState]:
    """The findings of one window (scans, brute force, intrusions, beacons) and the state after it."""
    params = params or DetectionParams()
    if frame.height == 0:
        return [], state
    observed_from = state.observed_from if state.observed_from is not None else number(frame["ts"].min())
    campaigns = find_campaigns(frame, params.campaigns, history=state.auth_history)
    intrusions = find_intrusions(frame, state.auth_history, params.campaigns)
    lookback = window_end - params.campaigns.brute_lookback_s
    attempts = auth_rows(frame, params.campaigns)
    auth = attempts if state.auth_history is None else pl.concat([state.auth_history, attempts])
    excluded = _excluded(state.excluded, campaigns, now=window_end, keep_s=params.beacons.history_s)
    history = extend_history(state.beacon_history, frame, now=window_end, params=params.beacons)
    start = max(observed_from, window_end - params.beacons.history_s)
    beacons = score_beacons(history, start=start, end=window_end, touched=frame, exclude=excluded.keys(),
                            params=params.beacons)
    learning_end = observed_from + params.learning_s
    found = [beacon_finding(b, habitual=is_habit(b, state.habits, now=window_end, learning_end=learning_end,
                                                  params=params.beacons)) for b in beacons]
    fresh, reported = _fresh(found, state.reported, now=window_end, params=params)
    after = DetectionState(
        observed_from=observed_from, beacon_history=history, auth_history=auth.filter(pl.col("ts") >= lookback),
        excluded=excluded, habits=remember_habits(state.habits, beacons), reported=reported,
    )
    return [*campaigns, *intrusions, *fresh], after


def _fresh(beacons: list[Finding], reported: Mapping[str, tuple[float, float]], *, now: float,
           params: DetectionParams) -> tuple[list[Finding], dict[str, tuple[float, float]]]:
    """The beacon findings worth an event (new, riskier than before, or due for a refresh), and the report
    book after them: pair → (highest risk reported, when last reported)."""
    keep_s = params.beacons.history_s + params.beacon_refresh_s
    book = {key: seen for key, seen in reported.items() if seen[1] >= now - keep_s}
    fresh = []
    for finding in beacons:
        key = f"{finding.actor}→{finding.target}|{finding.service}"
        risk, when = book.get(key, (-1.0, -float("inf")))
        if finding.risk > risk + 1.0 or now - when >= params.beacon_refresh_s:
            fresh.append(finding)
            book[key] = (max(risk, finding.risk), now)
    return fresh, book


def _excluded(excluded: Mapping[str, float], campaigns: list[Finding], *, now: float,
              keep_s: float) -> dict[str, float]:
    """Outside actors that scanned or guessed within the beacon history, and the pairs of home hosts' campaigns:
    they never qualify as beacons (see `score_beacons`)."""
    found = {key: seen for key, seen in excluded.items() if seen >= now - keep_s}
    for finding in campaigns:
        for actor in finding.facts.get("scanners", ()):
            found[actor] = now
        if finding.direction != "inbound":
            found.update({f"{finding.actor}→{host}": now for host in finding.hosts})
    return found
