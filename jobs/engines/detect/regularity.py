"""The regularity statistics of a beacon, after RITA's beacon analyzer (activecm/rita, analysis/beacons.go).

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
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
SKEW_MIN_RELATIVE_IQR: Final = 0.02
MODE_SENSITIVITY: Final = 0.05  # RITA's histogram_mode_sensitivity: bars within 5 % of the tallest are one level
BIMODAL_MIN_HOURS: Final = 11  # RITA's histogram_bimodal_min_hours_seen: fewer bars always fit two levels
BIMODAL_OUTLIERS: Final = 1  # RITA's histogram_bimodal_outlier_removal


def skew_score(values: Floats) -> tuple[float, float]:
    """(Bowley skewness, 1 - |skewness|) of at least 3 values; a spread too small to measure is no skew."""
    q1, q2, q3 = (float(q) for q in np.quantile(values, (0.25, 0.5, 0.75)))
    spread = q3 - q1
    if spread <= 0 or spread < SKEW_MIN_RELATIVE_IQR * abs(q2) or q2 in (q1, q3):
        return 0.0, 1.0
    skew = (q1 + q3 - 2.0 * q2) / spread
    return skew, 1.0 - min(1.0, abs(skew))


def mad_score(values: Floats, *, default: float) -> tuple[float, float]:
    """(median absolute deviation, (median - MAD) / median clipped to [0, 1]); `default` when the median < 1."""
    median = float(np.median(values))
    mad = float(np.median(np.abs(values - median)))
    if median < 1.0:
        return mad, default
    return mad, max(0.0, (median - mad) / median)


def statistical_score(values: Floats, *, default_mad: float) -> float:
    """RITA's score of one series: the mean of its skew score and its MAD score."""
    return (skew_score(values)[1] + mad_score(values, default=default_mad)[1]) / 2.0


def hourly_counts(ts: Floats, start: float, end: float) -> npt.NDArray[np.int64]:
    """Connections per hour from `start` to `end` (at least one bin; the last one may be partial)."""
    bins = max(1, math.ceil((end - start) / 3600.0))
    index = np.clip(((ts - start) // 3600.0).astype(np.int64), 0, bins - 1)
    return np.bincount(index, minlength=bins).astype(np.int64)


def histogram_score(counts: npt.NDArray[np.int64]) -> float:
    """The better of flatness (1 - CV of the hourly counts) and the bimodal fit of the non-empty hours."""
    mean = float(counts.mean())
    if mean <= 0:
        return 0.0
    cv = float(counts.std()) / mean
    flat = 0.0 if cv > 1.0 else 1.0 - cv
    bars = counts[counts > 0]
    if len(bars) < BIMODAL_MIN_HOURS:
        return round(flat, 3)
    size = math.ceil(float(bars.max()) * MODE_SENSITIVITY)
    _, levels = np.unique((bars // size) * size, return_counts=True)
    top = np.sort(levels)[::-1][:2].sum()
    bimodal = min(1.0, float(top) / max(len(bars) - BIMODAL_OUTLIERS, 1))
    return round(max(flat, bimodal), 3)


def longest_run(counts: npt.NDArray[np.int64]) -> int:
    """The longest run of consecutive non-empty hours, wrapping from the end of the span to its start."""
    seen = counts > 0
    if seen.all():
        return len(seen)
    doubled = np.concatenate([seen, seen])
    best = run = 0
    for hit in doubled:
        run = run + 1 if hit else 0
        best = max(best, run)
    return min(best, len(seen))


@dataclass(frozen=True, slots=True)
class Persistence:
    """How long and how evenly a pair kept connecting over the span."""

    hours_seen: int
    hours_total: int
    longest_run: int
    coverage: float
    histogram: float
    duration: float


def persistence(ts: Floats, start: float, end: float, *, min_hours: int = 6, ideal_run_hours: int = 12) -> Persistence:
    """Histogram and duration scores of sorted start times over the span [start, end]."""
    counts = hourly_counts(ts, start, end)
    seen, run = int((counts > 0).sum()), longest_run(counts)
    coverage = min(1.0, (float(ts[-1]) - float(ts[0])) / max(end - start, 1.0))
    duration = max(coverage, min(1.0, run / ideal_run_hours)) if seen >= min_hours else 0.0
    return Persistence(seen, len(counts), run, round(coverage, 3), histogram_score(counts), round(duration, 3))
