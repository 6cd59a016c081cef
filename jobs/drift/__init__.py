"""The pure drift engine: baselines, detection, risk scoring, explanations and whitelisting.

Entry point: `analyze(current, previous, baseline, *, feedback, whitelist, criticality, now)`.
"""

from jobs.drift.baseline import Baseline, BaselineOrderError, build_baseline, update_baseline
from jobs.drift.beacon import BeaconParams, measure_starts
from jobs.drift.detect import DetectParams
from jobs.drift.engine import analyze
from jobs.drift.records import DriftEventRecord, Reason, Snapshot, Verdict
from jobs.drift.whitelist import WhitelistEntry

__all__ = [
    "Baseline",
    "BaselineOrderError",
    "BeaconParams",
    "DetectParams",
    "DriftEventRecord",
    "Reason",
    "Snapshot",
    "Verdict",
    "WhitelistEntry",
    "analyze",
    "build_baseline",
    "measure_starts",
    "update_baseline",
]
