"""Job runs, their metrics and the audit log as answers show them."""

from __future__ import annotations

from typing import Any

from models.ops import AuditLog, JobRun
from models.public.base import IsoText, IsoTime, PublicModel


class JobRunPublic(PublicModel):
    """A job run in REST answers and live `job.updated` events (docs/architecture.md, "REST")."""

    id: int
    name: str
    status: str
    triggered_by: str
    attempts: int
    progress: float
    progress_message: str
    error: str
    params: dict[str, Any]
    result: dict[str, Any]
    arq_job_id: str
    retry_of: int | None
    worker_id: str
    attempt_errors: list[dict[str, Any]]
    enqueued_at: IsoTime | None
    started_at: IsoTime | None
    finished_at: IsoTime | None

    @classmethod
    def of(cls, run: JobRun) -> JobRunPublic:
        """The public view of a stored run."""
        return cls(
            id=run.id, name=run.name, status=run.status, triggered_by=run.triggered_by, attempts=run.attempts,
            progress=run.progress, progress_message=run.progress_message, error=run.error, params=run.params,
            result=run.result, arq_job_id=run.arq_job_id, retry_of=run.retry_of, worker_id=run.worker_id,
            attempt_errors=run.attempt_errors, enqueued_at=run.enqueued_at, started_at=run.started_at,
            finished_at=run.finished_at,
        )


class DurationPublic(PublicModel):
    """p50/p95 seconds of one job name's succeeded runs."""

    name: str
    runs: int
    p50_seconds: float
    p95_seconds: float


class WorkerPublic(PublicModel):
    """A worker with a live heartbeat."""

    id: str
    last_seen: IsoText
    seconds_ago: float
    # "interactive", "bulk" or "interactive,bulk"
    queues: str = ""


class QueuePublic(PublicModel):
    """One ARQ queue: every job in it (depth), those due now (waiting or running) and those deferred."""

    queue: str
    name: str
    depth: int
    due: int
    deferred: int


class ScheduledPublic(PublicModel):
    """A cron job and its next run ('' when it has none)."""

    name: str
    next_run: str


class JobMetricsPublic(PublicModel):
    """`/jobs/metrics`: counts per status for 1h/24h/7d, success rates, durations, queue, workers, cron."""

    counts: dict[str, dict[str, int]]
    success_rate: dict[str, float | None]
    durations: list[DurationPublic]
    queue_depth: int
    queues: list[QueuePublic] = []
    workers: list[WorkerPublic]
    scheduled: list[ScheduledPublic]
    generated_at: IsoTime


class AuditPublic(PublicModel):
    """An audit entry as the API answers it (and the CSV export's columns)."""

    id: int
    created_at: IsoTime
    actor: str
    action: str
    target: str
    before: dict[str, Any]
    after: dict[str, Any]
    client_ip: str

    @classmethod
    def of(cls, entry: AuditLog) -> AuditPublic:
        """The public view of a stored entry."""
        return cls(id=entry.id, created_at=entry.created_at, actor=entry.actor, action=entry.action,
                   target=entry.target, before=entry.before, after=entry.after, client_ip=entry.client_ip)
