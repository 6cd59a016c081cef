"""The pure drift engine: baselines, detection, risk scoring, explanations and whitelisting.

Entry point: `analyze(current, previous, baseline, *, feedback, whitelist, criticality, now)`.
"""

from jobs.engines.drift.baseline import Baseline, BaselineOrderError, build_baseline, update_baseline
from jobs.engines.drift.beacon import BeaconParams, measure_starts
from jobs.engines.drift.detect import DetectParams
from jobs.engines.drift.engine import analyze
from jobs.engines.drift.records import DriftEventRecord, Reason, Snapshot, Verdict
from jobs.engines.drift.whitelist import WhitelistEntry

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
