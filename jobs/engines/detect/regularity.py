"""The regularity statistics of a beacon, after RITA's beacon analyzer (activecm/rita, analysis/beacons.go),
as polars expressions and frame functions, so every candidate pair of a window is scored at once.

- timestamp score: mean of the Bowley-skew score (1 - |skew| of the intervals: a jittered timer is
  symmetric) and the MAD score ((median - MAD) / median of the intervals: a timer keeps close to its period);
- data-size score: the same two on the originator's bytes per connection;
- histogram score: the connections per hour over the span, the better of a flatness score (1 - coefficient
  of variation) and a bimodal fit (hours fall into at most two count levels: a beacon that slows at night);
- duration score: once seen in `min_hours` hours, the better of coverage (first to last connection over the
  span) and consistency (the longest run of hours with connections, wrapping around, over `ideal_run_hours`).

Where we differ, and why:
- Skew is measured when the quartile spread is at least 2 % of the median, not RITA's absolute 10 s: below
  that the spread is timer noise at any period, while 10 s is most of the jitter of a 30 s beacon and none of
  an hourly one.
- A data-size score over payloads that are all zero (SYNs nobody answered, empty pings) is "no evidence", not
  RITA's 0.5; the caller leaves it out of the mean instead of letting it pull a down C2 server's score.
Quartiles are linear interpolations (numpy's default); RITA takes medians of halves: the same on long series.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

import polars as pl

SKEW_MIN_RELATIVE_IQR: Final = 0.02
MODE_SENSITIVITY: Final = 0.05  # RITA's histogram_mode_sensitivity: bars within 5 % of the tallest are one level
BIMODAL_MIN_HOURS: Final = 11  # RITA's histogram_bimodal_min_hours_seen: fewer bars always fit two levels
BIMODAL_OUTLIERS: Final = 1  # RITA's histogram_bimodal_outlier_removal
MIN_HOURS: Final = 6  # RITA's duration_min_hours_seen
IDEAL_RUN_HOURS: Final = 12  # RITA's duration_consistency_ideal_hours_seen


def skew_score(values: pl.Expr) -> pl.Expr:
    """Per group: 1 - |Bowley skewness| of the values; 1 when their spread is too small to have a shape."""
    q1, q2, q3 = values.quantile(0.25, "linear"), values.median(), values.quantile(0.75, "linear")
    spread = q3 - q1
    measurable = (spread > 0) & (spread >= SKEW_MIN_RELATIVE_IQR * q2.abs()) & (q2 != q1) & (q2 != q3)
    return pl.when(measurable).then(1.0 - ((q1 + q3 - 2.0 * q2) / spread).abs().clip(0.0, 1.0)).otherwise(1.0)


def mad_score(values: pl.Expr, *, default: float) -> pl.Expr:
    """Per group: (median - median absolute deviation) / median, clipped to [0, 1]; `default` below a median of 1."""
    median = values.median()
    mad = (values - median).abs().median()
    return pl.when(median >= 1.0).then(((median - mad) / median).clip(0.0, 1.0)).otherwise(default)


def statistical_score(values: pl.Expr, *, default_mad: float) -> pl.Expr:
    """Per group: RITA's score of one series, the mean of its skew score and its MAD score."""
    return (skew_score(values) + mad_score(values, default=default_mad)) / 2.0


def hour_bins(start: float, end: float) -> int:
    """Hourly bins of the span [start, end]: at least one; the last may be partial."""
    return max(1, math.ceil((end - start) / 3600.0))


def persistence(rows: pl.DataFrame, keys: Sequence[str], *, start: float, end: float) -> pl.DataFrame:
    """Per key of `rows` (which need `ts`): hours_seen, hours_total, longest_run, coverage, histogram, duration."""
    bins = hour_bins(start, end)
    keys = list(keys)
    hour = ((pl.col("ts") - start) // 3600.0).clip(0, bins - 1).cast(pl.Int64)
    hourly = rows.group_by([*keys, hour.alias("bin")]).agg(pl.len().alias("c")).sort([*keys, "bin"])
    counts = hourly.group_by(keys).agg(
        pl.len().alias("hours_seen"), pl.col("c").cast(pl.Float64).sum().alias("total"),
        (pl.col("c").cast(pl.Float64) ** 2).sum().alias("squares"), pl.col("c").max().alias("peak"))
    mean = pl.col("total") / bins
    cv = ((pl.col("squares") / bins - mean**2).clip(0.0, None)).sqrt() / mean
    flat = pl.when(cv > 1.0).then(0.0).otherwise(1.0 - cv)
    spans = rows.group_by(keys).agg(pl.col("ts").min().alias("first"), pl.col("ts").max().alias("last"))
    coverage = ((pl.col("last") - pl.col("first")) / max(end - start, 1.0)).clip(None, 1.0)
    run = pl.col("longest_run")
    duration = pl.when(pl.col("hours_seen") >= MIN_HOURS).then(
        pl.max_horizontal(coverage, (run / IDEAL_RUN_HOURS).clip(None, 1.0))).otherwise(0.0)
    joined = counts.join(_longest_runs(hourly, keys, bins), on=keys).join(
        _bimodal(hourly, counts, keys), on=keys).join(spans, on=keys)
    return joined.select(
        *keys, "hours_seen", pl.lit(bins).alias("hours_total"), "longest_run", coverage.round(3).alias("coverage"),
        pl.max_horizontal(flat, pl.col("bimodal")).round(3).alias("histogram"), duration.round(3).alias("duration"))


def _longest_runs(hourly: pl.DataFrame, keys: list[str], bins: int) -> pl.DataFrame:
    """Per key, the longest run of consecutive hours with connections, wrapping from the last hour to the first."""
    runs = hourly.with_columns((pl.col("bin").diff().over(keys) != 1).fill_null(True).cum_sum().over(keys).alias("run"))
    lengths = runs.group_by([*keys, "run"]).agg(pl.len().alias("n"), pl.col("bin").min().alias("lo"),
                                                pl.col("bin").max().alias("hi"))
    per_key = lengths.group_by(keys).agg(
        pl.col("n").max().alias("inner"), pl.col("n").filter(pl.col("lo") == 0).sum().alias("head"),
        pl.col("n").filter(pl.col("hi") == bins - 1).sum().alias("tail"), pl.col("n").sum().alias("seen"))
    wraps = (pl.col("head") > 0) & (pl.col("tail") > 0) & (pl.col("seen") < bins)
    longest = pl.when(pl.col("seen") >= bins).then(bins).when(wraps).then(
        pl.max_horizontal("inner", pl.col("head") + pl.col("tail"))).otherwise(pl.col("inner"))
    return per_key.select(*keys, longest.cast(pl.Int64).alias("longest_run"))


def _bimodal(hourly: pl.DataFrame, counts: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Per key, RITA's bimodal fit: the share of non-empty hours in the two most common count levels."""
    size = (pl.col("peak").cast(pl.Float64) * MODE_SENSITIVITY).ceil().clip(1.0, None)
    levels = hourly.join(counts.select(*keys, size.alias("size")), on=keys).with_columns(
        ((pl.col("c") / pl.col("size")).floor() * pl.col("size")).alias("level"))
    tally = levels.group_by([*keys, "level"]).agg(pl.len().alias("bars"))
    top = tally.group_by(keys).agg(pl.col("bars").top_k(2).sum().alias("top"), pl.col("bars").sum().alias("seen"))
    fit = (pl.col("top") / (pl.col("seen") - BIMODAL_OUTLIERS).clip(1, None)).clip(None, 1.0)
    return top.select(*keys, pl.when(pl.col("seen") >= BIMODAL_MIN_HOURS).then(fit).otherwise(0.0).alias("bimodal"))
