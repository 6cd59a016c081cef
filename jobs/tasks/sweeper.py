"""The sweeper (cron, every minute): runs whose worker died are marked lost and re-queued once.

A run is lost when it is `running` on a worker whose heartbeat key expired, or when ARQ no longer
holds its job (Redis flushed, in-progress key expired) well after it was queued or started. The
second holds for a `running` run on a live worker too: a job whose end could not be recorded (its
database restarted as it finished, so the row stayed `running`) is over in ARQ and would never end. And a
`queued` run is lost when a worker took it off ARQ's queue but died before the job recorded its start: ARQ's
in-progress key then keeps every other worker off it for the longest job timeout (30 min).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from arq.constants import default_queue_name, in_progress_key_prefix, job_key_prefix, retry_key_prefix
from redis.asyncio import Redis

from jobs.runtime.control import requeue
from jobs.runtime.events import publish_event
from jobs.runtime.monitor import live_worker_ids
from jobs.runtime.queues import QUEUES
from jobs.runtime.tracking import cancel_request_key
from models.db import session_scope
from models.ops import JobRun
from models.public.ops import JobRunPublic
from models.queries import jobs as job_queries
from models.queries import tenancy
from models.types import utcnow

SWEEPER = "sweeper"
# ARQ may hold a job key a moment after our row exists (enqueue commits the row first).
GRACE = timedelta(seconds=60)
# ARQ sets a job's try counter to expire in this many seconds the moment a worker takes the job (arq/worker.py,
# run_job); tests/unit/test_sweeper_claims.py checks the installed ARQ still does.
ARQ_RETRY_KEY_SECONDS = 88400
ACTIVE = ("queued", "running", "retrying")


async def _arq_holds(redis: Redis, arq_job_id: str) -> bool:
    return bool(await redis.exists(job_key_prefix + arq_job_id, in_progress_key_prefix + arq_job_id))


async def claimed_at(redis: Redis, arq_job_id: str) -> datetime | None:
    """When a worker took the job off ARQ's queue (read from the age of ARQ's try counter, which the taking
    worker sets within a moment of its in-progress key); None while no worker holds it."""
    if not await redis.exists(in_progress_key_prefix + arq_job_id):
        return None
    remaining = int(await redis.ttl(retry_key_prefix + arq_job_id))
    if remaining < 0:
        return utcnow()  # taken this instant: the counter is set right after the in-progress key
    return utcnow() - timedelta(seconds=ARQ_RETRY_KEY_SECONDS - remaining)


async def is_lost(redis: Redis, run: JobRun, *, live: set[str], now: datetime) -> bool:
    """Whether nothing will ever finish `run`."""
    if run.status == "running" and run.worker_id and run.worker_id not in live:
        return True
    since = run.started_at or run.enqueued_at
    if since < now - GRACE and not await _arq_holds(redis, run.arq_job_id):
        return True
    if run.status != "queued":
        return False
    # Taken by a worker that never started it: a live one records the start within milliseconds.
    taken = await claimed_at(redis, run.arq_job_id)
    return taken is not None and taken < now - GRACE


async def _forget_in_arq(redis: Redis, arq_job_id: str) -> None:
    # Without this ARQ itself would re-run the job once its in-progress key expires: a second copy.
    for queue in (*QUEUES, default_queue_name):  # ARQ's default queue: runs queued before the two queues
        await redis.zrem(queue, arq_job_id)
    await redis.delete(job_key_prefix + arq_job_id, in_progress_key_prefix + arq_job_id, retry_key_prefix + arq_job_id)


async def give_up(redis: Redis, run: JobRun) -> JobRun | None:
    """Close a lost run (cancelled if a user asked) and re-queue it unless it was itself a re-queue."""
    cancelled = bool(await redis.exists(cancel_request_key(run.id or 0)))
    status = "cancelled" if cancelled else "lost"
    where = f"on worker {run.worker_id}" if run.worker_id else "in the queue"
    await _forget_in_arq(redis, run.arq_job_id)
    async with session_scope() as session:
        closed = await job_queries.mark_job_finished(
            session, tenant_id=run.tenant_id, job_run_id=run.id or 0, status=status,
            error=f"lost {where}: its worker stopped before it finished",
        )
        repeated = await job_queries.has_retry(session, tenant_id=run.tenant_id, job_run_id=run.id or 0)
    await publish_event(redis, tenant_id=run.tenant_id, kind="job.updated", data=JobRunPublic.of(closed).model_dump())
    if cancelled or repeated or run.triggered_by.startswith(SWEEPER):
        return None
    return await requeue(closed, triggered_by=f"{SWEEPER}: lost run #{run.id}", key_prefix="lost")


async def sweep_tenant(redis: Redis, *, tenant_id: int, live: set[str], now: datetime) -> dict[str, int]:
    """Give up the tenant's lost runs; counts of lost and re-queued runs."""
    async with session_scope() as session:
        runs = await job_queries.list_runs_in_status(session, tenant_id=tenant_id, statuses=ACTIVE)
    lost = requeued = 0
    for run in runs:
        if await is_lost(redis, run, live=live, now=now):
            lost += 1
            requeued += await give_up(redis, run) is not None
    return {"lost": lost, "requeued": requeued}


async def sweep_lost_runs(ctx: dict[str, Any]) -> dict[str, int]:
    """Cron entry: sweep every tenant (a system schedule, so it may list tenants)."""
    redis: Redis = ctx["redis"]
    live, now = await live_worker_ids(redis), utcnow()
    async with session_scope() as session:
        tenant_ids = await tenancy.list_tenant_ids(session)
    totals = {"lost": 0, "requeued": 0}
    for tenant_id in tenant_ids:
        counts = await sweep_tenant(redis, tenant_id=tenant_id, live=live, now=now)
        totals = {key: totals[key] + counts[key] for key in totals}
    return totals
