"""`/api/v1/jobs`: the tenant's job runs, their metrics, and control (retry, cancel, bulk retry).

Roles: viewers read; analysts retry; admins cancel and bulk-act. Every control action is audited.
"""

from __future__ import annotations

from fastapi import APIRouter, Query
from pydantic import BaseModel

from dashboard.api.answers import JobsQueued
from dashboard.api.deps import Caller, DbSession
from jobs.runtime import control, monitor
from jobs.runtime.connections import get_redis
from jobs.runtime.windows import parse_moment
from jobs.worker import CRON_JOBS
from models.errors import Invalid
from models.ops import JOB_STATUSES
from models.public.ops import JobMetricsPublic, JobRunPublic
from models.queries import job_metrics
from models.queries import jobs as job_queries
from models.types import utcnow

router = APIRouter(prefix="/jobs")


class BulkRetry(BaseModel):
    expected: int | None = None


def _filter(status: str | None, name: str | None, trigger: str | None, since: str | None) -> job_queries.RunFilter:
    if status is not None and status not in JOB_STATUSES:
        raise Invalid(f"status must be one of {', '.join(JOB_STATUSES)}")
    moment = parse_moment(since, "since") if since else None
    return job_queries.RunFilter(status=status, name=name, trigger=trigger, since=moment)


@router.get("")
async def list_jobs(
    caller: Caller, session: DbSession, status: str | None = None, name: str | None = None,
    trigger: str | None = None, since: str | None = None, sort: str = "newest",
    limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0),
) -> list[JobRunPublic]:
    """Job runs of the caller's tenant, newest first unless `sort` (newest, oldest, name, status, attempts) says
    otherwise; `trigger` matches part of triggered_by, `since` is ISO 8601."""
    where = _filter(status, name, trigger, since)
    if sort not in job_queries.RUN_SORTS:
        raise Invalid(f"sort must be one of {', '.join(job_queries.RUN_SORTS)}")
    runs = await job_queries.list_job_runs(session, tenant_id=caller.tenant_id, where=where, limit=limit,
                                           offset=offset, sort=sort)
    return [JobRunPublic.of(run) for run in runs]


@router.get("/metrics")
async def metrics(caller: Caller, session: DbSession) -> JobMetricsPublic:
    """Counts by status for 1 h / 24 h / 7 d, success rate, p50/p95 per job name, the depth of each queue
    (`queues`: depth = due + deferred; `queue_depth` = both queues' depth), workers and the queues they serve,
    cron."""
    now = utcnow()
    body = await job_metrics.run_metrics(session, tenant_id=caller.tenant_id, now=now)
    redis = get_redis()
    workers = await monitor.live_workers(redis, now=now)
    queues = await monitor.queue_depths(redis)
    return JobMetricsPublic(**body, queue_depth=sum(q["depth"] for q in queues), queues=queues, workers=workers,
                            scheduled=monitor.cron_schedule(CRON_JOBS, now=now), generated_at=now)


@router.post("/retry-failed")
async def retry_failed(caller: Caller, body: BulkRetry) -> JobsQueued:
    """Admins: retry every failed run not yet retried; `expected` guards against a changed count."""
    caller.require("admin")
    runs = await control.bulk_retry_failed(tenant_id=caller.tenant_id, actor=caller.actor, expected=body.expected)
    return JobsQueued(job_ids=[run.id for run in runs])


@router.get("/{job_run_id}")
async def get_job(caller: Caller, session: DbSession, job_run_id: int) -> JobRunPublic:
    """One job run of the caller's tenant (404 for any other tenant's id)."""
    run = await job_queries.get_job_run(session, tenant_id=caller.tenant_id, job_run_id=job_run_id)
    return JobRunPublic.of(run)


@router.post("/{job_run_id}/retry")
async def retry_job(caller: Caller, job_run_id: int) -> JobRunPublic:
    """Analysts: queue a failed, cancelled or lost run again; answers the new run (409 for other statuses)."""
    caller.require("analyst")
    run = await control.retry_run(tenant_id=caller.tenant_id, job_run_id=job_run_id, actor=caller.actor)
    return JobRunPublic.of(run)


@router.post("/{job_run_id}/cancel")
async def cancel_job(caller: Caller, job_run_id: int) -> JobRunPublic:
    """Admins: abort a queued, retrying or running run; answers the run."""
    caller.require("admin")
    run = await control.cancel_run(tenant_id=caller.tenant_id, job_run_id=job_run_id, actor=caller.actor)
    return JobRunPublic.of(run)
