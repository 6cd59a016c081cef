"""User control of job runs: retry, cancel (ARQ abort) and bulk retry, each audited with the user."""

from __future__ import annotations

import contextlib

from arq.jobs import Job

from jobs.runtime.connections import get_arq, get_redis
from jobs.runtime.events import publish_event
from jobs.runtime.queue import enqueue_job
from jobs.runtime.tracking import cancel_request_key
from models.db import session_scope
from models.errors import Conflict
from models.ops import JobRun
from models.public.ops import JobRunPublic
from models.queries import jobs as job_queries
from models.queries.audit import record_audit

RETRYABLE = ("failed", "cancelled", "lost")
CANCELLABLE = ("queued", "running", "retrying")
BULK_LIMIT = 500
CANCEL_MARK_SECONDS = 3600


async def requeue(run: JobRun, *, triggered_by: str, key_prefix: str = "retry") -> JobRun:
    """A new run of `run`'s job with the same params, linked to it (deduplicated per original run)."""
    return await enqueue_job(run.name, tenant_id=run.tenant_id, triggered_by=triggered_by, params=run.params,
                             key=f"{key_prefix}-{run.id}", retry_of=run.id)


async def _audit(tenant_id: int, actor: str, action: str, target: str, **after: object) -> None:
    async with session_scope() as session:
        await record_audit(session, tenant_id=tenant_id, actor=actor, action=action, target=target, after=after)


async def retry_run(*, tenant_id: int, job_run_id: int, actor: str) -> JobRun:
    """Queue a failed, cancelled or lost run again as a new run; Conflict for any other status."""
    async with session_scope() as session:
        old = await job_queries.get_job_run(session, tenant_id=tenant_id, job_run_id=job_run_id)
    if old.status not in RETRYABLE:
        raise Conflict(f"run #{job_run_id} is {old.status}: only failed, cancelled or lost runs can be retried")
    if job_queries.is_permanent_failure(old):
        raise Conflict(f"run #{job_run_id} failed permanently ({old.error.removeprefix(job_queries.PERMANENT_PREFIX)}):"
                       " another attempt would fail the same way; fix the cause and start a new run")
    new = await requeue(old, triggered_by=actor)
    await _audit(tenant_id, actor, "job.retry", f"{old.name} #{old.id}", new_run=new.id)
    return new


async def cancel_run(*, tenant_id: int, job_run_id: int, actor: str) -> JobRun:
    """Abort a queued, retrying or running run; a running one is closed by its worker as cancelled."""
    async with session_scope() as session:
        run = await job_queries.get_job_run(session, tenant_id=tenant_id, job_run_id=job_run_id)
        if run.status not in CANCELLABLE:
            raise Conflict(f"run #{job_run_id} is {run.status}: only queued, retrying or running runs can be cancelled")
        before = run.status
        await get_redis().set(cancel_request_key(job_run_id), actor, ex=CANCEL_MARK_SECONDS)
        if before != "running":
            # No job function is running to record it: close the run here; the worker then skips it.
            run = await job_queries.mark_job_finished(
                session, tenant_id=tenant_id, job_run_id=job_run_id, status="cancelled", error=f"cancelled by {actor}"
            )
    # keep_result = 0, so abort() can never see a result: ask, do not wait.
    with contextlib.suppress(TimeoutError):
        await Job(run.arq_job_id, await get_arq()).abort(timeout=0, poll_delay=0.01)
    await publish_event(get_redis(), tenant_id=tenant_id, kind="job.updated", data=JobRunPublic.of(run).model_dump())
    await _audit(tenant_id, actor, "job.cancel", f"{run.name} #{run.id}", before_status=before)
    return run


async def retryable_failed_runs(*, tenant_id: int) -> list[JobRun]:
    """Failed runs that nobody retried yet and another attempt could fix (what bulk retry would queue)."""
    async with session_scope() as session:
        failed = await job_queries.list_runs_in_status(
            session, tenant_id=tenant_id, statuses=("failed",), limit=BULK_LIMIT
        )
        return [run for run in failed if not job_queries.is_permanent_failure(run)
                and not await job_queries.has_retry(session, tenant_id=tenant_id, job_run_id=run.id or 0)]


async def bulk_retry_failed(*, tenant_id: int, actor: str, expected: int | None = None) -> list[JobRun]:
    """Retry every failed run not yet retried; `expected` (the count the user confirmed) must still hold."""
    runs = await retryable_failed_runs(tenant_id=tenant_id)
    if expected is not None and expected != len(runs):
        raise Conflict(f"{len(runs)} failed runs can be retried now, not {expected}: check again and confirm")
    new_runs = [await requeue(run, triggered_by=actor) for run in runs]
    await _audit(tenant_id, actor, "job.bulk_retry", "failed runs", runs=[r.id for r in runs])
    return new_runs
