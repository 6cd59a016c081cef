"""deploy/grafana/secureguard.json queries only metrics /metrics exports."""

from __future__ import annotations

import json
import re

from prometheus_client import Counter, Histogram

from jobs.runtime import metrics
from tests.conftest import ROOT

SUFFIXES = {Counter: ("_total",), Histogram: ("_bucket", "_sum", "_count")}


def exported() -> set[str]:
    """Sample names of every counter and histogram of jobs.runtime.metrics, and the scrape-time gauges."""
    names = set(metrics.SCRAPE_GAUGES)
    for value in vars(metrics).values():
        for kind, suffixes in SUFFIXES.items():
            if isinstance(value, kind):
                names |= {value._name + suffix for suffix in suffixes}
    return names


def test_every_dashboard_query_names_exported_metrics_only() -> None:
    dashboard = json.loads((ROOT / "deploy/grafana/secureguard.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    used = {name for expr in exprs for name in re.findall(r"\bsg_[a-z0-9_]+", expr)}
    assert len(exprs) >= 14 and used
    assert used <= exported(), f"not exported: {sorted(used - exported())}"
    # Every exported metric has a panel.
    assert {"sg_jobs_total", "sg_queue_depth", "sg_ingest_rows_total", "sg_drift_events", "sg_live_sessions",
            "sg_notifier_deliveries", "sg_job_duration_seconds_bucket"} <= used
