"""The two ARQ queues and which jobs go where (issue 20 item 2).

- `sg:interactive`: work a person is waiting for: ping, policy generation, drift of one window, GitOps,
  monitor mode, notifications. Never behind an ingestion backlog.
- `sg:bulk`: ingestion and what it sets off: uploads, snapshot builds, incident detection, baselines,
  retention, drift over many windows.

The rule, in `queue_for`: a job goes to the queue QUEUE_OF names, except that work queued by a job running
on the bulk queue stays on the bulk queue (a backlog's follow-ups, e.g. the drift runs of 80 freshly built
windows, are part of the backlog), and a caller may ask for the bulk queue for a fan-out over many windows.
"""

from __future__ import annotations

from contextvars import ContextVar

INTERACTIVE = "sg:interactive"
BULK = "sg:bulk"
QUEUES = (INTERACTIVE, BULK)
LABELS = {INTERACTIVE: "interactive", BULK: "bulk"}

QUEUE_OF: dict[str, str] = {
    "ping": INTERACTIVE,
    "generate_policies": INTERACTIVE,
    "detect_drift": INTERACTIVE,
    "sync_gitops": INTERACTIVE,
    "track_pull_requests": INTERACTIVE,
    "monitor_window": INTERACTIVE,
    "ingest_flows": BULK,
    "build_snapshot": BULK,
    "detect_incidents": BULK,
    "refresh_baselines": BULK,
    "cleanup_retention": BULK,
}
# Cron entries run on the worker of their queue (ARQ queues a cron job on the queue of the worker that has it).
CRON_QUEUE_OF: dict[str, str] = {
    "sweep_lost_runs": INTERACTIVE,
    "schedule_monitor": INTERACTIVE,
    "schedule_pull_tracking": INTERACTIVE,
    "drain_notifications": INTERACTIVE,
    "send_report_digests": BULK,
    "schedule_baseline_refresh": BULK,
    "schedule_window_builds": BULK,
    "schedule_retention": BULK,
}

# The queue of the job running in this task (set by the job wrappers), None outside a job.
current_queue: ContextVar[str | None] = ContextVar("sg_current_queue", default=None)


def queue_for(name: str, *, many: bool = False) -> str:
    """The queue job `name` goes to when queued now (see the module doc); a name the table lacks (a test's
    job) is interactive."""
    queue = QUEUE_OF.get(name, INTERACTIVE)
    if many or current_queue.get() == BULK:
        return BULK
    return queue


def label_of(queue: str) -> str:
    """"interactive" or "bulk" for a queue's Redis name."""
    return LABELS.get(queue, queue)
