"""Prometheus metrics of the workers and the web app (issue 20 item 6).

Counters and histograms live here and are updated where the work happens (the job wrappers). With several
processes (web, workers), `PROMETHEUS_MULTIPROC_DIR` must name a folder shared by all of them, set before they
start: each process writes its samples there and `/metrics` adds them up (prometheus-client's multiprocess
mode). Gauges that describe the present (queue depth, live sessions, drift events, notifier deliveries) are not
kept here: `/metrics` reads them from Redis and the database at scrape time (dashboard/api/metrics.py).
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Histogram

JOBS = Counter("sg_jobs", "Job runs that ended, by job name, queue and final status "
               "(succeeded, failed, retrying, cancelled, skipped; cron entries end succeeded or failed)",
               ["name", "queue", "status"])
JOB_SECONDS = Histogram("sg_job_duration_seconds", "Run time of job runs that ended, by job name and queue",
                        ["name", "queue"], buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900))
JOB_WAIT_SECONDS = Histogram("sg_job_wait_seconds", "Time from due (enqueued, or deferred until) to start of first "
                             "attempts, by queue",
                             ["queue"], buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300))
INGEST_ROWS = Counter("sg_ingest_rows", "Flow rows read by ingestion, by outcome: accepted, rejected "
                      "(malformed lines) or skipped (valid lines left out, e.g. unsupported records)", ["outcome"])
INGEST_SECONDS = Counter("sg_ingest_seconds", "Seconds spent in ingest_flows runs that succeeded "
                         "(rate(sg_ingest_rows_total) / rate(this) = rows per busy second)")
NOTIFIER = Counter("sg_notifier_drained", "Notifier deliveries handled by the outbox drain, by outcome",
                   ["outcome"])

# Metric names /metrics exports at scrape time (dashboard/api/metrics.py), listed for the dashboard test.
SCRAPE_GAUGES = ("sg_queue_depth", "sg_queue_due", "sg_workers", "sg_live_sessions", "sg_drift_events",
                 "sg_notifier_deliveries", "sg_job_runs_active")


def observe_job(name: str, queue: str, status: str, seconds: float, result: dict[str, Any] | None) -> None:
    """Count one ended run (and what an ingestion or a notifier drain reports in its result)."""
    JOBS.labels(name=name, queue=queue, status=status).inc()
    JOB_SECONDS.labels(name=name, queue=queue).observe(seconds)
    if status != "succeeded" or not result:
        return
    if name == "ingest_flows":
        for outcome in ("accepted", "rejected", "skipped"):
            INGEST_ROWS.labels(outcome=outcome).inc(int(result.get(outcome) or 0))
        INGEST_SECONDS.inc(seconds)
    elif name == "drain_notifications":
        for outcome, count in result.items():
            if isinstance(count, int):
                NOTIFIER.labels(outcome=outcome).inc(count)


def observe_wait(queue: str, seconds: float) -> None:
    """How long a run waited in its queue before a worker started it."""
    JOB_WAIT_SECONDS.labels(queue=queue).observe(max(seconds, 0.0))
