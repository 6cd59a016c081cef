"""RITA's regularity statistics, and where ours differ."""

from __future__ import annotations

import numpy as np

from jobs.engines.detect.regularity import (
    histogram_score,
    hourly_counts,
    longest_run,
    mad_score,
    persistence,
    skew_score,
    statistical_score,
)


def floats(values: list[float]) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


def test_a_symmetric_jitter_has_no_skew_and_a_lopsided_one_does() -> None:
    rng = np.random.default_rng(3)
    symmetric = rng.uniform(200, 350, 400)
    lopsided = 200 + rng.exponential(40, 400)
    assert skew_score(symmetric)[1] > 0.9
    assert skew_score(lopsided)[1] < 0.85


def test_a_spread_below_two_percent_of_the_period_is_timer_noise_not_skew() -> None:
    tight = floats([3600.0, 3600.1, 3600.2, 3600.2, 3603.0, 3600.3, 3600.1])
    assert skew_score(tight) == (0.0, 1.0)  # RITA's absolute 10 s would measure 3 s of noise on a 30 s beacon


def test_the_mad_score_falls_with_the_jitter_and_uses_the_default_below_one() -> None:
    assert mad_score(floats([300.0] * 9), default=0.0)[1] == 1.0
    assert 0.8 < mad_score(np.random.default_rng(1).uniform(200, 350, 300), default=0.0)[1] < 0.9
    assert mad_score(floats([0.0, 0.0, 0.5]), default=0.25)[1] == 0.25


def test_random_arrivals_score_far_below_a_jittered_timer() -> None:
    rng = np.random.default_rng(7)
    timer = statistical_score(rng.uniform(200, 350, 300), default_mad=1.0)
    arrivals = statistical_score(rng.exponential(275, 300), default_mad=1.0)
    assert timer > 0.85 and arrivals < 0.6


def test_hourly_counts_cover_the_span_and_clip_the_edges() -> None:
    counts = hourly_counts(floats([0.0, 10.0, 3700.0, 9000.0, 11_000.0]), 0.0, 10_800.0)
    assert counts.tolist() == [2, 1, 2]


def test_flat_hours_score_high_bursts_low_and_two_levels_fit_bimodal() -> None:
    flat = np.full(24, 12, dtype=np.int64)
    burst = np.zeros(24, dtype=np.int64)
    burst[3] = 200
    day_night = np.array([20] * 12 + [5] * 12, dtype=np.int64)
    assert histogram_score(flat) == 1.0
    assert histogram_score(burst) == 0.0
    assert histogram_score(day_night) == 1.0  # CV alone gives 0.4: RITA's bimodal fit keeps a slow-at-night beacon


def test_the_longest_run_wraps_from_the_end_of_the_span_to_its_start() -> None:
    assert longest_run(np.array([1, 1, 0, 0, 1, 1, 1], dtype=np.int64)) == 5
    assert longest_run(np.array([1] * 6, dtype=np.int64)) == 6
    assert longest_run(np.zeros(4, dtype=np.int64)) == 0


def test_duration_needs_six_hours_then_takes_coverage_or_consistency() -> None:
    short = persistence(floats([h * 3600.0 for h in range(5)]), 0.0, 86_400.0)
    long = persistence(floats([h * 3600.0 for h in range(13)]), 0.0, 86_400.0)
    assert short.hours_seen == 5 and short.duration == 0.0
    assert long.hours_seen == 13 and long.duration == 1.0 and long.coverage == 0.5
