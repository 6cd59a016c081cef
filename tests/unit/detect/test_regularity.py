"""RITA's regularity statistics as polars expressions, and where ours differ."""

from __future__ import annotations

import numpy as np
import polars as pl

from jobs.engines.detect.regularity import mad_score, persistence, skew_score, statistical_score

DAY = 86_400.0


def per_group(values: list[float] | np.ndarray, expr: pl.Expr) -> float:
    """The expression aggregated over one group of `values` (as the beacon engine runs it)."""
    frame = pl.DataFrame({"k": [0] * len(values), "v": np.asarray(values, dtype=np.float64)})
    return float(frame.group_by("k").agg(expr.alias("out"))["out"][0])


def hours(bins: list[int], *, span_hours: int = 24) -> pl.DataFrame:
    """Persistence of one pair with `bins[h]` connections in hour h."""
    ts = [h * 3600.0 + 60.0 * i for h, n in enumerate(bins) for i in range(n)]
    return persistence(pl.DataFrame({"k": [0] * len(ts), "ts": ts}), ["k"], start=0.0, end=span_hours * 3600.0)


def test_a_symmetric_jitter_has_no_skew_and_a_lopsided_one_does() -> None:
    rng = np.random.default_rng(3)
    v = pl.col("v")
    assert per_group(rng.uniform(200, 350, 400), skew_score(v)) > 0.9
    assert per_group(200 + rng.exponential(40, 400), skew_score(v)) < 0.85


def test_a_spread_below_two_percent_of_the_period_is_timer_noise_not_skew() -> None:
    tight = [3600.0, 3600.1, 3600.2, 3600.2, 3603.0, 3600.3, 3600.1]
    assert per_group(tight, skew_score(pl.col("v"))) == 1.0  # RITA's absolute 10 s: 3 s of a 30 s beacon is noise


def test_the_mad_score_falls_with_the_jitter_and_uses_the_default_below_one() -> None:
    v = pl.col("v")
    assert per_group([300.0] * 9, mad_score(v, default=0.0)) == 1.0
    assert 0.8 < per_group(np.random.default_rng(1).uniform(200, 350, 300), mad_score(v, default=0.0)) < 0.9
    assert per_group([0.0, 0.0, 0.5], mad_score(v, default=0.25)) == 0.25


def test_random_arrivals_score_far_below_a_jittered_timer() -> None:
    rng = np.random.default_rng(7)
    score = statistical_score(pl.col("v"), default_mad=1.0)
    assert per_group(rng.uniform(200, 350, 300), score) > 0.85
    assert per_group(rng.exponential(275, 300), score) < 0.6


def test_flat_hours_score_high_bursts_low_and_two_levels_fit_bimodal() -> None:
    assert hours([12] * 24)["histogram"][0] == 1.0
    assert hours([0, 0, 0, 50])["histogram"][0] == 0.0
    # CV alone gives 0.4: RITA's bimodal fit keeps a beacon that slows at night
    assert hours([20] * 12 + [5] * 12)["histogram"][0] == 1.0


def test_the_longest_run_wraps_from_the_end_of_the_span_to_its_start() -> None:
    assert hours([1, 1, 0, 0, 1, 1, 1], span_hours=7)["longest_run"][0] == 5
    assert hours([1] * 6, span_hours=6)["longest_run"][0] == 6
    assert hours([0, 1, 0, 1, 1, 0], span_hours=6)["longest_run"][0] == 2


def test_duration_needs_six_hours_then_takes_coverage_or_consistency() -> None:
    short, long = hours([1] * 5), hours([1] * 13)
    assert short["hours_seen"][0] == 5 and short["duration"][0] == 0.0
    assert long["hours_seen"][0] == 13 and long["duration"][0] == 1.0 and long["coverage"][0] == 0.5
    assert long["hours_total"][0] == 24
