"""The pure drift engine: baselines, detection, risk scoring, explanations and whitelisting.

Entry point: `analyze(current, previous, baseline, *, feedback, whitelist, criticality, now, home, excluded,
exposed)`. Periodic connections (beacons) are the detection engine's (`jobs.engines.detect`); drift defers to
it (`jobs.engines.drift.defer`).
"""

from jobs.engines.drift.baseline import Baseline, BaselineOrderError, build_baseline, update_baseline
from jobs.engines.drift.defer import Deferral
from jobs.engines.drift.detect import DetectParams
from jobs.engines.drift.engine import analyze
from jobs.engines.drift.records import DriftEventRecord, Reason, Snapshot, Verdict
from jobs.engines.drift.whitelist import WhitelistEntry

__all__ = [
    "Baseline",
    "BaselineOrderError",
    "Deferral",
    "DetectParams",
    "DriftEventRecord",
    "Reason",
    "Snapshot",
    "Verdict",
    "WhitelistEntry",
    "analyze",
    "build_baseline",
    "update_baseline",
]
