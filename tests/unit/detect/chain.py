"""The pure engines in the jobs' order, window by window, as the product will run them (docs/detection.md):

    detect_window → (exposed services kept a day) → drift analyze, deferring to detection →
    findings_of_drift → group_incidents → rank_incidents per sensor-day

Shared by `test_goals.py` and `tests/bench/bench_detection.py --with-drift`. Hourly windows aligned to the
epoch hour, as the snapshot builder and the scorecard align them.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl

from jobs.engines.detect.drift_findings import excluded_until, exposed_keys, findings_of_drift
from jobs.engines.detect.frame import prepare
from jobs.engines.detect.home import HomeNetworks, exposed_services
from jobs.engines.detect.incidents import group_incidents
from jobs.engines.detect.pipeline import DetectionState, detect_window
from jobs.engines.detect.ranking import Ranked, rank_incidents
from jobs.engines.detect.records import Finding
from jobs.engines.drift import Baseline, Snapshot, analyze, update_baseline
from jobs.engines.drift.defer import ServiceKey
from jobs.engines.enrich import Enrichment, load_tables, lookup_addresses
from jobs.engines.snapshot.builder import WindowSnapshot, build_snapshots

HOUR, DAY = 3600.0, 86_400.0
# whitelist expiry is all `now` decides in analyze; no whitelist is given here
NOW = datetime(2030, 1, 1, tzinfo=UTC)


@dataclass
class ChainRun:
    """What the chain produced over a capture: detection's findings, drift's events as findings, counts."""

    detections: list[Finding] = field(default_factory=list)
    drift: list[Finding] = field(default_factory=list)
    drift_events: int = 0  # events analyze returned, deferral applied
    undeferred_events: int = 0  # what analyze returns without the deferral (counted when asked)
    start: float = 0.0
    end: float = 0.0

    @property
    def findings(self) -> list[Finding]:
        return [*self.detections, *self.drift]


def _windows(frame: pl.DataFrame) -> dict[float, pl.DataFrame]:
    hours = frame.with_columns((pl.col("ts") // HOUR * HOUR).alias("_w"))
    return {float(w): part.drop("_w") for (w,), part in hours.partition_by("_w", as_dict=True).items()}


def _snapshot(built: WindowSnapshot) -> Snapshot:
    return Snapshot(built.window_start, built.window_end, tuple(built.nodes), tuple(built.edges))


def owners(addresses: Collection[str]) -> dict[str, Enrichment]:
    """What the job reads from the tenant's enrichment store: the same offline tables' answers, here looked up
    directly (ingest stores exactly these for every global address it meets)."""
    wanted = list(addresses)
    found = lookup_addresses(load_tables(), wanted)
    return {address: answer for address, answer in zip(wanted, found, strict=True) if answer != (None, None, None)}


def run_chain(canonical: pl.DataFrame, home: HomeNetworks, *, count_undeferred: bool = False) -> ChainRun:
    """Every hourly window of `canonical` through detection and drift, the state of both carried along."""
    frame = prepare(canonical, home).sort("ts")
    by_window = _windows(frame)
    snapshots = {built.window_start.timestamp(): _snapshot(built) for built in build_snapshots(canonical).values()}
    run = ChainRun(start=float(frame["ts"].min()), end=float(frame["ts"].max()))  # type: ignore[arg-type]
    state, baseline, previous = DetectionState(), Baseline(), None
    exposed_seen: dict[ServiceKey, float] = {}
    for start in sorted(by_window.keys() | snapshots.keys()):
        end = start + HOUR
        window = by_window.get(start)
        if window is not None:
            found, state = detect_window(state, window, window_end=end)
            run.detections += found
            # the job keeps the exposed services a day in its state
            exposed_seen |= dict.fromkeys(exposed_keys(exposed_services(window)), end)
            exposed_seen = {key: seen for key, seen in exposed_seen.items() if seen > end - DAY}
        current = snapshots.get(start)
        if current is None:
            continue
        events = analyze(current, previous, baseline, now=NOW, home=home, excluded=excluded_until(state.excluded),
                         exposed=set(exposed_seen), enrich=owners)
        if count_undeferred:
            run.undeferred_events += len(analyze(current, previous, baseline, now=NOW))
        run.drift_events += len(events)
        run.drift += findings_of_drift(events, home=home, window_start=start, window_end=end)
        baseline, previous = update_baseline(baseline, current), current
    return run


def sensor_days(start: float, end: float) -> int:
    """Sensor-days from the first flow: a partial last day counts (28 h are 2), a tail under an hour does not."""
    return max(1, math.ceil((end - start - HOUR) / DAY))


def day_rankings(findings: Sequence[Finding], start: float, end: float) -> list[list[Ranked]]:
    """Per sensor-day, the incidents an analyst sees at its end (findings reported by then, active that day), in
    rank order; the last day takes the tail shorter than an hour (as `bench_detection.day_bounds`)."""
    days = sensor_days(start, end)
    found = []
    for day in range(days):
        day_start, day_end = start + day * DAY, end + 1 if day == days - 1 else start + (day + 1) * DAY
        incidents = group_incidents([f for f in findings if f.last_ts < day_end])
        found.append(rank_incidents([i for i in incidents if i.last_seen >= day_start]))
    return found


def strip_labels(text: str) -> tuple[str, list[str]]:
    """The conn.log without its last two columns (`label`, `detailedlabel`), and the labels of its data lines."""
    kept, labels = [], []
    for line in text.splitlines():
        if line.startswith(("#fields", "#types")):
            line = "\t".join(line.split("\t")[:-2])
        elif line and not line.startswith("#"):
            parts = line.split("\t")
            labels.append(parts[-2])
            line = "\t".join(parts[:-2])
        kept.append(line)
    stripped = "\n".join(kept) + "\n"
    if "Malicious" in stripped or "detailedlabel" in stripped:
        raise AssertionError("ground truth leaked into the text the product parses")
    return stripped, labels
